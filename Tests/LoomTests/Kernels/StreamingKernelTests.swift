import Foundation
import Testing
@testable import Loom

/// The streaming kernels of a training step's tail: `Kernels.sumOfSquares` (clipGradNorm),
/// `Kernels.adamStep` with its vector square root, Adam split over threads, and the in-place
/// rescale of `clipGradNorm`.
@Suite struct StreamingKernelTests {
    /// Odd sizes: below one vector, around the 16-lane block, and a long odd tail.
    static let sizes = [0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 1001, 4099]

    func values(_ count: Int, seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in Float(generator.nextNormal()) }
    }

    @Test(arguments: sizes) func sumOfSquaresMatchesAWidenedSerialSum(count: Int) {
        let x = values(count, seed: UInt64(count) + 1)
        let expected = x.reduce(0.0) { $0 + Double($1) * Double($1) }
        let got = x.withUnsafeBufferPointer { Kernels.sumOfSquares($0.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: count) }
        // Only the order of the Double additions differs.
        #expect(Swift.abs(got - expected) <= 1e-12 * Swift.max(expected, 1), "count \(count): \(got) vs \(expected)")
    }

    @Test func sumOfSquaresInDouble() {
        let x: [Double] = (0..<37).map { Double($0) * 0.25 - 3 }
        let expected = x.reduce(0.0) { $0 + $1 * $1 }
        let got = x.withUnsafeBufferPointer { Kernels.sumOfSquares($0.baseAddress!, count: x.count) }
        #expect(Swift.abs(got - expected) <= 1e-12 * expected)
    }

    /// The vector kernel against the formula written out per element in Float with the same
    /// operations in the same order — the kernels' multiply-add (`addingMultiplied`: fused in a
    /// native build, a product and a sum in a portable one) where the kernel uses it — so the
    /// results agree bitwise in either build.
    @Test(arguments: sizes) func adamStepMatchesTheScalarFormula(count: Int) {
        var p = values(count, seed: 11), m = values(count, seed: 12).map { $0 * 0.1 }
        var v = values(count, seed: 13).map { $0 * $0 * 0.01 }
        let g = values(count, seed: 14)
        let (beta1, beta2, epsilon, stepSize, root, l2, decay): (Float, Float, Float, Float, Float, Float, Float) =
            (0.9, 0.999, 1e-8, 1e-3 / 0.1, 0.0447, 0.01, 0.999)
        var expectedP = p, expectedM = m, expectedV = v
        for i in 0..<count {
            // The same multiply-adds in the vector body and in the tail.
            let grad = g[i].addingMultiplied(l2, p[i])
            let mi = (m[i] * beta1).addingMultiplied(1 - beta1, grad)
            let vi = (v[i] * beta2).addingMultiplied(1 - beta2, grad * grad)
            expectedP[i] = p[i] * decay - stepSize * (mi / (vi.squareRoot() / root + epsilon))
            expectedM[i] = mi
            expectedV[i] = vi
        }
        if count > 0 {
            Kernels.adamStep(parameter: &p, gradient: g, firstMoment: &m, secondMoment: &v, count: count,
                             beta1: beta1, beta2: beta2, epsilon: epsilon, stepSize: stepSize,
                             biasCorrection2Root: root, l2: l2, decay: decay)
        }
        #expect(p == expectedP, "p, count \(count)")
        #expect(m == expectedM, "m, count \(count)")
        #expect(v == expectedV, "v, count \(count)")
    }

    @Test func vectorSquareRootIsCorrectlyRoundedAndKeepsNaN() {
        let input = SIMD8<Float>(0, 1e-30, 2, 3, 1e20, .nan, -0.0, 7)
        let root = Kernels.squareRootOfNonNegative(input)
        for lane in 0..<8 where !input[lane].isNaN {
            #expect(root[lane] == input[lane].squareRoot(), "lane \(lane)")
        }
        #expect(root[5].isNaN)
        #expect(Kernels.squareRootOfNonNegative(SIMD8<Float>(repeating: -4)) == SIMD8<Float>(repeating: 0))
    }

    /// A tensor large enough to be split over threads gives bitwise the same update with one
    /// and with three threads (an odd split).
    @Test func adamIsBitwiseIdenticalForAnyThreadCount() {
        let count = Adam<Float>.parallelMinimumCount + 12_345
        func run(threads: Int) -> [Float] { Threads.withCount(threads) {
            #expect(Threads.count == threads)
            var p = Tensor<Float>(shape: [count], scalars: values(count, seed: 21)).requiringGrad()
            var adam = Adam<Float>(learningRate: 1e-2, weightDecay: 0.1)
            for step in 0..<3 {
                p.grad = Tensor(shape: [count], scalars: values(count, seed: 30 + UInt64(step)))
                adam.update(&p, key: "p")
            }
            return p.scalars
        } }
        let one = run(threads: 1), three = run(threads: 3)
        #expect(one == three)
    }

    /// clipGradNorm rescales the gradient the parameter holds (in place: no second copy is
    /// left behind) and the value matches the coefficient.
    @Test func clipGradNormRescalesTheParametersGradient() {
        let count = 1003
        let p = Tensor<Float>(shape: [count], scalars: values(count, seed: 5)).requiringGrad()
        let q = Tensor<Float>(shape: [3], scalars: [3, 0, 4]).requiringGrad()
        let gradient = values(count, seed: 6)
        p.grad = Tensor(shape: [count], scalars: gradient)
        q.grad = Tensor(shape: [3], scalars: [3, 0, 4])
        let expectedNorm = (gradient.reduce(0.0) { $0 + Double($1) * Double($1) } + 25).squareRoot()
        let norm = clipGradNorm([p, q], maxNorm: 1)
        #expect(Swift.abs(norm - expectedNorm) <= 1e-9 * expectedNorm)
        let coefficient = Float(1 / (expectedNorm + 1e-6))
        let clipped = p.grad!.scalars
        for i in [0, 1, 500, count - 1] {
            #expect(Swift.abs(clipped[i] - gradient[i] * coefficient) <= 2 * Swift.abs(gradient[i] * coefficient).ulp)
        }
        #expect(q.grad!.scalars == [3 * coefficient, 0, 4 * coefficient])
        let after = clipGradNorm([p, q], maxNorm: 1)
        #expect(Swift.abs(after - 1) < 1e-5)
    }
}
