import Testing
@testable import Loom

/// The row sums of op(A) that a product takes while packing A (how a weight gradient's
/// product also gives the bias's gradient) must be each row summed from zero in step order,
/// bit for bit, on every SIMD path and thread count, and must leave C as it is without them.
@Suite struct GemmRowSumsTests {
    func values<S: TensorScalar>(_ count: Int, seed: UInt64, as _: S.Type) -> [S] {
        var generator = RandomGenerator(seed: seed)
        return (0..<max(count, 1)).map { _ in S(generator.nextNormal()) }
    }

    /// The product with and without `rowSumsOfA`, the sums, and the reference sums
    /// `0 + op(A)[i, 0] + op(A)[i, 1] + ...`.
    func run<S: TensorScalar>(_: S.Type, path: InstructionSet, m: Int, n: Int, k: Int, transposeA: Bool, threads: Int)
        -> (c: [S], cWithSums: [S], sums: [S], expected: [S]) {
        let a = values(m * k, seed: 21, as: S.self), b = values(k * n, seed: 22, as: S.self)
        let lda = transposeA ? m : k
        var expected = [S](repeating: 0, count: m)
        for i in 0..<m {
            var sum: S = 0
            for p in 0..<k { sum += transposeA ? a[p * lda + i] : a[i * lda + p] }
            expected[i] = sum
        }
        var c = [S](repeating: 0, count: max(m * n, 1)), cWithSums = c
        var sums = [S](repeating: S(-3), count: max(m, 1))
        InstructionSet.with(path) {
            Kernels.gemmParallel(transposeA: transposeA, transposeB: false, m: m, n: n, k: k, a, lda: lda, b, ldb: n,
                                 &c, ldc: n, accumulate: false, threads: threads)
            sums.withUnsafeMutableBufferPointer { sums in
                Kernels.gemmParallel(transposeA: transposeA, transposeB: false, m: m, n: n, k: k, a, lda: lda, b, ldb: n,
                                     &cWithSums, ldc: n, accumulate: false, rowSumsOfA: sums.baseAddress!, threads: threads)
            }
        }
        return (c, cWithSums, Array(sums.prefix(m)), expected)
    }

    @Test(arguments: InstructionSet.allCases)
    func rowSumsAreEachRowInStepOrder(path: InstructionSet) {
        // Thin shapes (m, n or k = 1), an empty shared dimension, partial panels, several row
        // blocks (> 144) and K blocks (> 512), two column blocks (> 4096), and shapes split over
        // threads by columns and by rows.
        let shapes: [(Int, Int, Int)] = [(1, 1, 1), (1, 40, 70), (33, 1, 9), (7, 17, 1), (13, 33, 5), (3, 5, 0),
                                         (300, 20, 1100), (100, 20, 600), (20, 4100, 9), (64, 96, 64), (517, 40, 37)]
        for (m, n, k) in shapes {
            for transposeA in [true, false] {
                for threads in [1, 2] {
                    let float = run(Float.self, path: path, m: m, n: n, k: k, transposeA: transposeA, threads: threads)
                    let label = "\(path) m \(m) n \(n) k \(k) tA \(transposeA) threads \(threads)"
                    #expect(float.sums == float.expected, "Float sums \(label)")
                    #expect(float.cWithSums == float.c, "Float product \(label)")
                }
            }
        }
        for (m, n, k) in [(9, 13, 200), (70, 96, 400), (2, 1, 3)] {
            for transposeA in [true, false] {
                let double = run(Double.self, path: path, m: m, n: n, k: k, transposeA: transposeA, threads: 2)
                #expect(double.sums == double.expected, "Double sums \(path) m \(m) n \(n) k \(k) tA \(transposeA)")
                #expect(double.cWithSums == double.c, "Double product \(path) m \(m) n \(n) k \(k) tA \(transposeA)")
            }
        }
    }

    @Test func linearBiasGradientIsTheSumOverRowsInOrder() {
        // The bias's gradient comes out of the weight's product; it must be the sum of the
        // output gradient's rows in row order, and the weight's gradient as without a bias.
        var generator = RandomGenerator(seed: 8)
        let x = Tensor<Float>.randn([700, 37], using: &generator)
        let weight = Tensor<Float>.randn([45, 37], using: &generator).requiringGrad()
        let bias = Tensor<Float>.randn([45], using: &generator).requiringGrad()
        let outputGradient = Tensor<Float>.randn([700, 45], using: &generator)
        (linear(x, weight: weight, bias: bias) * outputGradient).sum().backward()
        let g = outputGradient.scalars
        var expected = [Float](repeating: 0, count: 45)
        for row in 0..<700 { for j in 0..<45 { expected[j] += g[row * 45 + j] } }
        #expect(bias.grad?.scalars == expected)
        let withBias = weight.grad?.scalars
        weight.zeroGrad()
        (linear(x, weight: weight) * outputGradient).sum().backward()
        #expect(weight.grad?.scalars == withBias)
    }
}
