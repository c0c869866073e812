extension Tensor {
    /// Whether this tensor takes part in gradient computation: a leaf marked so, or the
    /// result of a recorded op on such tensors.
    public var requiresGrad: Bool {
        get { node != nil }
        set {
            if newValue {
                if node == nil { node = GradNode(name: "leaf", shape: shape, inputs: [], backward: nil, isLeaf: true) }
            } else {
                node = nil
            }
        }
    }

    /// A copy of this tensor marked as a leaf that collects a gradient (PyTorch's
    /// `requires_grad_()`). A tensor that already requires a gradient is returned unchanged.
    public func requiringGrad() -> Tensor {
        var copy = self
        copy.requiresGrad = true
        return copy
    }

    /// The same values with no place on the tape: gradients do not flow through it
    /// (PyTorch's `detach()`). Shares storage; no copy.
    public func detached() -> Tensor {
        Tensor(shape: shape, storage: storage)
    }

    /// Whether this tensor is a leaf of the tape (created by the user, not by an op).
    public var isLeaf: Bool { node?.isLeaf ?? true }

    /// The gradient accumulated in this leaf by `backward()`, or `nil` if none has flowed
    /// here yet (or since `zeroGrad()`). Always `nil` for a tensor that is not a leaf.
    public var grad: Tensor? {
        get { node?.isLeaf == true ? node?.grad : nil }
        nonmutating set {
            guard let node, node.isLeaf else { return }
            if let newValue {
                checkShape(newValue.shape == shape, "grad: shape \(newValue.shape) does not match tensor shape \(shape)")
            }
            node.grad = newValue?.detached()
        }
    }

    /// Clears the accumulated gradient (PyTorch's `zero_grad(set_to_none=True)`).
    public func zeroGrad() {
        grad = nil
    }

    /// Whether an op on these inputs must be recorded: recording is on and at least one
    /// input requires a gradient.
    static func shouldRecord(_ inputs: Tensor...) -> Bool {
        guard Tape.isRecording else { return false }
        for input in inputs where input.node != nil { return true }
        return false
    }

    /// Whether an op on these inputs must be recorded (array form).
    static func shouldRecord(_ inputs: [Tensor]) -> Bool {
        guard Tape.isRecording else { return false }
        for input in inputs where input.node != nil { return true }
        return false
    }

    /// Puts this freshly computed tensor on the tape as the output of op `name` applied to
    /// `inputs`. `backward` maps the gradient of this tensor to one gradient per input
    /// (`nil` where `inputs[i]` does not require one; the result for such inputs is ignored).
    /// Call only when `shouldRecord(inputs)` is true.
    mutating func record(_ name: String, inputs: [Tensor], backward: @escaping GradNode<Scalar>.Backward) {
        node = GradNode(name: name, shape: shape, inputs: inputs.map(\.node), backward: backward, isLeaf: false)
    }

    /// Returns `self` recorded as the output of op `name` (see `record`) when any input
    /// requires a gradient, and unrecorded otherwise. `backward` is only built if needed.
    func recorded(_ name: String, inputs: [Tensor], backward: () -> GradNode<Scalar>.Backward) -> Tensor {
        guard Tensor.shouldRecord(inputs) else { return self }
        var result = self
        result.record(name, inputs: inputs, backward: backward())
        return result
    }
}
