import Testing
@testable import Loom

/// The thin path (one row, one column or one step of C's products) must give the blocked
/// product's bits, so the shape of a product never changes a result.
@Suite struct GemmThinTests {
    func compare<S: TensorScalar>(_: S.Type, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, accumulate: Bool,
                                  seed: UInt64) -> Bool {
        var generator = RandomGenerator(seed: seed)
        let lda = (transposeA ? m : k) + 2, ldb = (transposeB ? k : n) + 1, ldc = n + 3
        let a = (0..<((transposeA ? k : m) * lda)).map { _ in S(generator.nextUnit() * 2 - 1) }
        let b = (0..<((transposeB ? n : k) * ldb)).map { _ in S(generator.nextUnit() * 2 - 1) }
        let start = (0..<(m * ldc)).map { _ in S(generator.nextUnit() * 2 - 1) }
        var thin = start, blocked = start
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                thin.withUnsafeMutableBufferPointer { c in
                    Kernels.gemmThin(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a.baseAddress!, lda: lda,
                                     b.baseAddress!, ldb: ldb, c.baseAddress!, ldc: ldc, accumulate: accumulate)
                }
                blocked.withUnsafeMutableBufferPointer { c in
                    Kernels.gemmSerial(SIMD4<S>.self, tile: GemmTile(rows: 6, vectorsPerRow: 2), transposeA: transposeA, transposeB: transposeB, m: m, n: n,
                                       k: k, a.baseAddress!, lda: lda, b.baseAddress!, ldb: ldb, c.baseAddress!, ldc: ldc,
                                       accumulate: accumulate)
                }
            }
        }
        // Compare the elements of C only (the padding of each row is never written).
        for i in 0..<m { for j in 0..<n where thin[i * ldc + j] != blocked[i * ldc + j] { return false } }
        return true
    }

    @Test(arguments: [false, true], [false, true])
    func thinProductsGiveTheBlockedBits(transposeA: Bool, transposeB: Bool) {
        var failures: [String] = []
        var seed: UInt64 = 40
        // One row, one column, one step; depths across several K blocks (512 Float, 192 Double).
        let shapes = [(1, 37, 5), (1, 70, 600), (1, 1, 513), (29, 1, 300), (9, 1, 7), (31, 45, 1), (1, 20, 1), (8, 1, 1000)]
        for (m, n, k) in shapes {
            for accumulate in [false, true] {
                seed += 1
                if !compare(Float.self, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, accumulate: accumulate, seed: seed) {
                    failures.append("Float m\(m) n\(n) k\(k) accumulate \(accumulate)")
                }
                if !compare(Double.self, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, accumulate: accumulate, seed: seed) {
                    failures.append("Double m\(m) n\(n) k\(k) accumulate \(accumulate)")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures)")
    }
}
