import Foundation
import Testing
@testable import Loom

@Suite struct AttentionTests {
    @Test func maskedSoftmaxGivesZeroWeightPastTheLength() throws {
        let scores = Tensor<Double>([[1, 2, 3], [5, 5, 5], [0, 0, 0]])
        let w = try maskedSoftmax(scores, lengths: [2, 3, 0])
        let e1 = 1.0 / (1 + Foundation.exp(1.0))
        #expect(Swift.abs(w[0, 0] - e1) < 1e-15 && Swift.abs(w[0, 1] - (1 - e1)) < 1e-15 && w[0, 2] == 0)
        #expect(Swift.abs(w[1, 1] - 1.0 / 3) < 1e-15)
        #expect(w.scalars[6...].allSatisfy { $0 == 0 })
    }

    @Test func maskedSoftmaxGradientChecksAndIgnoresPadding() throws {
        var generator = RandomGenerator(seed: 3)
        let scores = Tensor<Double>.randn([3, 5], using: &generator)
        let upstream = Tensor<Double>.randn([3, 5], using: &generator)
        let report = gradientCheck([scores]) { xs in try! maskedSoftmax(xs[0], lengths: [5, 2, 0]) * upstream }
        #expect(report.passed, "\(report)")
        let x = scores.requiringGrad()
        try maskedSoftmax(x, lengths: [5, 2, 0]).sum().backward()
        #expect(x.grad![1, 2] == 0 && x.grad![1, 4] == 0 && x.grad![2, 0] == 0)
    }

    @Test func maskedSoftmaxThrowsForLengthsThatDoNotFit() {
        let scores = Tensor<Double>.zeros([2, 3])
        #expect(throws: SequenceLengthError.self) { try maskedSoftmax(scores, lengths: [4, 1]) }
        #expect(throws: SequenceLengthError.self) { try maskedSoftmax(scores, lengths: [-1, 1]) }
        #expect(throws: SequenceLengthError.self) { try maskedSoftmax(scores, lengths: [1]) }
        do {
            _ = try maskedSoftmax(scores, lengths: [1, 4])
        } catch {
            #expect("\(error)" == "maskedSoftmax: lengths[1] = 4 is outside 0...3 (the time axis)")
        }
    }

    @Test func additiveAttentionMatchesItsDefinition() throws {
        var generator = RandomGenerator(seed: 5)
        let attention = AdditiveAttention<Double>(querySize: 3, keySize: 4, attentionSize: 5, using: &generator)
        let query = Tensor<Double>.randn([2, 3], using: &generator)
        let keys = Tensor<Double>.randn([2, 4, 4], using: &generator)
        let lengths = [3, 4]
        let (context, weights) = try attention(query: query, keys: keys, lengths: lengths)
        #expect(context.shape == [2, 4] && weights.shape == [2, 4])
        let wk = attention.keyProjection.weight, wq = attention.queryProjection.weight
        let bq = attention.queryProjection.bias!, v = attention.score.weight
        for b in 0..<2 {
            var energies: [Double] = []
            for i in 0..<lengths[b] {
                var e = 0.0
                for a in 0..<5 {
                    var u = bq[a]
                    for j in 0..<4 { u += wk[a, j] * keys[b, i, j] }
                    for j in 0..<3 { u += wq[a, j] * query[b, j] }
                    e += v[0, a] * Foundation.tanh(u)
                }
                energies.append(e)
            }
            let top = energies.max()!
            let total = energies.reduce(0) { $0 + Foundation.exp($1 - top) }
            for i in 0..<4 {
                let expected = i < lengths[b] ? Foundation.exp(energies[i] - top) / total : 0
                #expect(Swift.abs(weights[b, i] - expected) < 1e-12)
            }
            for j in 0..<4 {
                let expected = (0..<lengths[b]).reduce(0.0) { $0 + weights[b, $1] * keys[b, $1, j] }
                #expect(Swift.abs(context[b, j] - expected) < 1e-12)
            }
        }
        // The once-per-batch key projection gives the same bits.
        let projected = attention.projectKeys(keys)
        #expect(try attention(query: query, projectedKeys: projected, values: keys, lengths: lengths).context.scalars == context.scalars)
    }

    @Test func additiveAttentionIgnoresPaddingAndGradientChecks() throws {
        var generator = RandomGenerator(seed: 4)
        var attention = AdditiveAttention<Double>(querySize: 2, keySize: 3, attentionSize: 5, using: &generator)
        let query = Tensor<Double>.randn([3, 2], using: &generator)
        var keys = Tensor<Double>.randn([3, 4, 3], using: &generator)
        let values = Tensor<Double>.randn([3, 4, 2], using: &generator)
        let lengths = [2, 4, 0]
        let (context, weights) = try attention(query: query, keys: keys, values: values, lengths: lengths)
        #expect(weights[0, 2] == 0 && weights[0, 3] == 0 && Swift.abs(weights.sum(dim: 1).scalars[1] - 1) < 1e-12)
        #expect(context.scalars[4...].allSatisfy { $0 == 0 })
        keys[0, 3, 1] = 1e6
        keys[0, 2, 0] = -7
        #expect(try attention(query: query, keys: keys, values: values, lengths: lengths).context.scalars == context.scalars)
        let report = gradientCheck([query, keys.detached(), values]) { xs in
            try! attention(query: xs[0], keys: xs[1], values: xs[2], lengths: [1, 3, 0]).context
        }
        #expect(report.passed, "\(report)")
        try attention(query: query, keys: keys, values: values, lengths: lengths).context.sum().backward()
        #expect(attention.parameters().allSatisfy { $0.grad!.scalars.allSatisfy(\.isFinite) })
        #expect(attention.namedParameters().map(\.name)
                == ["key_projection.weight", "query_projection.weight", "query_projection.bias", "score.weight"])
        #expect(throws: SequenceLengthError.self) { try attention(query: query, keys: keys, lengths: [1, 5, 0]) }
    }

    @Test func dotProductAttentionMatchesItsDefinition() throws {
        var generator = RandomGenerator(seed: 8)
        let query = Tensor<Double>.randn([2, 3], using: &generator)
        let keys = Tensor<Double>.randn([2, 4, 3], using: &generator)
        let values = Tensor<Double>.randn([2, 4, 5], using: &generator)
        let scale = 1 / 3.0.squareRoot()
        let (context, weights) = try dotProductAttention(query: query, keys: keys, values: values, lengths: [4, 1], scale: scale)
        for b in 0..<2 {
            let length = [4, 1][b]
            let scores = (0..<length).map { i in scale * (0..<3).reduce(0.0) { $0 + query[b, $1] * keys[b, i, $1] } }
            let top = scores.max()!
            let total = scores.reduce(0) { $0 + Foundation.exp($1 - top) }
            for i in 0..<4 {
                let expected = i < length ? Foundation.exp(scores[i] - top) / total : 0
                #expect(Swift.abs(weights[b, i] - expected) < 1e-12)
            }
            for j in 0..<5 {
                let expected = (0..<length).reduce(0.0) { $0 + weights[b, $1] * values[b, $1, j] }
                #expect(Swift.abs(context[b, j] - expected) < 1e-12)
            }
        }
        let report = gradientCheck([query, keys, values]) { xs in
            try! dotProductAttention(query: xs[0], keys: xs[1], values: xs[2], lengths: [2, 3]).context
        }
        #expect(report.passed, "\(report)")
    }

    @Test func attentionPoolingIgnoresPaddingAndGradientChecks() throws {
        var generator = RandomGenerator(seed: 4)
        var attention = AttentionPooling<Double>(features: 3, attentionSize: 5, using: &generator)
        var outputs = Tensor<Double>.randn([2, 4, 3], using: &generator)
        let lengths = [2, 4]
        let (context, weights) = try attention(outputs, lengths: lengths)
        #expect(weights[0, 2] == 0 && weights[0, 3] == 0)
        #expect(Swift.abs(weights.sum(dim: 1).scalars[0] - 1) < 1e-12)
        outputs[0, 3, 1] = 1e6
        outputs[0, 2, 0] = -7
        #expect(try attention(outputs, lengths: lengths).context.scalars == context.scalars)
        let report = gradientCheck([outputs.detached()]) { xs in try! attention(xs[0], lengths: [1, 3]).context }
        #expect(report.passed, "\(report)")
        let zeroLength = try attention(outputs.requiringGrad(), lengths: [0, 3]).context
        #expect(zeroLength.scalars[0...2].allSatisfy { $0 == 0 })
        zeroLength.sum().backward()
        #expect(attention.parameters().allSatisfy { $0.grad!.scalars.allSatisfy(\.isFinite) })
        #expect(attention.namedParameters().map(\.name) == ["projection.weight", "projection.bias", "score.weight"])
    }

    @Test func dropoutLayerFollowsTrainAndEval() {
        var layer = Dropout<Double>(p: 0.5)
        var generator = RandomGenerator(seed: 1)
        let x = Tensor<Double>.ones([100])
        #expect(layer(x, using: &generator).scalars.contains(0))
        layer.eval()
        #expect(layer(x, using: &generator).scalars == x.scalars)
        layer.train()
        #expect(layer.training)
    }
}
