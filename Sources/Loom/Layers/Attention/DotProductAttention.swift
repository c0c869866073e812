/// Dot-product (Luong) attention of a query over a padded batch of keys and values:
/// `e_i = scale · (q · k_i)`, weights = softmax of `e` over each sequence's first
/// `lengths[b]` positions, context = `Σ_i weight_i value_i`. It has no parameters; with
/// `scale` = 1/√keySize it is PyTorch's `scaled_dot_product_attention` for one query per
/// sequence and a length mask.
///
/// - Parameters:
///   - query: `[batch, keySize]`.
///   - keys: `[batch, time, keySize]`.
///   - values: `[batch, time, valueSize]`; the keys when `nil`.
///   - lengths: one length per sequence, each in `0...time`.
///   - scale: the factor on every score (1 for Luong's dot score).
/// - Returns: the context `[batch, valueSize]` and the weights `[batch, time]` (zero past
///   each length; all zero for a zero length).
/// - Throws: `SequenceLengthError` when the lengths do not fit the batch.
public func dotProductAttention<Scalar>(query: Tensor<Scalar>, keys: Tensor<Scalar>, values: Tensor<Scalar>? = nil,
                                        lengths: [Int], scale: Scalar = 1) throws
    -> (context: Tensor<Scalar>, weights: Tensor<Scalar>) {
    checkShape(query.rank == 2 && keys.rank == 3 && keys.shape[0] == query.shape[0] && keys.shape[2] == query.shape[1],
               "dotProductAttention: expects query [batch, size] and keys [batch, time, size], got \(query.shape) and \(keys.shape)")
    let batch = keys.shape[0], time = keys.shape[1]
    let values = values ?? keys
    checkShape(values.rank == 3 && values.shape[0] == batch && values.shape[1] == time,
               "dotProductAttention: expects values [\(batch), \(time), valueSize], got \(values.shape)")
    var scores = keys.matmul(query.unsqueezed(dim: 2)).reshaped([batch, time])
    if scale != 1 { scores = scores * scale }
    let weights = try maskedSoftmax(scores, lengths: lengths)
    let context = weights.unsqueezed(dim: 1).matmul(values).reshaped([batch, values.shape[2]])
    return (context, weights)
}
