// Softmax over the first `length` steps of each row: attention weights over a padded batch.

/// Softmax over the time axis of `scores` where only the first `lengths[b]` steps of row
/// b take part.
///
/// - Parameters:
///   - scores: `[batch, time]`.
///   - lengths: one length per row, each in `0...time`.
/// - Returns: `[batch, time]` weights: each row's first `lengths[b]` entries sum to 1,
///   positions at or past a length are exactly zero and get no gradient, and a zero-length
///   row is all zeros (not NaN). The gradient inside a row is the softmax gradient of that
///   row's prefix.
/// - Throws: `SequenceLengthError` when the lengths do not fit the batch (the same error the
///   recurrent layers throw).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func maskedSoftmax<Scalar>(_ scores: Tensor<Scalar>, lengths: [Int]) throws -> Tensor<Scalar> {
    checkShape(scores.rank == 2, "maskedSoftmax: expects scores [batch, time], got \(scores.shape)")
    let batch = scores.shape[0], time = scores.shape[1]
    try SequenceLengthError.validate(lengths, batch: batch, time: time, in: "maskedSoftmax")
    let weights = Tensor<Scalar>(shape: scores.shape) { out in
        let source = scores.storage.base
        let target = out.baseAddress!
        target.initialize(repeating: 0, count: batch * time)
        for (row, length) in lengths.enumerated() where length > 0 {
            Kernels.softmaxRow(source + row * time, count: length, target + row * time, logarithm: false)
        }
    }
    return weights.recorded("maskedSoftmax", inputs: [scores]) {
        let weights = weights.detached()
        return { g in
            [Tensor(shape: weights.shape) { out in
                let target = out.baseAddress!
                target.initialize(repeating: 0, count: batch * time)
                for (row, length) in lengths.enumerated() where length > 0 {
                    Kernels.softmaxBackwardMiddleAxis(g.storage.base + row * time, weights.storage.base + row * time,
                                                      outer: 1, length: length, inner: 1, target + row * time,
                                                      logarithm: false)
                }
            }]
        }
    }
}
