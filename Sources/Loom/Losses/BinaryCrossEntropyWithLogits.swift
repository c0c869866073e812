// Binary cross-entropy on logits, in the stable form that never takes exp of a large
// positive number.

/// The binary cross-entropy of `logits` against probabilities `targets` (PyTorch's
/// `F.binary_cross_entropy_with_logits`), elementwise
/// `max(x, 0) - x * t + log1p(exp(-|x|))`, which is exact for large |x| (±60 and beyond,
/// in `Float` too). The gradient is `sigmoid(x) - t` for the logits and `-x` for the
/// targets, times each element's upstream gradient.
///
/// - Parameters:
///   - logits: any shape.
///   - targets: the same shape, values in [0, 1].
///   - reduction: `.mean` over all elements (0 for an empty input), `.sum`, or `.none`
///     (the shape of `logits`).
/// - Returns: a scalar, or a tensor of `logits.shape` for `.none`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func binaryCrossEntropyWithLogits<Scalar>(_ logits: Tensor<Scalar>, _ targets: Tensor<Scalar>,
                                                 reduction: Reduction = .mean) -> Tensor<Scalar> {
    checkShape(logits.shape == targets.shape,
               "binaryCrossEntropyWithLogits: logits \(logits.shape) and targets \(targets.shape) must have the same shape")
    let count = logits.count
    let x = logits.storage.base, t = targets.storage.base
    var losses = [Scalar](repeating: 0, count: count)
    for i in 0..<count {
        let value = x[i]
        losses[i] = Swift.max(value, 0) - value * t[i] + Scalar.log1p(Scalar.exp(-Swift.abs(value)))
    }
    let result = reduction.reduce(losses, shape: logits.shape, divisor: count)
    return result.recorded("binaryCrossEntropyWithLogits", inputs: [logits, targets]) {
        let wantLogits = logits.requiresGrad, wantTargets = targets.requiresGrad
        let logits = logits.detached(), targets = targets.detached()
        return { g in
            let upstream = reduction.elementGradient(g, divisor: count)
            let x = logits.storage.base, t = targets.storage.base
            let gradLogits = wantLogits ? Tensor<Scalar>(shape: logits.shape) { out in
                for i in 0..<count { out[i] = upstream(i) * (SigmoidKernel.apply(x[i]) - t[i]) }
            } : nil
            let gradTargets = wantTargets ? Tensor<Scalar>(shape: logits.shape) { out in
                for i in 0..<count { out[i] = -upstream(i) * x[i] }
            } : nil
            return [gradLogits, gradTargets]
        }
    }
}
