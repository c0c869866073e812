// Cross-entropy of logits against class targets, fused: one stable log-softmax-and-pick
// pass forward and `softmax - onehot` backward.

/// The cross-entropy loss of unnormalized `logits` against class `targets` (PyTorch's
/// `F.cross_entropy`): `loss[n] = logsumexp(logits[n]) - logits[n, targets[n]]`, computed
/// in one stable pass (the row maximum is subtracted before `exp`). The gradient is
/// `softmax(logits[n]) - onehot(targets[n])` times the upstream gradient of that sample.
///
/// - Parameters:
///   - logits: `[N, C]`, or `[N, C, T]` for a target per position (PyTorch's layout for
///     sequence outputs: the class axis second).
///   - targets: `[N]` (or `[N, T]`), each a class in `0..<C` or `ignoreIndex`; padding a
///     batch of target sequences with `ignoreIndex` (`Batching.padTargets`) makes this the
///     masked token loss over target lengths.
///   - ignoreIndex: a target value whose samples contribute neither loss nor gradient.
///   - reduction: `.mean` divides by the number of targets that are not ignored; `.sum`
///     adds; `.none` returns `[N]` with 0 at ignored samples.
/// - Returns: a scalar, or the targets' shape for `.none`.
///
/// Unlike PyTorch, which returns NaN when every target is ignored under `.mean`, Loom
/// returns 0 with a zero gradient, so a batch made only of padding does not poison training.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func crossEntropy<Scalar>(_ logits: Tensor<Scalar>, _ targets: IntTensor, ignoreIndex: Int = -100,
                                 reduction: Reduction = .mean) -> Tensor<Scalar> {
    if logits.rank == 3 {
        checkShape(targets.shape == [logits.shape[0], logits.shape[2]],
                   "crossEntropy expects logits [N, C, T] and targets [N, T], got logits \(logits.shape) and targets \(targets.shape)")
        let rows = logits.transposed(1, 2).reshaped([-1, logits.shape[1]])
        let loss = crossEntropy(rows, targets.reshaped([-1]), ignoreIndex: ignoreIndex, reduction: reduction)
        return reduction == .none ? loss.reshaped(targets.shape) : loss
    }
    checkShape(logits.rank == 2, "crossEntropy expects logits [N, C] and targets [N], got logits \(logits.shape)")
    let n = logits.shape[0], classes = logits.shape[1]
    checkShape(targets.shape == [n], "crossEntropy expects logits [N, C] and targets [N], got logits \(logits.shape) and targets \(targets.shape)")
    let labels = targets.scalars
    for label in labels where label != ignoreIndex && (label < 0 || label >= classes) {
        checkShape(false, "crossEntropy: target \(label) is out of range for \(classes) classes (ignoreIndex \(ignoreIndex))")
    }
    let counted = labels.reduce(0) { $0 + ($1 == ignoreIndex ? 0 : 1) }
    var losses = [Scalar](repeating: 0, count: n)
    // Per row, the maximum and log(sum(exp(x - max))): loss = (max - x[target]) + logSum.
    var maxima = [Scalar](repeating: 0, count: n)
    var logSums = [Scalar](repeating: 0, count: n)
    let x = logits.storage.base
    for row in 0..<n where labels[row] != ignoreIndex {
        let (m, logSum) = Kernels.shiftedLogSumExp(x + row * classes, count: classes)
        maxima[row] = m
        logSums[row] = logSum
        losses[row] = (m - x[row * classes + labels[row]]) + logSum
    }
    let result = reduction.reduce(losses, shape: [n], divisor: counted)
    return result.recorded("crossEntropy", inputs: [logits]) {
        let logits = logits.detached()
        return { g in
            let upstream = reduction.elementGradient(g, divisor: counted)
            return [Tensor<Scalar>(shape: [n, classes]) { out in
                let x = logits.storage.base
                for row in 0..<n {
                    let dst = out.baseAddress! + row * classes
                    let label = labels[row]
                    let weight = upstream(row)
                    if label == ignoreIndex || weight == 0 {
                        dst.initialize(repeating: 0, count: classes)
                        continue
                    }
                    // weight * (softmax - onehot), softmax = exp((x - max) - logSum).
                    let m = maxima[row], logSum = logSums[row]
                    for c in 0..<classes { dst[c] = weight * Scalar.exp((x[row * classes + c] - m) - logSum) }
                    dst[label] -= weight
                }
            }]
        }
    }
}
