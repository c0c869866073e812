import Testing
@testable import Loom

/// Finite-difference gradient checks (in Double) of the arithmetic, pointwise, matmul,
/// reduction and reshape ops, including every broadcasting pattern.
@Suite struct PointwiseGradientTests {
    /// Standard normal samples of `shape` from a fixed seed.
    func normal(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
        var generator = RandomGenerator(seed: seed)
        return Tensor<Double>.randn(shape, using: &generator)
    }

    /// Samples in [low, high) of `shape` from a fixed seed (for inputs that must stay away
    /// from 0, such as denominators and logarithms).
    func uniform(_ shape: [Int], _ low: Double, _ high: Double, seed: UInt64) -> Tensor<Double> {
        var generator = RandomGenerator(seed: seed)
        return Tensor<Double>.uniform(shape, low: low, high: high, using: &generator)
    }

    /// Runs `gradientCheck` and expects it to pass, reporting `label` on failure.
    func expectGradient(_ label: String, _ inputs: [Tensor<Double>], _ function: ([Tensor<Double>]) -> Tensor<Double>) {
        let report = gradientCheck(inputs, function)
        #expect(report.passed, "\(label): \(report)")
    }

    /// The operand shape pairs every broadcasting binary op is checked on.
    var broadcastPairs: [([Int], [Int])] {
        [([2, 3], [2, 3]), ([2, 3], [3]), ([3], [2, 3]), ([2, 1], [1, 3]), ([2, 3], []), ([], [2, 3]), ([2, 3, 4], [3, 1])]
    }

    @Test func addGradients() {
        for (n, (sa, sb)) in broadcastPairs.enumerated() {
            expectGradient("add \(sa) + \(sb)", [normal(sa, seed: UInt64(n)), normal(sb, seed: UInt64(100 + n))]) { $0[0] + $0[1] }
        }
    }

    @Test func subtractGradients() {
        for (n, (sa, sb)) in broadcastPairs.enumerated() {
            expectGradient("sub \(sa) - \(sb)", [normal(sa, seed: UInt64(n)), normal(sb, seed: UInt64(100 + n))]) { $0[0] - $0[1] }
        }
    }

    @Test func multiplyGradients() {
        for (n, (sa, sb)) in broadcastPairs.enumerated() {
            expectGradient("mul \(sa) * \(sb)", [normal(sa, seed: UInt64(n)), normal(sb, seed: UInt64(100 + n))]) { $0[0] * $0[1] }
        }
    }

    @Test func divideGradients() {
        for (n, (sa, sb)) in broadcastPairs.enumerated() {
            expectGradient("div \(sa) / \(sb)", [normal(sa, seed: UInt64(n)), uniform(sb, 0.5, 2, seed: UInt64(100 + n))]) { $0[0] / $0[1] }
        }
    }

    @Test func negationAndScalarOperandGradients() {
        let x = normal([2, 3], seed: 7)
        expectGradient("neg", [x]) { -$0[0] }
        expectGradient("x + s", [x]) { $0[0] + 1.5 }
        expectGradient("s + x", [x]) { 1.5 + $0[0] }
        expectGradient("x - s", [x]) { $0[0] - 0.25 }
        expectGradient("s - x", [x]) { 0.25 - $0[0] }
        expectGradient("x * s", [x]) { $0[0] * -3 }
        expectGradient("s * x", [x]) { 2.5 * $0[0] }
        expectGradient("x / s", [x]) { $0[0] / 4 }
        expectGradient("s / x", [uniform([2, 3], 0.5, 2, seed: 8)]) { 3 / $0[0] }
        expectGradient("compound assignment", [x, normal([3], seed: 9)]) { xs in
            var y = xs[0]
            y += xs[1]
            y *= xs[0]
            y -= xs[1]
            y /= Tensor<Double>(2)
            return y
        }
    }

    @Test func unaryPointwiseGradients() {
        let x = normal([3, 4], seed: 11)
        expectGradient("exp", [x]) { $0[0].exp() }
        expectGradient("log", [uniform([3, 4], 0.2, 3, seed: 12)]) { $0[0].log() }
        expectGradient("tanh", [x]) { $0[0].tanh() }
        expectGradient("sigmoid", [x * 3]) { $0[0].sigmoid() }
        // relu: inputs at least 0.1 away from the kink at 0, on both sides.
        let awayFromZero = Tensor<Double>([[-1.3, 0.4, -0.2, 2.1], [0.7, -0.6, 1.1, -2.5]])
        expectGradient("relu", [awayFromZero]) { $0[0].relu() }
        expectGradient("free functions", [x]) { xs in exp(tanh(xs[0])) + sigmoid(xs[0]) * relu(xs[0] + 5) }
    }

    @Test func matmulGradients() {
        expectGradient("matmul 2-D", [normal([3, 4], seed: 21), normal([4, 5], seed: 22)]) { $0[0].matmul($0[1]) }
        expectGradient("matmul batched", [normal([2, 3, 4], seed: 23), normal([2, 4, 2], seed: 24)]) { $0[0].matmul($0[1]) }
        expectGradient("matmul shared right", [normal([2, 3, 4], seed: 25), normal([4, 5], seed: 26)]) { $0[0].matmul($0[1]) }
        expectGradient("matmul shared left", [normal([3, 4], seed: 27), normal([2, 4, 5], seed: 28)]) { $0[0].matmul($0[1]) }
        expectGradient("matmul vector", [normal([3, 4], seed: 29), normal([4], seed: 30)]) { $0[0].matmul($0[1]) }
        expectGradient("matmul batched vector", [normal([2, 3, 4], seed: 31), normal([4], seed: 32)]) { matmul($0[0], $0[1]) }
    }

    @Test func sumAndMeanGradients() {
        let x = normal([2, 3, 4], seed: 41)
        expectGradient("sum all", [x]) { $0[0].sum() }
        expectGradient("sum dim", [x]) { $0[0].sum(dim: 1) }
        expectGradient("sum dim keepDims", [x]) { $0[0].sum(dim: -1, keepDims: true) }
        expectGradient("sum dims", [x]) { $0[0].sum(dims: [0, 2]) }
        expectGradient("sum dims keepDims", [x]) { $0[0].sum(dims: [0, -1], keepDims: true) }
        expectGradient("mean all", [x]) { $0[0].mean() }
        expectGradient("mean dim", [x]) { $0[0].mean(dim: 2) }
        expectGradient("mean dims keepDims", [x]) { $0[0].mean(dims: [1, 2], keepDims: true) }
    }

    @Test func maxGradients() {
        // A permutation of distinct values, so the maximum is never tied.
        var generator = RandomGenerator(seed: 51)
        var values = (0..<24).map { Double($0) * 0.1 }
        generator.shuffle(&values)
        let x = Tensor<Double>(shape: [2, 3, 4], scalars: values)
        expectGradient("max all", [x]) { $0[0].max() }
        expectGradient("max dim 0", [x]) { $0[0].max(dim: 0).values }
        expectGradient("max dim 1", [x]) { $0[0].max(dim: 1).values }
        expectGradient("max dim -1 keepDims", [x]) { $0[0].max(dim: -1, keepDims: true).values }
    }

    @Test func maxForwardValuesAndIndices() {
        let x = Tensor<Double>([[1, 5, 3], [7, 2, 7]])
        let (values, indices) = x.max(dim: 1)
        #expect(values.scalars == [5, 7])
        #expect(indices.scalars == [1, 0])
        let (columns, rows) = x.max(dim: 0, keepDims: true)
        #expect(columns.shape == [1, 3])
        #expect(columns.scalars == [7, 5, 7])
        #expect(rows.scalars == [1, 0, 1])
        #expect(x.max().item == 7)
    }

    @Test func reshapeFamilyGradients() {
        let x = normal([2, 3, 4], seed: 61)
        expectGradient("reshape", [x]) { $0[0].reshaped([4, -1]) * Tensor<Double>.arange(0, 6) }
        expectGradient("flatten", [x]) { $0[0].flattened().tanh() }
        expectGradient("unsqueeze", [x]) { $0[0].unsqueezed(dim: 1) * normal([2, 5, 3, 4], seed: 62) }
        expectGradient("squeeze", [normal([2, 1, 3], seed: 63)]) { $0[0].squeezed(dim: 1).matmul(normal([3, 2], seed: 64)) }
        expectGradient("expand", [normal([3, 1], seed: 65)]) { $0[0].expanded(to: [2, 3, 4]) * normal([2, 3, 4], seed: 66) }
    }

    @Test func unsqueezeCountsNegativeDimsFromTheEnd() {
        let x = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        #expect(x.unsqueezed(dim: 0).shape == [1, 2, 3])
        #expect(x.unsqueezed(dim: 2).shape == [2, 3, 1])
        #expect(x.unsqueezed(dim: -1).shape == [2, 3, 1])
        #expect(x.unsqueezed(dim: -2).shape == [2, 1, 3])
        #expect(x.unsqueezed(dim: -3).shape == [1, 2, 3])
        #expect(x.unsqueezed(dim: -1).squeezed(dim: -1).shape == [2, 3])
    }

    @Test func compositeGraphGradient() {
        // A small two-layer network: every op above in one graph, with reuse of `x`.
        expectGradient("composite", [normal([4, 3], seed: 71), normal([3, 5], seed: 72), normal([5], seed: 73)]) { xs in
            let hidden = (xs[0].matmul(xs[1]) + xs[2]).tanh()
            return (hidden * hidden.sigmoid()).sum(dim: 1) / (xs[0] * xs[0] + 1).sum(dim: 1)
        }
    }
}
