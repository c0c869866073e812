import Testing
@testable import Loom

/// Finite-difference gradient checks (in Double) of transpose/permute, cat/stack/split/chunk,
/// narrow/slice/select, where/maskedFill and dropout, plus graphs that reuse one tensor.
@Suite struct ShapeOpsGradientTests {
    func normal(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
        var generator = RandomGenerator(seed: seed)
        return Tensor<Double>.randn(shape, using: &generator)
    }

    func expectGradient(_ label: String, _ inputs: [Tensor<Double>], _ function: ([Tensor<Double>]) -> Tensor<Double>) {
        let report = gradientCheck(inputs, function)
        #expect(report.passed, "\(label): \(report)")
    }

    @Test func transposeAndPermuteGradients() {
        let x = normal([2, 3, 4], seed: 1)
        expectGradient("transpose matrix", [normal([3, 5], seed: 2)]) { $0[0].transposed(0, 1) }
        expectGradient("transpose last two", [x]) { $0[0].transposed(-1, -2) }
        expectGradient("transpose outer", [x]) { $0[0].transposed(0, 1) }
        expectGradient("permute", [x]) { $0[0].permuted([2, 0, 1]) }
        expectGradient("permute negative", [x]) { $0[0].permuted([-1, 1, 0]) }
        expectGradient("permute then matmul", [x, normal([3, 2], seed: 3)]) { $0[0].transposed(1, 2).matmul($0[1]).tanh() }
    }

    @Test func catAndStackGradients() {
        let a = normal([2, 3], seed: 11), b = normal([1, 3], seed: 12), c = normal([2, 2], seed: 13)
        expectGradient("cat dim 0", [a, b]) { Tensor.cat([$0[0], $0[1], $0[0] * 2], dim: 0) }
        expectGradient("cat dim 1", [a, c]) { Tensor.cat([$0[0], $0[1]], dim: -1).exp() }
        let constant = normal([2, 1], seed: 14)
        expectGradient("cat with a constant", [a]) { Tensor.cat([constant, $0[0]], dim: 1) }
        expectGradient("stack dim 0", [a, normal([2, 3], seed: 15)]) { Tensor.stack([$0[0], $0[1]], dim: 0) }
        expectGradient("stack dim -1", [a, normal([2, 3], seed: 16)]) { Tensor.stack([$0[0], $0[1], $0[0]], dim: -1) }
    }

    @Test func splitAndChunkGradients() {
        let x = normal([3, 6], seed: 21)
        expectGradient("split", [x]) { xs in
            let pieces = xs[0].split([1, 3, 2], dim: 1)
            return pieces[0] * pieces[2].sum(dim: 1, keepDims: true) + pieces[1].sum(dim: 1, keepDims: true)
        }
        expectGradient("split leaving a piece unused", [x]) { xs in
            let pieces = xs[0].split([2, 1], dim: 0)
            return pieces[1].tanh()
        }
        expectGradient("chunk", [x]) { xs in
            let gates = xs[0].chunk(3, dim: -1)
            return gates[0].sigmoid() * gates[1].tanh() + gates[2]
        }
    }

    @Test func narrowSliceSelectGradients() {
        let x = normal([3, 4, 5], seed: 31)
        expectGradient("narrow", [x]) { $0[0].narrow(dim: 1, start: 1, length: 2) }
        expectGradient("narrow negative start", [x]) { $0[0].narrow(dim: -1, start: -3, length: 3) }
        expectGradient("slice", [x]) { $0[0].slice(dim: 0, 1..<3) }
        expectGradient("select", [x]) { $0[0].select(dim: 1, index: 2) }
        expectGradient("select last", [x]) { $0[0].select(dim: -1, index: -1) }
        expectGradient("select to scalar", [normal([4], seed: 32)]) { $0[0].select(dim: 0, index: 1) * $0[0] }
    }

    @Test func whereAndMaskedFillGradients() {
        let condition = BoolTensor(shape: [2, 3], scalars: [true, false, false, true, true, false])
        let row = BoolTensor(shape: [3], scalars: [false, true, true])
        let a = normal([2, 3], seed: 41), b = normal([2, 3], seed: 42)
        expectGradient("where same shapes", [a, b]) { Tensor.where(condition, $0[0], $0[1]) }
        expectGradient("where b [3]", [a, normal([3], seed: 43)]) { Tensor.where(condition, $0[0], $0[1]) }
        expectGradient("where [2,1] with [1,3]", [normal([2, 1], seed: 44), normal([1, 3], seed: 45)]) { Tensor.where(condition, $0[0], $0[1]) }
        expectGradient("where scalar a", [normal([], seed: 46), b]) { Tensor.where(condition, $0[0], $0[1]) }
        expectGradient("where broadcast condition", [a, normal([2, 1], seed: 47)]) { Tensor.where(row, $0[0], $0[1]) }
        expectGradient("maskedFill", [a]) { $0[0].maskedFill(condition, with: -4) }
        expectGradient("maskedFill broadcast mask", [normal([2, 2, 3], seed: 48)]) { $0[0].maskedFill(row, with: 1).tanh() }
    }

    @Test func dropoutGradientCheck() {
        // The mask is fixed by passing a copy of the same generator on every evaluation.
        let seeded = RandomGenerator(seed: 51)
        expectGradient("dropout", [normal([4, 5], seed: 52)]) { xs in
            var generator = seeded
            return xs[0].dropout(p: 0.4, using: &generator)
        }
    }

    @Test func oneTensorUsedSeveralTimesAccumulates() {
        let x = normal([3, 4], seed: 61)
        expectGradient("cat x with x", [x]) { Tensor.cat([$0[0], $0[0]], dim: 0).tanh() }
        expectGradient("stack x with x", [x]) { Tensor.stack([$0[0], $0[0].exp()], dim: 1) }
        expectGradient("narrow times narrow", [x]) { $0[0].narrow(dim: 1, start: 0, length: 2) * $0[0].narrow(dim: 1, start: 1, length: 2) }
        expectGradient("select and transpose of x", [x]) { xs in
            xs[0].transposed(0, 1).select(dim: 0, index: 1) * xs[0].select(dim: 1, index: 1) + xs[0].select(dim: 1, index: 3)
        }
        expectGradient("where of x and x", [x]) { xs in
            Tensor.where(xs[0] .> 0, xs[0] * xs[0], -xs[0])
        }
    }

    @Test func usedPiecesAccumulateExactly() {
        // d/dx of sum(cat([x, x]) * w) is the sum of the two halves of w.
        let x = Tensor<Double>([1, 2]).requiringGrad()
        (Tensor.cat([x, x], dim: 0) * Tensor<Double>([1, 2, 10, 20])).sum().backward()
        #expect(x.grad!.scalars == [11, 22])
    }
}
