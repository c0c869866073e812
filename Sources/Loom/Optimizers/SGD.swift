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
    private var buffers: [String: Tensor<Scalar>] = [:]

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
        let firstStep = buffers[key] == nil
        var buffer: Tensor<Scalar>? = momentum != 0 ? (buffers.removeValue(forKey: key) ?? Tensor.zeros(like: parameter)) : nil
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
        if let buffer { buffers[key] = buffer }
    }
}
