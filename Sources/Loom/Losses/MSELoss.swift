// Mean squared error between a prediction and a target.

/// The squared error `(prediction - target)^2` elementwise, reduced (PyTorch's
/// `F.mse_loss`). The gradient is `2 (prediction - target)` for the prediction and its
/// negative for the target, times each element's upstream gradient.
///
/// - Parameters:
///   - prediction: any shape.
///   - target: the same shape.
///   - reduction: `.mean` over all elements (0 for an empty input), `.sum`, or `.none`
///     (the shape of `prediction`).
/// - Returns: a scalar, or a tensor of `prediction.shape` for `.none`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func mseLoss<Scalar>(_ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>,
                            reduction: Reduction = .mean) -> Tensor<Scalar> {
    checkShape(prediction.shape == target.shape,
               "mseLoss: prediction \(prediction.shape) and target \(target.shape) must have the same shape")
    let count = prediction.count
    let p = prediction.storage.base, t = target.storage.base
    var losses = [Scalar](repeating: 0, count: count)
    for i in 0..<count {
        let difference = p[i] - t[i]
        losses[i] = difference * difference
    }
    let result = reduction.reduce(losses, shape: prediction.shape, divisor: count)
    return result.recorded("mseLoss", inputs: [prediction, target]) {
        let wantPrediction = prediction.requiresGrad, wantTarget = target.requiresGrad
        let prediction = prediction.detached(), target = target.detached()
        return { g in
            let upstream = reduction.elementGradient(g, divisor: count)
            let p = prediction.storage.base, t = target.storage.base
            let gradPrediction = Tensor<Scalar>(shape: prediction.shape) { out in
                for i in 0..<count { out[i] = 2 * upstream(i) * (p[i] - t[i]) }
            }
            return [wantPrediction ? gradPrediction : nil, wantTarget ? -gradPrediction : nil]
        }
    }
}
