// Reversing each sequence of a padded batch inside its own length: the input of the
// reverse direction of a bidirectional recurrent layer.

/// Reverses every sequence of a padded batch within its first `lengths[b]` time steps;
/// steps at or past a sequence's length stay where they are.
///
/// - Parameters:
///   - x: `[batch, time, *]` when `batchFirst`, else `[time, batch, *]`.
///   - lengths: one length per sequence, each in `0...time`.
///   - batchFirst: the layout of `x`.
/// - Returns: a tensor of `x.shape` with `y[b, t] = x[b, lengths[b] - 1 - t]` for
///   `t < lengths[b]` and `y[b, t] = x[b, t]` otherwise. The permutation is its own
///   inverse, and the gradient applies it to the upstream gradient.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func reversePaddedSequence<Scalar>(_ x: Tensor<Scalar>, lengths: [Int], batchFirst: Bool) -> Tensor<Scalar> {
    let layout = batchFirst ? "[batch, time, *]" : "[time, batch, *]"
    checkShape(x.rank >= 2, "reversePaddedSequence(batchFirst: \(batchFirst)) expects \(layout), got \(x.shape)")
    let batch = batchFirst ? x.shape[0] : x.shape[1]
    let time = batchFirst ? x.shape[1] : x.shape[0]
    checkShape(lengths.count == batch,
               "reversePaddedSequence(batchFirst: \(batchFirst)): \(lengths.count) lengths for a batch of \(batch) (x of shape \(x.shape))")
    for (b, length) in lengths.enumerated() {
        checkShape(length >= 0 && length <= time,
                   "reversePaddedSequence: lengths[\(b)] = \(length) is outside 0...\(time) time steps (x of shape \(x.shape))")
    }
    let inner = Shape.count(of: Array(x.shape[2...]))
    // Offsets (in elements) of step (b, t): batch-first rows are [b][t], time-first [t][b].
    let batchStride = batchFirst ? time * inner : inner
    let timeStride = batchFirst ? inner : batch * inner

    func permuted(_ source: Tensor<Scalar>) -> Tensor<Scalar> {
        Tensor<Scalar>(shape: source.shape) { out in
            let src = source.storage.base
            let dst = out.baseAddress!
            for b in 0..<batch {
                let length = lengths[b]
                for t in 0..<time {
                    let from = t < length ? length - 1 - t : t
                    (dst + b * batchStride + t * timeStride)
                        .initialize(from: src + b * batchStride + from * timeStride, count: inner)
                }
            }
        }
    }

    return permuted(x).recorded("reversePaddedSequence", inputs: [x]) {
        { g in [permuted(g)] }
    }
}
