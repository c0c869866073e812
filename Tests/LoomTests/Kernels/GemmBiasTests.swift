import Testing
@testable import Loom

/// `C = bias + op(A)·op(B)` written by the product itself (how `linear` adds its bias) must
/// give exactly the bits of filling C with the bias and accumulating the product into it,
/// on every SIMD path, for every thread count, blocked, thin and prepacked.
@Suite struct GemmBiasTests {
    func values<S: TensorScalar>(_ count: Int, seed: UInt64, as _: S.Type) -> [S] {
        var generator = RandomGenerator(seed: seed)
        return (0..<max(count, 1)).map { _ in S(generator.nextNormal()) }
    }

    /// The product with the bias written by the kernel (`prepacked`: through `GemmPackedB`),
    /// and the reference: C filled with the bias, then `accumulate`. C has a row stride
    /// wider than `n`, and its padding must stay untouched.
    func products<S: TensorScalar>(_: S.Type, path: InstructionSet, m: Int, n: Int, k: Int, transposeA: Bool,
                                   transposeB: Bool, threads: Int, prepacked: Bool) -> (actual: [S], expected: [S]) {
        let a = values(m * k, seed: 11, as: S.self), b = values(k * n, seed: 12, as: S.self)
        let bias = values(n, seed: 13, as: S.self)
        let ldc = n + 3, lda = transposeA ? m : k, ldb = transposeB ? k : n
        let padding = S(-7)
        var actual = [S](repeating: padding, count: max(m * ldc, 1))
        var expected = actual
        for i in 0..<m { for j in 0..<n { expected[i * ldc + j] = bias[j] } }
        InstructionSet.with(path) {
            Kernels.gemmParallel(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb,
                                 &expected, ldc: ldc, accumulate: true, threads: 1)
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    bias.withUnsafeBufferPointer { bias in
                        actual.withUnsafeMutableBufferPointer { c in
                            if prepacked {
                                let packed = GemmPackedB(b.baseAddress!, ldb: ldb, transposed: transposeB, k: k, n: n)
                                Kernels.gemmPrepacked(transposeA: transposeA, m: m, a.baseAddress!, lda: lda, packed,
                                                      c.baseAddress!, ldc: ldc, accumulate: false, bias: bias.baseAddress!,
                                                      threads: threads)
                            } else {
                                Kernels.gemmParallel(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                                     a.baseAddress!, lda: lda, b.baseAddress!, ldb: ldb, c.baseAddress!,
                                                     ldc: ldc, accumulate: false, bias: bias.baseAddress!, threads: threads)
                            }
                        }
                    }
                }
            }
        }
        return (actual, expected)
    }

    @Test(arguments: InstructionSet.allCases)
    func biasIsTheBitsOfFillingThenAccumulating(path: InstructionSet) {
        // Tails of every tile width, several K blocks (> 512), thin shapes (m, n or k = 1),
        // an empty shared dimension, and shapes split over threads by columns and by rows.
        let shapes: [(Int, Int, Int)] = [(1, 1, 1), (1, 40, 70), (33, 1, 9), (7, 17, 1), (13, 33, 5), (3, 5, 0),
                                         (32, 512, 128), (5, 40, 600), (300, 20, 70)]
        for (m, n, k) in shapes {
            for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
                for threads in [1, 2] {
                    for prepacked in [false, true] where !prepacked || !Kernels.gemmIsThin(m: m, n: n, k: k) {
                        let float = products(Float.self, path: path, m: m, n: n, k: k, transposeA: transposeA,
                                             transposeB: transposeB, threads: threads, prepacked: prepacked)
                        #expect(float.actual == float.expected,
                                "Float \(path) m \(m) n \(n) k \(k) tA \(transposeA) tB \(transposeB) threads \(threads) prepacked \(prepacked)")
                    }
                }
            }
        }
        for (m, n, k) in [(9, 13, 200), (64, 96, 64), (2, 1, 3)] {
            let double = products(Double.self, path: path, m: m, n: n, k: k, transposeA: false, transposeB: true,
                                  threads: 2, prepacked: false)
            #expect(double.actual == double.expected, "Double \(path) m \(m) n \(n) k \(k)")
        }
    }

    @Test func linearAddsItsBiasLikeTheSeparateSum() {
        // `linear` with a bias is `x · Wᵀ` plus the bias broadcast over the rows, bit for bit.
        var generator = RandomGenerator(seed: 5)
        let x = Tensor<Float>.randn([4, 6, 37], using: &generator)
        let weight = Tensor<Float>.randn([45, 37], using: &generator)
        let bias = Tensor<Float>.randn([45], using: &generator)
        for _ in 0..<2 {  // the second call multiplies by the weight's kept packed form
            let fused = linear(x, weight: weight, bias: bias)
            let separate = linear(x, weight: weight) + bias
            #expect(fused.shape == [4, 6, 45])
            #expect(fused.scalars == separate.scalars)
        }
    }
}
