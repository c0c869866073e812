/// Softmax over the time axis of `scores` `[batch, time]` where only the first
/// `lengths[b]` steps of row b take part: positions at or past a length get exactly zero
/// weight, and a zero-length row gets all zeros (not NaN).
public func maskedSoftmax<Scalar>(_ scores: Tensor<Scalar>, lengths: [Int]) -> Tensor<Scalar> {
    checkShape(scores.rank == 2 && lengths.count == scores.shape[0],
               "maskedSoftmax: expects scores [batch, time] and one length per row, got \(scores.shape) and \(lengths.count) lengths")
    let time = scores.shape[1]
    let valid = BoolTensor(shape: scores.shape, scalars: lengths.flatMap { length in (0..<time).map { $0 < length } })
    let padding = BoolTensor(shape: valid.shape, scalars: valid.scalars.map { !$0 })
    // A large finite fill makes exp underflow to exactly 0 without producing NaN in rows
    // that are entirely padding; those rows are then zeroed by `where`.
    let weights = scores.maskedFill(padding, with: -1e30).softmax(dim: 1)
    return Tensor.where(valid, weights, Tensor(0))
}

/// Additive (Bahdanau-style) attention pooling over recurrent outputs: for each sequence,
/// `score_t = vᵀ tanh(W h_t + b)`, weights = masked softmax of the scores over its own
/// length, context = Σ_t weight_t h_t.
///
/// Input `[batch, time, features]` (batch-first) plus lengths; returns the context
/// `[batch, features]` and the weights `[batch, time]` (zero past each length).
public struct AdditiveAttention<Scalar: TensorScalar>: Module {
    /// `W` and `b`: features → attentionSize.
    public var projection: Linear<Scalar>
    /// `v`: attentionSize → 1, no bias.
    public var score: Linear<Scalar>

    /// Attention over `features`-wide outputs with a hidden scoring size `attentionSize`.
    public init(features: Int, attentionSize: Int, using generator: inout RandomGenerator) {
        projection = Linear(features, attentionSize, using: &generator)
        score = Linear(attentionSize, 1, bias: false, using: &generator)
    }

    /// Pools `outputs` `[batch, time, features]` over each sequence's first `lengths[b]` steps.
    public func callAsFunction(_ outputs: Tensor<Scalar>, lengths: [Int]) -> (context: Tensor<Scalar>, weights: Tensor<Scalar>) {
        checkShape(outputs.rank == 3 && outputs.shape[2] == projection.inFeatures && lengths.count == outputs.shape[0],
                   "AdditiveAttention(features: \(projection.inFeatures)) expects [batch, time, \(projection.inFeatures)] and one length per sequence, got \(outputs.shape) and \(lengths.count) lengths")
        let batch = outputs.shape[0], time = outputs.shape[1]
        let scores = score(projection(outputs).tanh()).reshaped([batch, time])
        let weights = maskedSoftmax(scores, lengths: lengths)
        let context = weights.unsqueezed(dim: 1).matmul(outputs).reshaped([batch, outputs.shape[2]])
        return (context, weights)
    }

    /// Visits `projection.*` and `score.*`.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        visitor.module("projection", &projection)
        visitor.module("score", &score)
    }
}
