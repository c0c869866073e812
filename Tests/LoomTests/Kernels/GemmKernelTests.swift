import Testing
@testable import Loom

/// A stored matrix with a row stride wider than its rows, filled with seeded values, and
/// the padding filled with a sentinel so stray reads and writes show.
private struct StridedMatrix<S: TensorScalar> {
    let rows: Int, columns: Int, stride: Int
    var storage: [S]

    init(rows: Int, columns: Int, padding: Int, fill: S? = nil, using generator: inout RandomGenerator) {
        self.rows = rows
        self.columns = columns
        self.stride = columns + padding
        storage = [S](repeating: StridedMatrix.sentinel, count: max(1, rows * stride))
        for i in 0..<rows {
            for j in 0..<columns {
                storage[i * stride + j] = fill ?? S(generator.nextUnit() * 2 - 1)
            }
        }
    }

    static var sentinel: S { 12345 }

    subscript(i: Int, j: Int) -> S { storage[i * stride + j] }
}

/// C = op(A)·op(B) (+ C when accumulating) in Double with a plain triple loop, plus the
/// sum of |terms| per element, which bounds the rounding error of any summation order.
private func reference<S: TensorScalar>(
    transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
    _ a: StridedMatrix<S>, _ b: StridedMatrix<S>, initial c: StridedMatrix<S>, accumulate: Bool
) -> (values: [Double], magnitudes: [Double]) {
    var values = [Double](repeating: 0, count: m * n), magnitudes = values
    for i in 0..<m {
        for j in 0..<n {
            var sum = accumulate ? Double(c[i, j]) : 0
            var magnitude = abs(sum)
            for p in 0..<k {
                let x = Double(transposeA ? a[p, i] : a[i, p]), y = Double(transposeB ? b[j, p] : b[p, j])
                sum += x * y
                magnitude += abs(x * y)
            }
            values[i * n + j] = sum
            magnitudes[i * n + j] = magnitude
        }
    }
    return (values, magnitudes)
}

/// Runs one gemm case against the reference; returns a description of the first mismatch.
private func checkGemm<S: TensorScalar>(
    _: S.Type, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, accumulate: Bool,
    padding: Int, threads: Int = 1, seed: UInt64
) -> String? {
    var generator = RandomGenerator(seed: seed)
    let a = StridedMatrix<S>(rows: transposeA ? k : m, columns: transposeA ? m : k, padding: padding, using: &generator)
    let b = StridedMatrix<S>(rows: transposeB ? n : k, columns: transposeB ? k : n, padding: padding, using: &generator)
    // Without accumulation C starts as NaN: the kernel must not read it.
    var c = StridedMatrix<S>(rows: m, columns: n, padding: padding, fill: accumulate ? nil : .nan, using: &generator)
    let expected = reference(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                             a, b, initial: c, accumulate: accumulate)
    a.storage.withUnsafeBufferPointer { aBuffer in
        b.storage.withUnsafeBufferPointer { bBuffer in
            c.storage.withUnsafeMutableBufferPointer { cBuffer in
                Kernels.gemmParallel(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                     aBuffer.baseAddress!, lda: a.stride, bBuffer.baseAddress!, ldb: b.stride,
                                     cBuffer.baseAddress!, ldc: c.stride, accumulate: accumulate, threads: threads)
            }
        }
    }
    let label = "\(S.dtypeName) \(transposeA ? "T" : "N")\(transposeB ? "T" : "N") m\(m) n\(n) k\(k) accumulate \(accumulate)"
    // Any order of summing k + 1 terms is within (k + 1)·ε·Σ|terms| of the exact sum.
    let epsilon = Double(S.ulpOfOne)
    for i in 0..<m {
        for j in 0..<n {
            let got = Double(c[i, j])
            let bound = Double(k + 2) * epsilon * expected.magnitudes[i * n + j] + 1e-300
            if !(abs(got - expected.values[i * n + j]) <= bound) {
                return "\(label): C[\(i), \(j)] = \(got), expected \(expected.values[i * n + j])"
            }
        }
        for j in n..<c.stride where c.storage[i * c.stride + j] != StridedMatrix<S>.sentinel {
            return "\(label): wrote C[\(i), \(j)] past the end of its row"
        }
    }
    return nil
}

@Suite struct GemmKernelTests {
    static let sizes = [1, 3, 7, 8, 9, 17, 33, 65, 130]
    static let depths = [1, 3, 8, 17, 130]

    /// Every transpose combination and accumulate mode over odd sizes, with padded strides.
    @Test(arguments: [false, true], [false, true])
    func matchesTheTripleLoopInFloat(transposeA: Bool, transposeB: Bool) {
        var failures: [String] = []
        var seed: UInt64 = 1
        for m in Self.sizes {
            for n in Self.sizes {
                for k in Self.depths where m * n * k <= 12_000 {
                    for accumulate in [false, true] {
                        seed += 1
                        if let failure = checkGemm(Float.self, transposeA: transposeA, transposeB: transposeB,
                                                   m: m, n: n, k: k, accumulate: accumulate, padding: 3, seed: seed) {
                            failures.append(failure)
                        }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test(arguments: [false, true], [false, true])
    func matchesTheTripleLoopInDouble(transposeA: Bool, transposeB: Bool) {
        var failures: [String] = []
        var seed: UInt64 = 1000
        for m in Self.sizes {
            for n in Self.sizes {
                for k in [1, 9, 130] where m * n * k <= 6_000 {
                    for accumulate in [false, true] {
                        seed += 1
                        if let failure = checkGemm(Double.self, transposeA: transposeA, transposeB: transposeB,
                                                   m: m, n: n, k: k, accumulate: accumulate, padding: 2, seed: seed) {
                            failures.append(failure)
                        }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    /// Shapes past the cache blocks: several K blocks (k > 512), several row blocks
    /// (m > 144), several column blocks (n > 4096), and tight strides.
    @Test func crossesTheCacheBlocks() {
        var failures: [String] = []
        let cases: [(m: Int, n: Int, k: Int)] = [(13, 9, 1100), (150, 7, 3), (1, 4100, 2), (3, 17, 520)]
        var seed: UInt64 = 5000
        for shape in cases {
            for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
                for accumulate in [false, true] {
                    seed += 1
                    if let failure = checkGemm(Float.self, transposeA: transposeA, transposeB: transposeB,
                                               m: shape.m, n: shape.n, k: shape.k, accumulate: accumulate,
                                               padding: 0, seed: seed) {
                        failures.append(failure)
                    }
                    if let failure = checkGemm(Double.self, transposeA: transposeA, transposeB: transposeB,
                                               m: shape.m, n: shape.n, k: shape.k, accumulate: accumulate,
                                               padding: 1, seed: seed) {
                        failures.append(failure)
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(5))")
    }

    @Test func zeroDepthClearsOrKeepsC() {
        var c: [Float] = [1, 2, 3, 4]
        let a: [Float] = [9], b: [Float] = [9]
        Kernels.gemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, a, lda: 1, b, ldb: 2, &c, ldc: 2, accumulate: true)
        #expect(c == [1, 2, 3, 4])
        Kernels.gemm(transposeA: false, transposeB: false, m: 2, n: 2, k: 0, a, lda: 1, b, ldb: 2, &c, ldc: 2, accumulate: false)
        #expect(c == [0, 0, 0, 0])
    }

    /// A transposed A, whether packed or read in place (one tile of columns, a narrow stored
    /// row), gives bitwise the product of its transpose stored row-major, on every path, with
    /// several K and row blocks and for one and two threads.
    @Test(arguments: InstructionSet.allCases)
    func transposedAGivesTheBitsOfItsTranspose(path: InstructionSet) {
        let cases: [(m: Int, n: Int, k: Int)] = [(128, 32, 560), (37, 9, 1100), (300, 20, 70), (13, 40, 600), (200, 100, 30)]
        for shape in cases {
            var generator = RandomGenerator(seed: UInt64(shape.m * 3 + shape.k))
            let stored = (0..<(shape.k * shape.m)).map { _ in Float(generator.nextNormal()) }  // [k, m]
            var transposed = [Float](repeating: 0, count: shape.m * shape.k)                 // [m, k]
            for p in 0..<shape.k { for i in 0..<shape.m { transposed[i * shape.k + p] = stored[p * shape.m + i] } }
            let b = (0..<(shape.k * shape.n)).map { _ in Float(generator.nextNormal()) }
            for threads in [1, 2] {
                var viaTranspose = [Float](repeating: 0, count: shape.m * shape.n), inPlace = viaTranspose
                InstructionSet.with(path) {
                    Kernels.gemmFloat(transposeA: true, transposeB: false, m: shape.m, n: shape.n, k: shape.k, stored, lda: shape.m,
                                      b, ldb: shape.n, &inPlace, ldc: shape.n, accumulate: false, threads: threads)
                    Kernels.gemmFloat(transposeA: false, transposeB: false, m: shape.m, n: shape.n, k: shape.k, transposed,
                                      lda: shape.k, b, ldb: shape.n, &viaTranspose, ldc: shape.n, accumulate: false, threads: threads)
                }
                #expect(inPlace.map(\.bitPattern) == viaTranspose.map(\.bitPattern), "\(path) \(shape) threads \(threads)")
            }
        }
    }

    /// The same product with 1, 2 and 3 threads, split by columns and by rows, with several
    /// K blocks: the results must be bitwise identical.
    @Test func resultsAreBitwiseIdenticalForAnyThreadCount() {
        let cases: [(m: Int, n: Int, k: Int)] = [(12, 80, 600), (100, 30, 90)]
        for shape in cases {
            for (transposeA, transposeB) in [(false, false), (true, true)] {
                var generator = RandomGenerator(seed: UInt64(shape.m * 7 + shape.n))
                let a = (0..<(shape.m * shape.k)).map { _ in Float(generator.nextNormal()) }
                let b = (0..<(shape.k * shape.n)).map { _ in Float(generator.nextNormal()) }
                #expect(shape.m * shape.n * shape.k >= Kernels.gemmParallelThreshold)
                func product(threads: Int) -> [Float] {
                    var c = [Float](repeating: 0, count: shape.m * shape.n)
                    Kernels.gemmFloat(transposeA: transposeA, transposeB: transposeB, m: shape.m, n: shape.n, k: shape.k,
                                      a, lda: transposeA ? shape.m : shape.k, b, ldb: transposeB ? shape.k : shape.n,
                                      &c, ldc: shape.n, accumulate: false, threads: threads)
                    return c
                }
                let single = product(threads: 1)
                let double = product(threads: 2), triple = product(threads: 3)
                let sameWithTwo = single.map(\.bitPattern) == double.map(\.bitPattern)
                let sameWithThree = single.map(\.bitPattern) == triple.map(\.bitPattern)
                #expect(sameWithTwo, "\(shape) 2 threads")
                #expect(sameWithThree, "\(shape) 3 threads")
            }
        }
    }

    @Test func partitionIsFixedAlignedAndCovering() {
        let parts = Parallel.partition(count: 100, parts: 3, granularity: 16)
        #expect(parts == [0..<48, 48..<80, 80..<100])
        #expect(Parallel.partition(count: 5, parts: 4, granularity: 6) == [0..<5])
        #expect(Parallel.partition(count: 0, parts: 2) == [])
        #expect(Parallel.partition(count: 7, parts: 2) == [0..<4, 4..<7])
    }

    @Test func tensorMatmulMatchesTheReference() {
        var generator = RandomGenerator(seed: 42)
        let a = Tensor<Float>.randn([3, 17, 33], using: &generator)
        let b = Tensor<Float>.randn([33, 9], using: &generator)
        let product = a.matmul(b)
        #expect(product.shape == [3, 17, 9])
        let av = a.scalars, bv = b.scalars, pv = product.scalars
        var worst: Float = 0
        for batch in 0..<3 {
            for i in 0..<17 {
                for j in 0..<9 {
                    var sum: Double = 0, magnitude: Double = 0
                    for p in 0..<33 {
                        let term = Double(av[batch * 17 * 33 + i * 33 + p]) * Double(bv[p * 9 + j])
                        sum += term
                        magnitude += abs(term)
                    }
                    let error = abs(Double(pv[batch * 17 * 9 + i * 9 + j]) - sum) / (35 * Double(Float.ulpOfOne) * magnitude)
                    worst = max(worst, Float(error))
                }
            }
        }
        #expect(worst <= 1, "error over the rounding bound: \(worst)")
    }

    @Test func tensorMatmulGradientsCheck() {
        var generator = RandomGenerator(seed: 3)
        let a = Tensor<Double>.randn([2, 7, 9], using: &generator)
        let b = Tensor<Double>.randn([9, 17], using: &generator)
        let report = gradientCheck([a, b]) { $0[0].matmul($0[1]) }
        #expect(report.passed, "\(report)")
    }
}
