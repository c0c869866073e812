import Testing
@testable import Loom

/// Random integers in `0..<bound` of the given shape.
func randomIndices(_ shape: [Int], below bound: Int, using generator: inout RandomGenerator) -> IntTensor {
    IntTensor(shape: shape, scalars: (0..<Shape.count(of: shape)).map { _ in generator.nextInt(below: bound) })
}

@Suite struct GatherTests {
    @Test func gatherForwardPicksAlongTheDim() {
        let x = Tensor<Double>([[1, 2], [3, 4]])
        #expect(x.gather(dim: 1, index: IntTensor([[0, 0], [1, 0]])).scalars == [1, 1, 4, 3])
        #expect(x.gather(dim: 0, index: IntTensor([[1, 0], [1, 1]])).scalars == [3, 2, 3, 4])
        // An index smaller than x along the other dim reads only its part.
        let y = x.gather(dim: 0, index: IntTensor([[1]]))
        #expect(y.shape == [1, 1] && y.scalars == [3])
        #expect(x.gather(dim: -1, index: IntTensor([[1], [0]])).scalars == [2, 3])
    }

    @Test func gatherBackwardAccumulatesRepeats() {
        let x = Tensor<Double>([[1, 2], [3, 4]]).requiringGrad()
        x.gather(dim: 1, index: IntTensor([[0, 0], [1, 0]])).sum().backward()
        #expect(x.grad!.scalars == [2, 0, 1, 1])
    }

    @Test func gatherGradientCheckAlongEachDim() {
        var rng = RandomGenerator(seed: 7)
        let x = Tensor<Double>.randn([3, 4, 5], using: &rng)
        for (dim, indexShape) in [(0, [6, 4, 5]), (1, [3, 7, 2]), (2, [2, 3, 9])] {
            let index = randomIndices(indexShape, below: x.shape[dim], using: &rng)
            let report = gradientCheck([x]) { $0[0].gather(dim: dim, index: index) }
            #expect(report.passed, "dim \(dim): \(report)")
        }
    }

    @Test func scatterAddForwardAddsRepeatsIntoACopy() {
        let base = Tensor<Double>([[1, 1, 1], [2, 2, 2]])
        let source = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        let y = base.scatterAdd(dim: 1, index: IntTensor([[0, 0, 2]]), source: source)
        #expect(y.scalars == [4, 1, 4, 2, 2, 2])
        #expect(base.scalars == [1, 1, 1, 2, 2, 2])
        let z = Tensor<Double>.zeros([2, 2]).scatterAdd(dim: 0, index: IntTensor([[1, 1], [1, 0]]), source: source)
        #expect(z.scalars == [0, 5, 5, 2])
    }

    @Test func scatterAddGradientCheckWithRepeatedIndices() {
        var rng = RandomGenerator(seed: 8)
        let base = Tensor<Double>.randn([3, 4], using: &rng)
        let source = Tensor<Double>.randn([5, 6], using: &rng)
        for (dim, indexShape) in [(0, [5, 4]), (1, [3, 6])] {
            let index = randomIndices(indexShape, below: base.shape[dim], using: &rng)
            let report = gradientCheck([base, source]) { $0[0].scatterAdd(dim: dim, index: index, source: $0[1]) }
            #expect(report.passed, "dim \(dim): \(report)")
        }
    }

    @Test func scatterAddSourceGradientIsGatherOfUpstream() {
        let base = Tensor<Double>.zeros([3])
        let source = Tensor<Double>([1, 1, 1, 1]).requiringGrad()
        let y = base.scatterAdd(dim: 0, index: IntTensor([2, 0, 2]), source: source)
        (y * Tensor([10, 20, 30])).sum().backward()
        // The fourth source element is not reached by the index: zero gradient.
        #expect(source.grad!.scalars == [30, 10, 30, 0])
    }

    @Test func outOfRangeIndexStopsNamingTheValueAndSize() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = Tensor<Double>([1, 2, 3]).gather(dim: 0, index: IntTensor([3]))
        }
        if let result {
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("gather: index 3 is out of range for dim 0 of size 3"), "\(message)")
        }
    }
}

@Suite struct IndexSelectTests {
    @Test func forwardSelectsSlicesInOrder() {
        let x = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        #expect(x.indexSelect(dim: 0, index: IntTensor([1, 1, 0])).scalars == [4, 5, 6, 4, 5, 6, 1, 2, 3])
        let columns = x.indexSelect(dim: 1, index: IntTensor([2, 0]))
        #expect(columns.shape == [2, 2] && columns.scalars == [3, 1, 6, 4])
        #expect(x.indexSelect(dim: 0, index: IntTensor(shape: [0], scalars: [])).shape == [0, 3])
    }

    @Test func backwardAccumulatesRepeats() {
        let x = Tensor<Double>([[1, 2], [3, 4], [5, 6]]).requiringGrad()
        x.indexSelect(dim: 0, index: IntTensor([2, 0, 2])).sum().backward()
        #expect(x.grad!.scalars == [1, 1, 0, 0, 2, 2])
    }

    @Test func gradientCheckDims0And1() {
        var rng = RandomGenerator(seed: 9)
        let x = Tensor<Double>.randn([4, 3, 2], using: &rng)
        let report0 = gradientCheck([x]) { $0[0].indexSelect(dim: 0, index: IntTensor([3, 0, 3, 3, 1])) }
        let report1 = gradientCheck([x]) { $0[0].indexSelect(dim: 1, index: IntTensor([2, 2, 0])) }
        let report2 = gradientCheck([x]) { $0[0].indexSelect(dim: -1, index: IntTensor([1, 1])) }
        #expect(report0.passed, "\(report0)")
        #expect(report1.passed, "\(report1)")
        #expect(report2.passed, "\(report2)")
    }
}

@Suite struct EmbeddingTests {
    @Test func forwardLooksUpRows() {
        let weight = Tensor<Double>([[0, 0], [1, 2], [3, 4]])
        let y = embedding(IntTensor([[2, 1], [0, 2]]), weight: weight, paddingIndex: 0)
        #expect(y.shape == [2, 2, 2])
        #expect(y.scalars == [3, 4, 1, 2, 0, 0, 3, 4])
    }

    @Test func gradientCheckWithRepeatedIds() {
        var rng = RandomGenerator(seed: 10)
        let weight = Tensor<Double>.randn([6, 3], using: &rng)
        let ids = IntTensor([[1, 4, 1], [5, 1, 0]])
        let report = gradientCheck([weight]) { embedding(ids, weight: $0[0]) }
        #expect(report.passed, "\(report)")
    }

    @Test func paddingRowGetsNoGradientOthersUnchanged() {
        var rng = RandomGenerator(seed: 11)
        let table = Tensor<Double>.randn([5, 3], using: &rng)
        let ids = IntTensor([[1, 4, 4], [4, 2, 0]])
        let upstream = Tensor<Double>.randn([2, 3, 3], using: &rng)
        func gradient(_ padding: Int?) -> [Double] {
            let weight = table.requiringGrad()
            (embedding(ids, weight: weight, paddingIndex: padding) * upstream).sum().backward()
            return weight.grad!.scalars
        }
        let plain = gradient(nil)
        let padded = gradient(4)
        #expect(Array(padded[12..<15]) == [0, 0, 0])
        #expect(Array(padded[0..<12]) == Array(plain[0..<12]))
        #expect(plain[12..<15].contains { $0 != 0 })
        // A negative padding index counts from the end.
        #expect(gradient(-1) == padded)
    }
}

@Suite struct ReversePaddedSequenceTests {
    @Test func batchFirstReversesInsideEachLength() {
        let x = Tensor<Double>.arange(0, 12).reshaped([3, 4, 1])
        let y = reversePaddedSequence(x, lengths: [3, 0, 4], batchFirst: true)
        #expect(y.scalars == [2, 1, 0, 3, 4, 5, 6, 7, 11, 10, 9, 8])
    }

    @Test func timeFirstReversesInsideEachLength() {
        // x[t][b][f] = 10 * t + b, two features.
        var values: [Double] = []
        for t in 0..<3 {
            for b in 0..<2 { values += [Double(10 * t + b), Double(10 * t + b)] }
        }
        let x = Tensor<Double>(shape: [3, 2, 2], scalars: values)
        let y = reversePaddedSequence(x, lengths: [2, 3], batchFirst: false)
        let expected: [Double] = [10, 10, 21, 21, 0, 0, 11, 11, 20, 20, 1, 1]
        #expect(y.scalars == expected)
    }

    @Test func gradientChecksBothLayoutsWithZeroAndFullLengths() {
        var rng = RandomGenerator(seed: 12)
        let batchFirst = Tensor<Double>.randn([4, 5, 3], using: &rng)
        let timeFirst = Tensor<Double>.randn([5, 4, 2, 2], using: &rng)
        let lengths = [5, 0, 3, 1]
        let r1 = gradientCheck([batchFirst]) { reversePaddedSequence($0[0], lengths: lengths, batchFirst: true) }
        let r2 = gradientCheck([timeFirst]) { reversePaddedSequence($0[0], lengths: lengths, batchFirst: false) }
        #expect(r1.passed, "\(r1)")
        #expect(r2.passed, "\(r2)")
    }

    @Test func applyingTwiceIsTheIdentity() {
        var rng = RandomGenerator(seed: 13)
        let x = Tensor<Double>.randn([3, 6, 2], using: &rng)
        let twice = reversePaddedSequence(reversePaddedSequence(x, lengths: [6, 2, 0], batchFirst: true),
                                          lengths: [6, 2, 0], batchFirst: true)
        #expect(twice.scalars == x.scalars)
    }
}
