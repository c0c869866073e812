extension Tensor {
    /// Back-propagates from this tensor: walks the tape from here back to the leaves in
    /// reverse recording order and accumulates d(self)/d(leaf) into every leaf's `grad`
    /// (adding to what is there, as PyTorch does).
    ///
    /// - Parameters:
    ///   - gradient: the upstream gradient, of this tensor's shape. Defaults to ones for a
    ///     one-element tensor; required otherwise.
    ///   - retainGraph: keep the graph so `backward` can run through it again. By default
    ///     each node's saved tensors are released as the walk passes it.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func backward(_ gradient: Tensor? = nil, retainGraph: Bool = false) {
        guard let root = node else {
            fatalError("backward: this tensor does not require a gradient (no input of its graph was marked requiresGrad)")
        }
        let seed: Tensor
        if let gradient {
            checkShape(gradient.shape == shape, "backward: gradient shape \(gradient.shape) does not match tensor shape \(shape)")
            seed = gradient.detached()
        } else {
            checkShape(count == 1, "backward: a gradient is needed for a tensor of shape \(shape) (only one-element tensors default to ones)")
            seed = Tensor(shape: shape, scalars: [1])
        }
        Tape.withoutGradient {
            let order = GradientWalk.topologicalOrder(from: root)
            GradientWalk.accumulate(seed, into: root)
            for node in order {
                if node.isLeaf { continue }
                guard let grad = node.takeGradient() else {
                    if !retainGraph { node.release() }
                    continue
                }
                guard let backward = node.backward else {
                    fatalError("backward: the graph through '\(node.name)' was already released; pass retainGraph: true to the first backward to run it twice")
                }
                let inputGrads = backward(grad)
                for (input, inputGrad) in zip(node.inputs, inputGrads) {
                    guard let input, let inputGrad else { continue }
                    GradientWalk.accumulate(inputGrad, into: input)
                }
                if !retainGraph { node.release() }
            }
        }
    }
}

/// The steps of one backward walk over the tape.
enum GradientWalk {
    /// Every op node reachable from `root` plus the leaves, sorted by decreasing sequence
    /// number (reverse recording order). Iterative, so deep graphs do not exhaust the stack.
    /// The walk's own set of visited nodes keeps concurrent walks over shared nodes apart.
    static func topologicalOrder<Scalar>(from root: GradNode<Scalar>) -> [GradNode<Scalar>] {
        var found: [GradNode<Scalar>] = []
        var visited: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
        var stack = [root]
        while let node = stack.popLast() {
            found.append(node)
            for case let input? in node.inputs where visited.insert(ObjectIdentifier(input)).inserted {
                stack.append(input)
            }
        }
        found.sort { $0.sequence > $1.sequence }
        return found
    }

    /// Adds `gradient` to the node's accumulated gradient, checking its shape.
    static func accumulate<Scalar>(_ gradient: Tensor<Scalar>, into node: GradNode<Scalar>) {
        checkShape(gradient.shape == node.shape,
                   "backward of '\(node.name)': gradient shape \(gradient.shape) does not match \(node.shape)")
        node.accumulate(gradient)
    }
}
