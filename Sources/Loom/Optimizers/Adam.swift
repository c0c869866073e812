/// Adam (PyTorch's `torch.optim.Adam`) and, with `decoupledWeightDecay`, AdamW
/// (`torch.optim.AdamW`): bias-corrected first and second moment estimates. Adam's weight
/// decay is added to the gradient (L2); AdamW's multiplies the parameter by `1 - lr·wd`
/// before the step.
public struct Adam<Scalar: TensorScalar>: Optimizer {
    /// The step size.
    public var learningRate: Scalar
    /// Decay rates of the first and second moment estimates.
    public var betas: (Scalar, Scalar)
    /// Added to the denominator for stability.
    public var epsilon: Scalar
    /// The weight decay factor.
    public var weightDecay: Scalar
    /// Whether weight decay is decoupled from the gradient (AdamW) or added to it (Adam).
    public let decoupledWeightDecay: Bool

    private struct Moments {
        var step = 0
        var first: Tensor<Scalar>
        var second: Tensor<Scalar>
    }
    private var state = ParameterStateTable<Scalar, Moments>()
    /// Parameters with at least this many elements are updated by `Threads.count` threads.
    static var parallelMinimumCount: Int { 1 << 18 }

    /// Adam with PyTorch's defaults (`betas` 0.9/0.999, `eps` 1e-8, no weight decay).
    public init(learningRate: Scalar = 1e-3, betas: (Scalar, Scalar) = (0.9, 0.999), epsilon: Scalar = 1e-8,
                weightDecay: Scalar = 0, decoupledWeightDecay: Bool = false) {
        self.learningRate = learningRate
        self.betas = betas
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
    }

    /// AdamW with PyTorch's defaults (weight decay 0.01, decoupled).
    public static func adamW(learningRate: Scalar = 1e-3, betas: (Scalar, Scalar) = (0.9, 0.999), epsilon: Scalar = 1e-8,
                             weightDecay: Scalar = 0.01) -> Adam {
        Adam(learningRate: learningRate, betas: betas, epsilon: epsilon, weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    /// Applies one Adam/AdamW update to `parameter` from its gradient.
    public mutating func update(_ parameter: inout Tensor<Scalar>, key: String) {
        guard let grad = parameter.grad else { return }
        var moments = state.take(key, for: parameter) ?? Moments(first: Tensor.zeros(like: parameter), second: Tensor.zeros(like: parameter))
        moments.step += 1
        let (beta1, beta2) = betas
        let t = Scalar(moments.step)
        let biasCorrection1 = 1 - Scalar.pow(beta1, t)
        let biasCorrection2 = 1 - Scalar.pow(beta2, t)
        let stepSize = learningRate / biasCorrection1
        let l2: Scalar = decoupledWeightDecay ? 0 : weightDecay
        let decay: Scalar = decoupledWeightDecay ? 1 - learningRate * weightDecay : 1
        let epsilon = self.epsilon
        parameter.withUnsafeMutableBufferPointer { p in
            grad.withUnsafeBufferPointer { g in
                moments.first.withUnsafeMutableBufferPointer { m in
                    moments.second.withUnsafeMutableBufferPointer { v in
                        // Elementwise, so splitting the range over threads (large tensors only,
                        // such as an embedding table) gives bitwise the same result.
                        let (pBase, gBase, mBase, vBase) = (p.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!)
                        let root = biasCorrection2.squareRoot()
                        let parts = p.count >= Self.parallelMinimumCount ? Threads.count : 1
                        let ranges = Parallel.partition(count: p.count, parts: parts, granularity: 1024)
                        Parallel.forEach(ranges.count) { part in
                            let range = ranges[part]
                            Kernels.adamStep(parameter: pBase + range.lowerBound, gradient: gBase + range.lowerBound,
                                             firstMoment: mBase + range.lowerBound, secondMoment: vBase + range.lowerBound,
                                             count: range.count, beta1: beta1, beta2: beta2, epsilon: epsilon,
                                             stepSize: stepSize, biasCorrection2Root: root, l2: l2, decay: decay)
                        }
                    }
                }
            }
        }
        state.store(moments, key, for: parameter)
    }

    /// The moments and step count of every parameter: `state.<key>.exp_avg`,
    /// `state.<key>.exp_avg_sq` and `state.<key>.step` (a one-element tensor).
    public func stateDict() -> [String: Tensor<Scalar>] {
        var result: [String: Tensor<Scalar>] = [:]
        for (key, moments) in state.sorted {
            result["state.\(key).exp_avg"] = moments.first
            result["state.\(key).exp_avg_sq"] = moments.second
            result["state.\(key).step"] = Tensor(shape: [1], scalars: [Scalar(moments.step)])
        }
        return result
    }

    /// Replaces the moments and step counts by those of `stateDict` (see ``stateDict()``).
    public mutating func load(stateDict: [String: Tensor<Scalar>]) throws(OptimizerStateError) {
        let grouped = try groupOptimizerState(stateDict, optimizer: "Adam", buffers: ["exp_avg", "exp_avg_sq", "step"])
        var loaded = ParameterStateTable<Scalar, Moments>()
        for (key, buffers) in grouped {
            guard let first = buffers["exp_avg"], let second = buffers["exp_avg_sq"], let step = buffers["step"] else {
                throw OptimizerStateError("Adam state of \"\(key)\": needs exp_avg, exp_avg_sq and step")
            }
            guard first.shape == second.shape else {
                throw OptimizerStateError("Adam state of \"\(key)\": exp_avg \(first.shape) and exp_avg_sq \(second.shape) differ in shape")
            }
            guard step.count == 1, let count = Int(exactly: step.scalars[0]), count >= 0 else {
                throw OptimizerStateError("Adam state of \"\(key)\": step must be one non-negative whole number")
            }
            loaded.storeLoaded(Moments(step: count, first: first.detached(), second: second.detached()), key, shape: first.shape)
        }
        state = loaded
    }

    /// Forgets all moments and step counts.
    public mutating func resetState() { state.removeAll() }
}
