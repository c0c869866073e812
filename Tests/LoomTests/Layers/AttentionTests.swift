import Testing
@testable import Loom

@Suite struct AttentionTests {
    @Test func maskedSoftmaxGivesZeroWeightPastTheLength() {
        let scores = Tensor<Double>([[1, 2, 3], [5, 5, 5], [0, 0, 0]])
        let w = maskedSoftmax(scores, lengths: [2, 3, 0])
        let e1 = 1.0 / (1 + Foundation.exp(1.0))
        #expect(Swift.abs(w[0, 0] - e1) < 1e-15 && Swift.abs(w[0, 1] - (1 - e1)) < 1e-15 && w[0, 2] == 0)
        #expect(Swift.abs(w[1, 1] - 1.0 / 3) < 1e-15)
        #expect(w.scalars[6...].allSatisfy { $0 == 0 })
    }

    @Test func attentionIgnoresPaddingAndGradientChecks() {
        var generator = RandomGenerator(seed: 4)
        let attention = AdditiveAttention<Double>(features: 3, attentionSize: 5, using: &generator)
        var outputs = Tensor<Double>.randn([2, 4, 3], using: &generator)
        let lengths = [2, 4]
        let (context, weights) = attention(outputs, lengths: lengths)
        #expect(weights[0, 2] == 0 && weights[0, 3] == 0)
        #expect(Swift.abs(weights.sum(dim: 1).scalars[0] - 1) < 1e-12)
        // Changing padded positions changes nothing.
        outputs[0, 3, 1] = 1e6
        outputs[0, 2, 0] = -7
        #expect(attention(outputs, lengths: lengths).context.scalars == context.scalars)
        let report = gradientCheck([outputs.detached()]) { xs in attention(xs[0], lengths: [1, 3]).context }
        #expect(report.passed, "\(report)")
    }

    @Test func zeroLengthGivesZeroContextAndFiniteGradients() {
        var generator = RandomGenerator(seed: 6)
        var attention = AdditiveAttention<Double>(features: 2, attentionSize: 3, using: &generator)
        let outputs = Tensor<Double>.randn([2, 3, 2], using: &generator).requiringGrad()
        let (context, _) = attention(outputs, lengths: [0, 3])
        #expect(context.scalars[0...1].allSatisfy { $0 == 0 })
        context.sum().backward()
        #expect(attention.parameters().allSatisfy { $0.grad!.scalars.allSatisfy(\.isFinite) })
        #expect(attention.namedParameters().map(\.name) == ["projection.weight", "projection.bias", "score.weight"])
        attention.eval()
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

import Foundation
