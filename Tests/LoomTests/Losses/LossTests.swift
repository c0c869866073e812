import Foundation
import Testing
@testable import Loom

@Suite struct LossTests {
    @Test func crossEntropyOfUniformLogitsIsLogC() {
        let logits = Tensor<Double>.zeros([2, 4]).requiringGrad()
        let loss = crossEntropy(logits, IntTensor([1, 3]))
        #expect(abs(loss.item - Foundation.log(4)) < 1e-15)
        #expect(loss.shape == [])
        loss.backward()
        let expected: [Double] = [0.125, -0.375, 0.125, 0.125, 0.125, 0.125, 0.125, -0.375]
        for (got, want) in zip(logits.grad!.scalars, expected) { #expect(abs(got - want) < 1e-15) }
    }

    @Test func crossEntropyReductionsAndIgnoreIndex() {
        let logits = Tensor<Double>([[0, Foundation.log(3)], [1, 1], [2, 0]])
        let targets = IntTensor([1, -100, 0])
        let first = -Foundation.log(0.75), third = Foundation.log(1 + Foundation.exp(Double(-2)))
        let none = crossEntropy(logits, targets, reduction: .none).scalars
        #expect(none.count == 3 && abs(none[0] - first) < 1e-15 && none[1] == 0 && abs(none[2] - third) < 1e-15)
        #expect(abs(crossEntropy(logits, targets, reduction: .sum).item - (first + third)) < 1e-15)
        // The mean divides by the two counted targets, not three.
        #expect(abs(crossEntropy(logits, targets).item - (first + third) / 2) < 1e-15)
        // ignoreIndex may be a valid class.
        #expect(abs(crossEntropy(logits, IntTensor([1, 0, 0]), ignoreIndex: 0).item - first) < 1e-15)
    }

    @Test func crossEntropyAllIgnoredGivesZeroLossAndGradient() {
        for reduction in Reduction.allCases {
            let logits = Tensor<Float>([[1, 2], [3, 4]]).requiringGrad()
            let loss = crossEntropy(logits, IntTensor([-100, -100]), reduction: reduction)
            #expect(loss.scalars.allSatisfy { $0 == 0 })
            loss.backward(Tensor<Float>.ones(loss.shape))
            #expect(logits.grad!.scalars == [0, 0, 0, 0])
        }
    }

    @Test func crossEntropyIsStableForHugeLogitsInFloat() {
        let logits = Tensor<Float>([[1000, -1000, 0], [-80, 80, 0]]).requiringGrad()
        let loss = crossEntropy(logits, IntTensor([1, 1]), reduction: .none)
        #expect(abs(loss.scalars[0] - 2000) < 1e-3 && loss.scalars[1] == 0)
        loss.backward(Tensor<Float>.ones([2]))
        // Row 0: softmax is [1, 0, 0] exactly; row 1: [0, 1, e^-80], and e^-80 is a normal Float.
        let grad = logits.grad!.scalars
        #expect(Array(grad[0..<5]) == [1, -1, 0, 0, 0])
        #expect(abs(grad[5] - Float.exp(-80)) <= 1e-6 * Float.exp(-80))
    }

    @Test func crossEntropyGradientChecks() {
        var rng = RandomGenerator(seed: 30)
        let logits = Tensor<Double>.randn([5, 4], using: &rng)
        let targets = IntTensor([3, -100, 0, 3, 1])
        for reduction in Reduction.allCases {
            let report = gradientCheck([logits]) { crossEntropy($0[0], targets, reduction: reduction) }
            #expect(report.passed, "\(reduction): \(report)")
        }
        let ignoringTwo = gradientCheck([logits]) { crossEntropy($0[0], IntTensor([3, 2, 0, 2, 1]), ignoreIndex: 2) }
        #expect(ignoringTwo.passed, "\(ignoringTwo)")
    }

    @Test func crossEntropyEqualsNLLOfLogSoftmax() {
        var rng = RandomGenerator(seed: 31)
        let logits = Tensor<Double>.randn([6, 5], using: &rng)
        let targets = IntTensor([4, 0, -100, 2, 2, 1])
        for reduction in Reduction.allCases {
            let fused = crossEntropy(logits, targets, reduction: reduction).scalars
            let composed = nllLoss(logits.logSoftmax(dim: 1), targets, reduction: reduction).scalars
            for (a, b) in zip(fused, composed) { #expect(abs(a - b) < 1e-14) }
        }
    }

    @Test func nllLossValuesAndGradient() {
        let logProbs = Tensor<Double>([[-1, -2], [-3, -4]]).requiringGrad()
        #expect(nllLoss(logProbs, IntTensor([1, 0]), reduction: .sum).item == 5)
        #expect(nllLoss(logProbs, IntTensor([1, 0]), reduction: .none).scalars == [2, 3])
        let mean = nllLoss(logProbs, IntTensor([1, 0]))
        #expect(mean.item == 2.5)
        mean.backward()
        #expect(logProbs.grad!.scalars == [0, -0.5, -0.5, 0])
        let allIgnored = nllLoss(logProbs, IntTensor([7, 7]), ignoreIndex: 7)
        #expect(allIgnored.item == 0)

        var rng = RandomGenerator(seed: 32)
        let x = Tensor<Double>.randn([4, 3], using: &rng)
        for reduction in Reduction.allCases {
            let report = gradientCheck([x]) { nllLoss($0[0], IntTensor([2, 0, -100, 2]), reduction: reduction) }
            #expect(report.passed, "\(reduction): \(report)")
        }
    }

    @Test func bceWithLogitsIsExactAtSixty() {
        let logits = Tensor<Float>([60, -60, 60, 0]).requiringGrad()
        let targets = Tensor<Float>([0, 1, 1, 0.25])
        let loss = binaryCrossEntropyWithLogits(logits, targets, reduction: .none)
        let values = loss.scalars
        #expect(values[0] == 60 && values[1] == 60)
        #expect(values[2] >= 0 && values[2] < 1e-20)
        #expect(abs(values[3] - Float.log(2)) < 1e-7)
        loss.backward(Tensor<Float>.ones([4]))
        #expect(logits.grad!.scalars == [1, -1, 0, 0.25])
        let sum = binaryCrossEntropyWithLogits(Tensor<Double>([60, -60]), Tensor<Double>([0, 1]), reduction: .sum)
        #expect(sum.item == 120)
        let mean = binaryCrossEntropyWithLogits(Tensor<Double>([60, -60]), Tensor<Double>([0, 1]))
        #expect(mean.item == 60)
    }

    @Test func bceWithLogitsGradientChecks() {
        var rng = RandomGenerator(seed: 33)
        let logits = Tensor<Double>.randn([3, 4], using: &rng) * 3
        let targets = Tensor<Double>.uniform([3, 4], using: &rng)
        for reduction in Reduction.allCases {
            let report = gradientCheck([logits, targets]) { binaryCrossEntropyWithLogits($0[0], $0[1], reduction: reduction) }
            #expect(report.passed, "\(reduction): \(report)")
        }
    }

    @Test func mseLossValuesAndGradientChecks() {
        let prediction = Tensor<Double>([1, 2]).requiringGrad()
        let target = Tensor<Double>([0, 0])
        #expect(mseLoss(prediction, target, reduction: .sum).item == 5)
        #expect(mseLoss(prediction, target, reduction: .none).scalars == [1, 4])
        let mean = mseLoss(prediction, target)
        #expect(mean.item == 2.5)
        mean.backward()
        #expect(prediction.grad!.scalars == [1, 2])

        var rng = RandomGenerator(seed: 34)
        let p = Tensor<Double>.randn([2, 3], using: &rng), t = Tensor<Double>.randn([2, 3], using: &rng)
        for reduction in Reduction.allCases {
            let report = gradientCheck([p, t]) { mseLoss($0[0], $0[1], reduction: reduction) }
            #expect(report.passed, "\(reduction): \(report)")
        }
    }

    @Test func reductionNamesRoundTrip() {
        for reduction in Reduction.allCases { #expect(Reduction(name: reduction.name) == reduction) }
        #expect(Reduction(name: "average") == nil)
    }

    @Test func outOfRangeTargetStopsNamingTheValueAndClassCount() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            _ = crossEntropy(Tensor<Double>.zeros([2, 3]), IntTensor([1, 3]))
        }
        if let result {
            let message = String(decoding: result.standardErrorContent, as: UTF8.self)
            #expect(message.contains("crossEntropy: target 3 is out of range for 3 classes"), "\(message)")
        }
    }
}
