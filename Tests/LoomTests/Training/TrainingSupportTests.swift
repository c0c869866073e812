import Foundation
import Testing
@testable import Loom

@Suite struct WeightsChecksumTests {
    @Test func fnv1aMatchesThePublishedTestVectors() {
        // Reference values from the FNV specification's test suite (draft-eastlake-fnv).
        #expect(FNV1a64().hexDigits == "cbf29ce484222325")
        var a = FNV1a64()
        a.combine(Array("a".utf8))
        #expect(a.hexDigits == "af63dc4c8601ec8c")
        var foobar = FNV1a64()
        foobar.combine(Array("foobar".utf8))
        #expect(foobar.hexDigits == "85944171f73967e8")
    }

    @Test func feedingInPiecesEqualsFeedingAtOnce() {
        var whole = FNV1a64()
        whole.combine(Array("foobar".utf8))
        var pieces = FNV1a64()
        pieces.combine(Array("foo".utf8))
        pieces.combine(Array("bar".utf8))
        #expect(whole == pieces)
    }

    @Test func checksumFollowsEveryBitOfEveryParameter() {
        var g = RandomGenerator(seed: 1)
        let model = Linear<Float>(3, 2, using: &g)
        var copy = model
        #expect(weightsChecksum(model) == weightsChecksum(copy))
        #expect(weightsChecksum(model).count == 16)
        // Flip the lowest bit of the last bias element.
        copy.updateParameters { name, tensor in
            guard name == "bias" else { return }
            var values = tensor.scalars
            values[values.count - 1] = Float(bitPattern: values[values.count - 1].bitPattern ^ 1)
            tensor = Tensor(shape: tensor.shape, scalars: values)
        }
        #expect(weightsChecksum(model) != weightsChecksum(copy))
    }

    @Test func checksumDependsOnParameterOrder() {
        // Two parameters swapped give another byte stream, so another checksum.
        struct Pair: Module {
            var first: Tensor<Float>
            var second: Tensor<Float>
            mutating func visit(_ visitor: ModuleVisitor<Float>) {
                visitor.parameter("first", &first)
                visitor.parameter("second", &second)
            }
        }
        let a = Tensor<Float>([1, 2]), b = Tensor<Float>([3, 4])
        #expect(weightsChecksum(Pair(first: a, second: b)) != weightsChecksum(Pair(first: b, second: a)))
    }
}

@Suite struct ProgressFormatTests {
    @Test func durations() {
        #expect(ProgressFormat.duration(0.44) == "0.4s")
        #expect(ProgressFormat.duration(12.25) == "12.2s" || ProgressFormat.duration(12.25) == "12.3s")
        #expect(ProgressFormat.duration(125) == "2m05s")
        #expect(ProgressFormat.duration(3720) == "1h02m")
        #expect(ProgressFormat.duration(-1) == "--")
        #expect(ProgressFormat.duration(.nan) == "--")
    }

    @Test func fixedDecimals() {
        #expect(ProgressFormat.fixed(0.5, decimals: 4) == "0.5000")
        #expect(ProgressFormat.fixed(2.0 / 3.0, decimals: 3) == "0.667")
        #expect(ProgressFormat.fixed(-1.05, decimals: 1) == "-1.1" || ProgressFormat.fixed(-1.05, decimals: 1) == "-1.0")
        #expect(ProgressFormat.fixed(12, decimals: 0) == "12")
        #expect(ProgressFormat.fixed(0.0001, decimals: 2) == "0.00")
        #expect(ProgressFormat.fixed(.infinity, decimals: 2) == "inf")
    }

    @Test func rates() {
        #expect(ProgressFormat.rate(850, unit: "tokens") == "850 tokens/s")
        #expect(ProgressFormat.rate(12_400, unit: "tokens") == "12.4k tokens/s")
        #expect(ProgressFormat.rate(3_100_000, unit: "chars") == "3.10M chars/s")
    }

    @Test func timeLeftExtrapolatesLinearly() {
        #expect(ProgressFormat.timeLeft(elapsed: 10, done: 0, total: 100) == nil)
        #expect(ProgressFormat.timeLeft(elapsed: 10, done: 25, total: 100) == 30)
        #expect(ProgressFormat.timeLeft(elapsed: 10, done: 100, total: 100) == 0)
    }

    @Test func progressLineNamesEveryField() {
        let line = ProgressFormat.progressLine(epoch: 2, epochs: 5, step: 120, steps: 390, loss: 0.43214,
                                               itemsPerSecond: 12_345, unit: "tokens", secondsLeft: 83)
        #expect(line == "epoch 2/5  step 120/390  loss 0.4321  12.3k tokens/s  left 1m23s")
    }
}

@Suite struct NonFiniteCheckTests {
    @Test func finiteValuesPass() throws {
        try NonFiniteValueError.check(loss: 0.5, gradientNorm: 3, epoch: 1, step: 1)
        try NonFiniteValueError.check(loss: 0.5, gradientNorm: nil, epoch: 1, step: 1)
    }

    @Test func reportsTheQuantityAndWhereItAppeared() {
        #expect(throws: NonFiniteValueError(quantity: "loss", value: .infinity, epoch: 3, step: 7)) {
            try NonFiniteValueError.check(loss: .infinity, gradientNorm: .nan, epoch: 3, step: 7)
        }
        do {
            try NonFiniteValueError.check(loss: 1, gradientNorm: .nan, epoch: 2, step: 17)
            Issue.record("a NaN gradient norm must throw")
        } catch {
            #expect(error.quantity == "gradient norm")
            #expect(error.description.contains("epoch 2, step 17"))
        }
    }
}
