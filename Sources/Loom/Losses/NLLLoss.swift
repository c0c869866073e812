// Negative log-likelihood of log-probabilities against class targets.

/// The negative log-likelihood loss (PyTorch's `F.nll_loss`): `loss[n] = -logProbs[n,
/// targets[n]]`. The gradient is `-1` (times the sample's upstream gradient) at each
/// picked entry and 0 elsewhere.
///
/// - Parameters:
///   - logProbs: `[N, C]`, typically the output of `logSoftmax(dim: 1)`.
///   - targets: `[N]`, each a class in `0..<C` or `ignoreIndex`.
///   - ignoreIndex: a target value whose samples contribute neither loss nor gradient.
///   - reduction: `.mean` divides by the number of targets that are not ignored; `.sum`
///     adds; `.none` returns `[N]` with 0 at ignored samples.
/// - Returns: a scalar, or `[N]` for `.none`.
///
/// Unlike PyTorch, which returns NaN when every target is ignored under `.mean`, Loom
/// returns 0 with a zero gradient.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func nllLoss<Scalar>(_ logProbs: Tensor<Scalar>, _ targets: IntTensor, ignoreIndex: Int = -100,
                            reduction: Reduction = .mean) -> Tensor<Scalar> {
    checkShape(logProbs.rank == 2, "nllLoss expects logProbs [N, C] and targets [N], got logProbs \(logProbs.shape)")
    let n = logProbs.shape[0], classes = logProbs.shape[1]
    checkShape(targets.shape == [n], "nllLoss expects logProbs [N, C] and targets [N], got logProbs \(logProbs.shape) and targets \(targets.shape)")
    let labels = targets.scalars
    for label in labels where label != ignoreIndex && (label < 0 || label >= classes) {
        checkShape(false, "nllLoss: target \(label) is out of range for \(classes) classes (ignoreIndex \(ignoreIndex))")
    }
    let counted = labels.reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) }
    let x = logProbs.storage.base
    var losses = [Scalar](repeating: 0, count: n)
    for row in 0..<n where labels[row] != ignoreIndex {
        losses[row] = -x[row * classes + labels[row]]
    }
    let result = reduction.reduce(losses, shape: [n], divisor: counted)
    return result.recorded("nllLoss", inputs: [logProbs]) {
        { g in
            let upstream = reduction.elementGradient(g, divisor: counted)
            return [Tensor<Scalar>(shape: [n, classes]) { out in
                out.initialize(repeating: 0)
                for row in 0..<n where labels[row] != ignoreIndex {
                    out[row * classes + labels[row]] = -upstream(row)
                }
            }]
        }
    }
}
