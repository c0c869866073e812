import Testing
@testable import Loom

/// A cell's step runs as one fused recurrence op; the composed step is its reference.
@Suite struct FusedCellTests {
    /// Loss = Σ w₁·h' (+ Σ w₂·c'); returns the outputs and the gradients of x, h, c and the weights.
    func run(_ mode: RecurrentMode, _ implementation: RecurrentImplementation) -> [[Double]] {
        var generator = RandomGenerator(seed: 11)
        let x = Tensor<Double>.randn([5, 3], using: &generator).requiringGrad()
        let h = Tensor<Double>.randn([5, 4], using: &generator).requiringGrad()
        let c = Tensor<Double>.randn([5, 4], using: &generator).requiringGrad()
        let w1 = Tensor<Double>.randn([5, 4], using: &generator), w2 = Tensor<Double>.randn([5, 4], using: &generator)
        var parameters: [Tensor<Double>] = []
        var outputs: [Tensor<Double>] = []
        switch mode {
        case .lstm:
            var cell = LSTMCell<Double>(inputSize: 3, hiddenSize: 4, using: &generator)
            cell.implementation = implementation
            let next = cell(x, (h, c))
            ((next.h * w1).sum() + (next.c * w2).sum()).backward()
            parameters = cell.parameters()
            outputs = [next.h, next.c, x.grad!, h.grad!, c.grad!]
        case .gru:
            var cell = GRUCell<Double>(inputSize: 3, hiddenSize: 4, using: &generator)
            cell.implementation = implementation
            let next = cell(x, h)
            (next * w1).sum().backward()
            parameters = cell.parameters()
            outputs = [next, x.grad!, h.grad!]
        default:
            var cell = RNNCell<Double>(inputSize: 3, hiddenSize: 4, nonlinearity: mode == .rnnRelu ? .relu : .tanh, using: &generator)
            cell.implementation = implementation
            let next = cell(x, h)
            (next * w1).sum().backward()
            parameters = cell.parameters()
            outputs = [next, x.grad!, h.grad!]
        }
        return (outputs + parameters.map { $0.grad! }).map(\.scalars)
    }

    @Test(arguments: [RecurrentMode.lstm, .gru, .rnnTanh, .rnnRelu])
    func fusedStepMatchesTheComposedStep(mode: RecurrentMode) {
        let fused = run(mode, .fused), composed = run(mode, .composed)
        #expect(fused.count == composed.count)
        for (a, b) in zip(fused, composed) {
            #expect(a.count == b.count)
            for (u, v) in zip(a, b) { #expect(Swift.abs(u - v) <= 1e-12 * Swift.max(1, Swift.abs(v)), "\(u) vs \(v)") }
        }
    }

    @Test func fusedLSTMCellGradientChecks() {
        var generator = RandomGenerator(seed: 12)
        let cell = LSTMCell<Double>(inputSize: 3, hiddenSize: 5, using: &generator)
        let x = Tensor<Double>.randn([4, 3], using: &generator)
        let h = Tensor<Double>.randn([4, 5], using: &generator), c = Tensor<Double>.randn([4, 5], using: &generator)
        let report = gradientCheck([x, h, c]) { xs in
            let next = cell(xs[0], (xs[1], xs[2]))
            return Tensor.cat([next.h, next.c], dim: 1)
        }
        #expect(report.passed, "\(report)")
    }
}
