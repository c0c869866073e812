/// Additive (Bahdanau) attention of a query over a padded batch of keys and values, as a
/// decoder step uses it: `e_i = vᵀ tanh(W_k k_i + W_q q + b_q)`, weights = softmax of `e`
/// over each sequence's first `lengths[b]` positions, context = `Σ_i weight_i value_i`.
///
/// Parameter names: `key_projection.weight` `[A, Hk]` (no bias), `query_projection.weight`
/// `[A, Hq]` and `query_projection.bias` `[A]`, `score.weight` `[1, A]` (no bias).
/// The keys' projection does not depend on the query, so a decoder computes it once per
/// batch with `projectKeys(_:)` and passes it to every step.
public struct AdditiveAttention<Scalar: TensorScalar>: Module {
    /// `W_k`: keySize → attentionSize, no bias.
    public var keyProjection: Linear<Scalar>
    /// `W_q` and `b_q`: querySize → attentionSize.
    public var queryProjection: Linear<Scalar>
    /// `v`: attentionSize → 1, no bias.
    public var score: Linear<Scalar>

    /// Attention of `querySize`-wide queries over `keySize`-wide keys through a hidden
    /// scoring size `attentionSize`, initialized as PyTorch's `nn.Linear` layers.
    public init(querySize: Int, keySize: Int, attentionSize: Int, using generator: inout RandomGenerator) {
        keyProjection = Linear(keySize, attentionSize, bias: false, using: &generator)
        queryProjection = Linear(querySize, attentionSize, using: &generator)
        score = Linear(attentionSize, 1, bias: false, using: &generator)
    }

    /// `W_k k` for every key: `[batch, time, keySize]` → `[batch, time, attentionSize]`.
    public func projectKeys(_ keys: Tensor<Scalar>) -> Tensor<Scalar> {
        checkShape(keys.rank == 3 && keys.shape[2] == keyProjection.inFeatures,
                   "AdditiveAttention(keySize: \(keyProjection.inFeatures)) expects keys [batch, time, \(keyProjection.inFeatures)], got \(keys.shape)")
        return keyProjection(keys)
    }

    /// Attends with `query` over keys already projected by `projectKeys(_:)`.
    ///
    /// - Parameters:
    ///   - query: `[batch, querySize]`.
    ///   - projectedKeys: `[batch, time, attentionSize]`.
    ///   - values: `[batch, time, valueSize]` (the keys themselves in Bahdanau's model).
    ///   - lengths: one length per sequence, each in `0...time`.
    /// - Returns: the context `[batch, valueSize]` and the weights `[batch, time]` (zero
    ///   past each length; a zero-length sequence gets zero weights and a zero context).
    /// - Throws: `SequenceLengthError` when the lengths do not fit the batch.
    public func callAsFunction(query: Tensor<Scalar>, projectedKeys: Tensor<Scalar>, values: Tensor<Scalar>,
                               lengths: [Int]) throws -> (context: Tensor<Scalar>, weights: Tensor<Scalar>) {
        let attentionSize = score.inFeatures
        checkShape(query.rank == 2 && query.shape[1] == queryProjection.inFeatures,
                   "AdditiveAttention(querySize: \(queryProjection.inFeatures)) expects query [batch, \(queryProjection.inFeatures)], got \(query.shape)")
        let batch = query.shape[0]
        checkShape(projectedKeys.rank == 3 && projectedKeys.shape[0] == batch && projectedKeys.shape[2] == attentionSize,
                   "AdditiveAttention(attentionSize: \(attentionSize)) expects projected keys [\(batch), time, \(attentionSize)], got \(projectedKeys.shape)")
        let time = projectedKeys.shape[1]
        checkShape(values.rank == 3 && values.shape[0] == batch && values.shape[1] == time,
                   "AdditiveAttention expects values [\(batch), \(time), valueSize], got \(values.shape)")
        let energies = (projectedKeys + queryProjection(query).unsqueezed(dim: 1)).tanh()
        let scores = score(energies).reshaped([batch, time])
        let weights = try maskedSoftmax(scores, lengths: lengths)
        let context = weights.unsqueezed(dim: 1).matmul(values).reshaped([batch, values.shape[2]])
        return (context, weights)
    }

    /// Attends with `query` `[batch, querySize]` over `keys` `[batch, time, keySize]`, which
    /// also serve as the values unless `values` `[batch, time, valueSize]` is given.
    /// Returns the context `[batch, valueSize]` and the weights `[batch, time]`.
    ///
    /// - Throws: `SequenceLengthError` when the lengths do not fit the batch.
    public func callAsFunction(query: Tensor<Scalar>, keys: Tensor<Scalar>, values: Tensor<Scalar>? = nil,
                               lengths: [Int]) throws -> (context: Tensor<Scalar>, weights: Tensor<Scalar>) {
        try self(query: query, projectedKeys: projectKeys(keys), values: values ?? keys, lengths: lengths)
    }

    /// Visits `key_projection.*`, `query_projection.*` and `score.*`.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        visitor.module("key_projection", &keyProjection)
        visitor.module("query_projection", &queryProjection)
        visitor.module("score", &score)
    }
}
