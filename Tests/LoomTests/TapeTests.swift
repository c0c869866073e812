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
