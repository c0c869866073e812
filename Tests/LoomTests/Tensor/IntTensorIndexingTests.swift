import Testing
@testable import Loom

@Suite struct IntTensorIndexingTests {
    let ids = IntTensor(shape: [2, 3, 2], scalars: Array(0..<12))

    @Test func reshapedInfersOneSize() {
        #expect(ids.reshaped([-1]).shape == [12])
        #expect(ids.reshaped([3, -1]).shape == [3, 4])
        #expect(ids.reshaped([-1, 6]).scalars == ids.scalars)
    }

    @Test func selectNarrowAndSliceCopyTheEntries() {
        // x[:, 1] of [2, 3, 2]
        #expect(ids.select(dim: 1, index: 1) == IntTensor(shape: [2, 2], scalars: [2, 3, 8, 9]))
        #expect(ids.select(dim: -1, index: -1) == IntTensor(shape: [2, 3], scalars: [1, 3, 5, 7, 9, 11]))
        #expect(ids.select(dim: 0, index: 1).scalars == Array(6..<12))
        #expect(ids.narrow(dim: 1, start: 1, length: 2) == IntTensor(shape: [2, 2, 2], scalars: [2, 3, 4, 5, 8, 9, 10, 11]))
        #expect(ids.narrow(dim: 1, start: -1, length: 1).shape == [2, 1, 2])
        #expect(ids.slice(dim: 2, 0..<1) == IntTensor(shape: [2, 3, 1], scalars: [0, 2, 4, 6, 8, 10]))
        #expect(ids.slice(dim: 1, 1..<1).shape == [2, 0, 2])
        let decoderInput = IntTensor([[2, 7, 8], [2, 9, 0]])
        #expect(decoderInput.select(dim: 1, index: 0) == IntTensor([2, 2]))
    }

    @Test func comparisonsGiveMasks() {
        let targets = IntTensor([[4, -100], [3, 3]])
        #expect((targets .!= Batching.ignoreIndex).scalars == [true, false, true, true])
        #expect((targets .== 3).scalars == [false, false, true, true])
        #expect((targets .< 0).scalars == [false, true, false, false])
        #expect((targets .>= 4).scalars == [true, false, false, false])
        #expect((targets .<= IntTensor([[4, 0], [2, 3]])).scalars == [true, true, false, true])
        #expect((targets .> IntTensor([[4, -101], [2, 3]])).scalars == [false, true, true, false])
        let mask = targets .== 3
        #expect(mask.shape == [2, 2] && mask.anyTrue && !mask.allTrue && mask.trueCount == 2)
    }

    @Test func argmaxPicksTheFirstLargestAlongAnAxis() {
        let x = Tensor<Float>(shape: [2, 3], scalars: [1, 5, 5, -1, -3, -2])
        #expect(x.argmax(dim: 1) == IntTensor([1, 0]))
        #expect(x.argmax(dim: 0) == IntTensor([0, 0, 0]))
        let withNaN = Tensor<Float>(shape: [1, 3], scalars: [1, .nan, 7])
        #expect(withNaN.argmax(dim: -1) == IntTensor([1]))
    }

    @Test func crossEntropyTakesClassesSecondForSequences() {
        var generator = RandomGenerator(seed: 9)
        // [N=2, C=4, T=3] against [2, 3] with padding ignored equals the flattened [6, 4] form.
        let logits = Tensor<Double>.randn([2, 4, 3], using: &generator)
        let targets = IntTensor([[1, 3, -100], [0, -100, -100]])
        let sequence = crossEntropy(logits, targets)
        let flat = crossEntropy(logits.transposed(1, 2).reshaped([6, 4]), targets.reshaped([-1]))
        #expect(Swift.abs(sequence.item - flat.item) < 1e-15)
        #expect(crossEntropy(logits, targets, reduction: .none).shape == [2, 3])
        let report = gradientCheck([logits]) { xs in crossEntropy(xs[0], targets) }
        #expect(report.passed, "\(report)")
    }

    @Test func embeddingNamesTheWeightShapeWhenAnIndexIsOutOfRange() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let table = Tensor<Float>.zeros([5, 3])
            _ = embedding(IntTensor([1, 7]), weight: table)
        }
        let message = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(message.contains("embedding: index 7 is out of range for 5 embeddings (weight shape [5, 3])"))
    }
}
