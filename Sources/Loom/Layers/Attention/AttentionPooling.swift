/// Attention pooling of recurrent outputs into one vector per sequence (a many-to-one
/// classifier's head): `score_t = vᵀ tanh(W h_t + b)`, weights = masked softmax of the
/// scores over each sequence's own length, context = `Σ_t weight_t h_t`. It has no query;
/// a decoder that attends from its state uses `AdditiveAttention` or `dotProductAttention`.
///
/// Input `[batch, time, features]` (batch-first) plus lengths; returns the context
/// `[batch, features]` and the weights `[batch, time]` (zero past each length).
public struct AttentionPooling<Scalar: TensorScalar>: Module {
    /// `W` and `b`: features → attentionSize.
    public var projection: Linear<Scalar>
    /// `v`: attentionSize → 1, no bias.
    public var score: Linear<Scalar>

    /// Pooling over `features`-wide outputs with a hidden scoring size `attentionSize`.
    public init(features: Int, attentionSize: Int, using generator: inout RandomGenerator) {
        projection = Linear(features, attentionSize, using: &generator)
        score = Linear(attentionSize, 1, bias: false, using: &generator)
    }

    /// Pools `outputs` `[batch, time, features]` over each sequence's first `lengths[b]` steps.
    ///
    /// - Throws: `SequenceLengthError` when the lengths do not fit the batch.
    public func callAsFunction(_ outputs: Tensor<Scalar>, lengths: [Int]) throws -> (context: Tensor<Scalar>, weights: Tensor<Scalar>) {
        checkShape(outputs.rank == 3 && outputs.shape[2] == projection.inFeatures,
                   "AttentionPooling(features: \(projection.inFeatures)) expects [batch, time, \(projection.inFeatures)], got \(outputs.shape)")
        let batch = outputs.shape[0], time = outputs.shape[1]
        let scores = score(projection(outputs).tanh()).reshaped([batch, time])
        let weights = try maskedSoftmax(scores, lengths: lengths)
        let context = weights.unsqueezed(dim: 1).matmul(outputs).reshaped([batch, outputs.shape[2]])
        return (context, weights)
    }

    /// Visits `projection.*` and `score.*`.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        visitor.module("projection", &projection)
        visitor.module("score", &score)
    }
}
