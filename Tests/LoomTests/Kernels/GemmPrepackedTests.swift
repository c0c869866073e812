import Testing
@testable import Loom

/// `gemmPrepacked` (op(B) packed once, as the fused recurrence uses for `W_hh`; on the 8-row
/// and 6-row tiles a row-major A read in place) must give bitwise what `gemm` gives for the same
/// operands, for every thread count.
@Suite struct GemmPrepackedTests {
    private func compare<S: TensorScalar>(_: S.Type, m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool,
                                          accumulate: Bool, threads: Int) -> Bool {
        var generator = RandomGenerator(seed: UInt64(m * 1000 + n * 10 + k))
        // A's rows are wider than A (lda > its width), as a step's rows inside a batch are.
        let lda = transposeA ? m + 3 : k + 5, ldb = transposeB ? k : n
        let a = (0..<max(1, (transposeA ? k : m) * lda)).map { _ in S(generator.nextNormal()) }
        let b = (0..<max(1, k * n)).map { _ in S(generator.nextNormal()) }
        let start = (0..<max(1, m * n)).map { _ in S(generator.nextNormal()) }
        var expected = start, actual = start
        Kernels.gemmParallel(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb,
                             &expected, ldc: n, accumulate: accumulate, threads: 1)
        let packed = b.withUnsafeBufferPointer { GemmPackedB($0.baseAddress!, ldb: ldb, transposed: transposeB, k: k, n: n) }
        a.withUnsafeBufferPointer { aPointer in
            actual.withUnsafeMutableBufferPointer { c in
                Kernels.gemmPrepacked(transposeA: transposeA, m: m, aPointer.baseAddress!, lda: lda, packed, c.baseAddress!,
                                      ldc: n, accumulate: accumulate, threads: threads)
            }
        }
        return expected.map { Double($0) } == actual.map { Double($0) }
    }

    @Test(arguments: [false, true], [false, true])
    func matchesGemmBitwiseInFloat(transposeA: Bool, transposeB: Bool) {
        // Tails of every width, 1x1, k = 1, several K blocks (> 512), and sizes that split
        // over threads by columns (n wide) and by rows (m tall). One or two rows left below
        // the whole tiles (m = 7, 13, 32 on the 6-row tile, 10 on the 8-row one, 2, 14) run
        // the two-panel kernel over pairs of panels, a last unpaired panel (n = 33, 40, 70 - 64)
        // the 2V-wide one, also across several K blocks.
        let shapes: [(Int, Int, Int)] = [(1, 1, 1), (7, 17, 1), (13, 33, 5), (32, 512, 128), (5, 40, 600), (300, 20, 70),
                                         (2, 33, 600), (10, 70, 600), (14, 70, 600)]
        for (m, n, k) in shapes {
            for accumulate in [false, true] {
                for threads in [1, 2, 3] {
                    #expect(compare(Float.self, m: m, n: n, k: k, transposeA: transposeA, transposeB: transposeB,
                                    accumulate: accumulate, threads: threads),
                            "m \(m) n \(n) k \(k) accumulate \(accumulate) threads \(threads)")
                }
            }
        }
    }

    @Test func matchesGemmBitwiseInDouble() {
        for (m, n, k) in [(1, 1, 1), (9, 13, 200), (64, 96, 64)] {
            #expect(compare(Double.self, m: m, n: n, k: k, transposeA: false, transposeB: true, accumulate: true, threads: 2))
            #expect(compare(Double.self, m: m, n: n, k: k, transposeA: true, transposeB: false, accumulate: false, threads: 1))
        }
    }

    /// A row of C is the same bits whatever the number of rows in the product, so the edge
    /// tiles (fewer rows than the tile's, some on the 4- or 6-row kernel) compute exactly
    /// what full tiles do: the per-step products of sequences of different lengths rely on it.
    @Test(arguments: [false, true])
    func rowsDoNotDependOnTheRowCount(prepacked: Bool) {
        func rows<S: TensorScalar>(_: S.Type, m: Int, n: Int, k: Int) -> [S] {
            var generator = RandomGenerator(seed: 77)
            let a = (0..<(24 * k)).map { _ in S(generator.nextNormal()) }
            let b = (0..<(k * n)).map { _ in S(generator.nextNormal()) }
            let bias = (0..<n).map { _ in S(generator.nextNormal()) }
            var c = [S](repeating: 0, count: m * n)
            if prepacked {
                let packed = b.withUnsafeBufferPointer { GemmPackedB($0.baseAddress!, ldb: n, transposed: false, k: k, n: n) }
                Kernels.gemmPrepacked(transposeA: false, m: m, a, lda: k, packed, &c, ldc: n, accumulate: false, bias: bias)
            } else {
                Kernels.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a, lda: k, b, ldb: n, &c, ldc: n,
                             accumulate: false, bias: bias)
            }
            return c
        }
        for (n, k) in [(70, 33), (40, 300)] {
            let allFloat = rows(Float.self, m: 24, n: n, k: k), allDouble = rows(Double.self, m: 24, n: n, k: k)
            for m in 1..<24 {
                #expect(rows(Float.self, m: m, n: n, k: k) == Array(allFloat.prefix(m * n)), "Float m \(m) n \(n) k \(k)")
                #expect(rows(Double.self, m: m, n: n, k: k) == Array(allDouble.prefix(m * n)), "Double m \(m) n \(n) k \(k)")
            }
        }
    }

    @Test func zeroDepthClearsOrKeeps() {
        var c: [Float] = [1, 2, 3, 4]
        let a: [Float] = [0], b: [Float] = [0]
        let packed = b.withUnsafeBufferPointer { GemmPackedB($0.baseAddress!, ldb: 2, transposed: false, k: 0, n: 2) }
        Kernels.gemmPrepacked(transposeA: false, m: 2, a, lda: 0, packed, &c, ldc: 2, accumulate: true)
        #expect(c == [1, 2, 3, 4])
        Kernels.gemmPrepacked(transposeA: false, m: 2, a, lda: 0, packed, &c, ldc: 2, accumulate: false)
        #expect(c == [0, 0, 0, 0])
    }
}
