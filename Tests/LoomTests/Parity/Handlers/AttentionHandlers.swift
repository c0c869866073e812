@testable import Loom

// Handler for the attention kind: a decoder query attending over padded keys.

/// `additive_attention`: context and weights of `AdditiveAttention` with the fixture's
/// parameters, the keys serving as values.
enum AdditiveAttentionHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        var generator = RandomGenerator(seed: 0)
        var attention = AdditiveAttention<Scalar>(querySize: try fixture.int("query_size"), keySize: try fixture.int("key_size"),
                                                  attentionSize: try fixture.int("attention_size"), using: &generator)
        attention.keyProjection.weight = try fixture.tensor("param.key_projection.weight", as: Scalar.self).requiringGrad()
        attention.queryProjection.weight = try fixture.tensor("param.query_projection.weight", as: Scalar.self).requiringGrad()
        attention.queryProjection.bias = try fixture.tensor("param.query_projection.bias", as: Scalar.self).requiringGrad()
        attention.score.weight = try fixture.tensor("param.score.weight", as: Scalar.self).requiringGrad()
        let query = try fixture.tensor("query", as: Scalar.self).requiringGrad()
        let keys = try fixture.tensor("keys", as: Scalar.self).requiringGrad()
        let lengths = try fixture.intTensor("lengths").scalars
        let (context, weights) = try attention(query: query, keys: keys, lengths: lengths)
        let loss = (context * (try fixture.upstream(for: "context", of: context))).sum()
            + (weights * (try fixture.upstream(for: "weights", of: weights))).sum()
        loss.backward()
        var outputs = ParityOutputs()
        outputs.set("context", context)
        outputs.set("weights", weights)
        outputs.setGradient("grad.query", of: query)
        outputs.setGradient("grad.keys", of: keys)
        outputs.setGradient("grad.param.key_projection.weight", of: attention.keyProjection.weight)
        outputs.setGradient("grad.param.query_projection.weight", of: attention.queryProjection.weight)
        outputs.setGradient("grad.param.query_projection.bias", of: attention.queryProjection.bias!)
        outputs.setGradient("grad.param.score.weight", of: attention.score.weight)
        return outputs
    }
}
