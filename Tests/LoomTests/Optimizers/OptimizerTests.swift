import Testing
@testable import Loom

@Suite struct OptimizerTests {
    /// A parameter whose gradient is set by hand.
    func parameter(_ values: [Double], grad: [Double]) -> Tensor<Double> {
        let p = Tensor<Double>(values).requiringGrad()
        p.grad = Tensor(grad)
        return p
    }

    @Test func sgdWithMomentumFollowsTheRecurrence() {
        var p = parameter([1.0], grad: [0.5])
        var sgd = SGD<Double>(learningRate: 0.1, momentum: 0.9)
        sgd.update(&p, key: "p")          // buf = 0.5, p = 1 - 0.05
        #expect(Swift.abs(p.item - 0.95) < 1e-15)
        p.grad = Tensor([0.5])
        sgd.update(&p, key: "p")          // buf = 0.9·0.5 + 0.5 = 0.95, p = 0.95 - 0.095
        #expect(Swift.abs(p.item - 0.855) < 1e-15)
    }

    @Test func nesterovAndWeightDecay() {
        var p = parameter([2.0], grad: [1.0])
        var sgd = SGD<Double>(learningRate: 0.1, momentum: 0.5, weightDecay: 0.1, nesterov: true)
        sgd.update(&p, key: "p")          // g = 1.2, buf = 1.2, g' = 1.2 + 0.6 = 1.8, p = 2 - 0.18
        #expect(Swift.abs(p.item - 1.82) < 1e-15)
    }

    @Test func adamFirstStepMovesByTheLearningRate() {
        var p = parameter([1.0, -1.0], grad: [3.0, -0.2])
        var adam = Adam<Double>(learningRate: 0.01)
        adam.update(&p, key: "p")
        // After one step m̂ = g and v̂ = g², so the step is lr·g/(|g| + eps) ≈ lr·sign(g).
        #expect(Swift.abs(p.scalars[0] - 0.99) < 1e-8)
        #expect(Swift.abs(p.scalars[1] + 0.99) < 1e-8)
    }

    @Test func adamWDecaysTheParameterBeforeTheStep() {
        var p = parameter([10.0], grad: [0.0])
        var adamW = Adam<Double>.adamW(learningRate: 0.1, weightDecay: 0.5)
        adamW.update(&p, key: "p")        // zero gradient: only the decay 1 - 0.05 acts
        #expect(Swift.abs(p.item - 9.5) < 1e-12)
        var q = parameter([10.0], grad: [0.0])
        var adam = Adam<Double>(learningRate: 0.1, weightDecay: 0.5)
        adam.update(&q, key: "q")         // L2: gradient 5, step ≈ lr
        #expect(Swift.abs(q.item - 9.9) < 1e-8)
    }

    @Test func parametersWithoutGradientAreSkipped() {
        var p = Tensor<Double>([1, 2]).requiringGrad()
        var adam = Adam<Double>()
        adam.update(&p, key: "p")
        #expect(p.scalars == [1, 2])
    }

    @Test func clipGradNormReturnsTheNormBeforeClipping() {
        let a = parameter([0, 0], grad: [3, 0])
        let b = parameter([0], grad: [4])
        let norm = clipGradNorm([a, b], maxNorm: 1)
        #expect(norm == 5)
        let clipped = a.grad!.scalars + b.grad!.scalars
        let newNorm = (clipped.map { $0 * $0 }.reduce(0, +)).squareRoot()
        #expect(Swift.abs(newNorm - 1) < 1e-6)
        let c = parameter([0], grad: [0.5])
        #expect(clipGradNorm([c], maxNorm: 1) == 0.5)
        #expect(c.grad!.item == 0.5)
        #expect(clipGradNorm([parameter([0, 0], grad: [-7, 2])], maxNorm: 100, normType: .infinity) == 7)
    }

    @Test func stepUpdatesAModelByName() {
        var rng = RandomGenerator(seed: 1)
        var layer = Linear<Double>(3, 2, using: &rng)
        let before = layer.weight.scalars
        let x = Tensor<Double>.ones([4, 3])
        layer(x).sum().backward()
        var sgd = SGD<Double>(learningRate: 1)
        sgd.step(&layer)
        // d/dW of Σ(x Wᵀ + b) is 4 for every weight entry.
        #expect(zip(layer.weight.scalars, before).allSatisfy { Swift.abs($0 - ($1 - 4)) < 1e-12 })
        #expect(layer.weight.requiresGrad && layer.weight.isLeaf)
    }
}
