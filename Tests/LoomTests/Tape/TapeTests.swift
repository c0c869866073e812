import Testing
@testable import Loom

@Suite struct TapeTests {
    @Test func gradientsOfATensorUsedTwiceAddUp() {
        let x = Tensor<Double>([1, 2, 3]).requiringGrad()
        let y = (x * x + x).sum()
        y.backward()
        #expect(x.grad!.scalars == [3, 5, 7])
    }

    @Test func backwardAccumulatesAcrossCallsUntilZeroed() {
        let x = Tensor<Double>([2]).requiringGrad()
        (x * x).sum().backward()
        (x * x).sum().backward()
        #expect(x.grad!.scalars == [8])
        x.zeroGrad()
        #expect(x.grad == nil)
    }

    @Test func noGradientScopeRecordsNothing() {
        let x = Tensor<Double>([1, 2]).requiringGrad()
        let y = withoutGradient { (x * x).exp() }
        #expect(!y.requiresGrad)
        #expect((x * 2).requiresGrad)
    }

    @Test func detachedStopsGradients() {
        let x = Tensor<Double>([3]).requiringGrad()
        let y = (x * x.detached()).sum()
        y.backward()
        #expect(x.grad!.scalars == [3])
    }

    @Test func broadcastingGradientsReduceToInputShapes() {
        let a = Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]).requiringGrad()
        let b = Tensor<Double>([10, 20, 30]).requiringGrad()
        let c = Tensor<Double>(shape: [2, 1], scalars: [1, 2]).requiringGrad()
        ((a + b) * c).sum().backward()
        #expect(b.grad!.scalars == [3, 3, 3])
        #expect(c.grad!.scalars == [66, 75])
        #expect(a.grad!.shape == [2, 3])
    }

    @Test func gradientCheckCatchesAWrongGradient() {
        let report = gradientCheck([Tensor<Double>([0.3, -0.7])]) { xs in xs[0].tanh() * xs[0] }
        #expect(report.passed, "\(report)")
        let x = Tensor<Double>([0.5, 1.5])
        let wrong = gradientCheck([x]) { xs in xs[0] * xs[0].detached() }
        #expect(!wrong.passed)
    }

    @Test func matmulGradientCheck() {
        var rng = RandomGenerator(seed: 1)
        let a = Tensor<Double>.randn([3, 4], using: &rng)
        let b = Tensor<Double>.randn([4, 5], using: &rng)
        let batched = Tensor<Double>.randn([2, 3, 4], using: &rng)
        #expect(gradientCheck([a, b]) { $0[0].matmul($0[1]) }.passed)
        #expect(gradientCheck([batched, b]) { $0[0].matmul($0[1]) }.passed)
    }
}

@Suite struct LinearTests {
    @Test func linearMatchesMatmulAndGradientChecks() {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor<Double>.randn([2, 3, 4], using: &rng)
        let w = Tensor<Double>.randn([5, 4], using: &rng)
        let b = Tensor<Double>.randn([5], using: &rng)
        #expect(gradientCheck([x, w, b]) { linear($0[0], weight: $0[1], bias: $0[2]) }.passed)
        #expect(gradientCheck([x, w]) { linear($0[0], weight: $0[1]) }.passed)
        let y = linear(x, weight: w, bias: b)
        // y[1,2,3] = Σ_k x[1,2,k] w[3,k] + b[3]
        var expected = b[3]
        for k in 0..<4 { expected += x[1, 2, k] * w[3, k] }
        #expect(Swift.abs(y[1, 2, 3] - expected) < 1e-12)
    }

    @Test func linearModuleNamesItsParameters() {
        var rng = RandomGenerator(seed: 3)
        var layer = Linear<Float>(4, 2, using: &rng)
        #expect(layer.namedParameters().map(\.name) == ["weight", "bias"])
        #expect(layer.parameterCount == 10)
        #expect(layer.weight.scalars.allSatisfy { Swift.abs($0) <= 0.5 })
        layer.updateParameters { _, p in p = Tensor.zeros(like: p).requiringGrad() }
        #expect(layer(Tensor.ones([3, 4])).scalars == [Float](repeating: 0, count: 6))
    }
}
