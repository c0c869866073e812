/// Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and
/// (L2) weight decay — PyTorch's `torch.optim.SGD` update rule exactly.
public struct SGD<Scalar: TensorScalar>: Optimizer {
    /// The step size.
    public var learningRate: Scalar
    /// The momentum factor (0 for plain SGD).
    public var momentum: Scalar
    /// Dampening of the momentum update.
    public var dampening: Scalar
    /// The L2 penalty added to the gradient.
    public var weightDecay: Scalar
    /// Whether to use Nesterov momentum (needs momentum > 0 and no dampening).
    public var nesterov: Bool
    private var buffers = ParameterStateTable<Scalar, Tensor<Scalar>>()

    /// An SGD optimizer with PyTorch's defaults.
    public init(learningRate: Scalar, momentum: Scalar = 0, dampening: Scalar = 0, weightDecay: Scalar = 0, nesterov: Bool = false) {
        checkShape(!nesterov || (momentum > 0 && dampening == 0), "SGD: Nesterov momentum needs momentum > 0 and zero dampening")
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.weightDecay = weightDecay
        self.nesterov = nesterov
    }

    /// Applies one SGD update to `parameter` from its gradient.
    public mutating func update(_ parameter: inout Tensor<Scalar>, key: String) {
        guard let grad = parameter.grad else { return }
        let existing = buffers.take(key, for: parameter)
        let firstStep = existing == nil
        var buffer: Tensor<Scalar>? = momentum != 0 ? (existing ?? Tensor.zeros(like: parameter)) : nil
        let (lr, mu, damp, wd, nesterov) = (learningRate, momentum, dampening, weightDecay, self.nesterov)
        parameter.withUnsafeMutableBufferPointer { p in
            grad.withUnsafeBufferPointer { g in
                if buffer != nil {
                    buffer!.withUnsafeMutableBufferPointer { b in
                        Kernels.sgdStep(parameter: p.baseAddress!, gradient: g.baseAddress!, buffer: b.baseAddress!, count: p.count,
                                        learningRate: lr, momentum: mu, dampening: damp, weightDecay: wd, nesterov: nesterov, firstStep: firstStep)
                    }
                } else {
                    Kernels.sgdStep(parameter: p.baseAddress!, gradient: g.baseAddress!, buffer: nil, count: p.count,
                                    learningRate: lr, momentum: mu, dampening: damp, weightDecay: wd, nesterov: nesterov, firstStep: firstStep)
                }
            }
        }
        if let buffer { buffers.store(buffer, key, for: parameter) }
    }

    /// The momentum buffer of every parameter: `state.<key>.momentum_buffer`.
    public func stateDict() -> [String: Tensor<Scalar>] {
        var result: [String: Tensor<Scalar>] = [:]
        for (key, buffer) in buffers.sorted { result["state.\(key).momentum_buffer"] = buffer }
        return result
    }

    /// Replaces the momentum buffers by those of `stateDict` (see ``stateDict()``).
    public mutating func load(stateDict: [String: Tensor<Scalar>]) throws(OptimizerStateError) {
        let grouped = try groupOptimizerState(stateDict, optimizer: "SGD", buffers: ["momentum_buffer"])
        var loaded = ParameterStateTable<Scalar, Tensor<Scalar>>()
        for (key, entries) in grouped {
            let buffer = entries["momentum_buffer"]!
            loaded.storeLoaded(buffer.detached(), key, shape: buffer.shape)
        }
        buffers = loaded
    }

    /// Forgets all momentum buffers.
    public mutating func resetState() { buffers.removeAll() }
}
