import Foundation
import Testing
@testable import Loom

@Suite struct SoftmaxTests {
    @Test func forwardValues() {
        let x = Tensor<Double>([[0, Foundation.log(3)], [5, 5]])
        let p = x.softmax(dim: 1).scalars
        let expected: [Double] = [0.25, 0.75, 0.5, 0.5]
        for (got, want) in zip(p, expected) { #expect(abs(got - want) < 1e-15) }
        let logP = logSoftmax(x, dim: -1).scalars
        for (got, want) in zip(logP, expected.map { Foundation.log($0) }) { #expect(abs(got - want) < 1e-15) }
        // Along dim 0 the columns are normalized.
        let columns = softmax(x, dim: 0).scalars
        #expect(abs(columns[0] - 1 / (1 + Foundation.exp(5))) < 1e-15)
        #expect(abs(columns[0] + columns[2] - 1) < 1e-15)
    }

    @Test func gradientChecksOverEveryDim() {
        var rng = RandomGenerator(seed: 20)
        let x = Tensor<Double>.randn([3, 4, 11], using: &rng)
        for dim in [0, 1, 2, -1] {
            let soft = gradientCheck([x]) { $0[0].softmax(dim: dim) }
            let log = gradientCheck([x]) { $0[0].logSoftmax(dim: dim) }
            #expect(soft.passed, "softmax dim \(dim): \(soft)")
            #expect(log.passed, "logSoftmax dim \(dim): \(log)")
        }
    }

    @Test func middleAxisMatchesLastAxisAfterTransposition() {
        // softmax over dim 1 of [2, 3, 2] equals softmax over the last axis of the same data
        // laid out [2, 2, 3]: compare element by element.
        var rng = RandomGenerator(seed: 21)
        let x = Tensor<Double>.randn([2, 3, 2], using: &rng)
        let y = x.logSoftmax(dim: 1)
        for a in 0..<2 {
            for c in 0..<2 {
                let row = (0..<3).map { x[a, $0, c] }
                let m = row.max()!
                let lse = m + Foundation.log(row.map { Foundation.exp($0 - m) }.reduce(0, +))
                for b in 0..<3 { #expect(abs(y[a, b, c] - (row[b] - lse)) < 1e-14) }
            }
        }
    }

    @Test func logSoftmaxStaysFiniteForHugeLogitsInFloat() {
        let x = Tensor<Float>([[80, -80, 0], [1000, -1000, 0], [-1000, -1000, -1000]]).requiringGrad()
        let y = x.logSoftmax(dim: 1)
        #expect(y.scalars.allSatisfy { $0.isFinite })
        let expected: [Float] = [0, -160, -80, 0, -2000, -1000, -Float.log(3), -Float.log(3), -Float.log(3)]
        for (got, want) in zip(y.scalars, expected) { #expect(abs(got - want) <= 1e-5 * max(1, abs(want))) }
        (y * Tensor<Float>.ones([3, 3])).sum().backward()
        #expect(x.grad!.scalars.allSatisfy { $0.isFinite })
        let soft = x.softmax(dim: 1).scalars
        #expect(soft.allSatisfy { $0.isFinite })
        #expect(soft[3] == 1 && soft[4] == 0)
    }
}
