import Testing
@testable import Loom

/// `Kernels.gemmSharingA`: two products with the same left operand, run as one over both
/// right operands, give bitwise what two `gemm` calls give, on every path and thread count.
@Suite struct GemmSharedOperandTests {
    func values<S: TensorScalar>(_ count: Int, seed: UInt64, as _: S.Type) -> [S] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in S(generator.nextNormal()) }
    }

    /// `(C₁, C₂, row sums)` from one shared product, or from two `gemm` calls when `separate`.
    /// The B's and C's have row strides wider than their columns, to catch a mixed-up stride.
    func products<S: TensorScalar>(_: S.Type, transposeA: Bool, m: Int, k: Int, n1: Int, n2: Int, separate: Bool)
        -> (c1: [S], c2: [S], sums: [S]) {
        let (ldb1, ldb2, ldc1, ldc2) = (n1 + 3, n2 + 5, n1 + 2, n2 + 1)
        let a = values(m * k, seed: 1, as: S.self)
        let b1 = values(k * ldb1, seed: 2, as: S.self), b2 = values(k * ldb2, seed: 3, as: S.self)
        var c1 = [S](repeating: -7, count: m * ldc1), c2 = [S](repeating: -7, count: m * ldc2)
        var sums = [S](repeating: -7, count: m)
        let lda = transposeA ? m : k
        a.withUnsafeBufferPointer { a in
            b1.withUnsafeBufferPointer { b1 in
                b2.withUnsafeBufferPointer { b2 in
                    c1.withUnsafeMutableBufferPointer { c1 in
                        c2.withUnsafeMutableBufferPointer { c2 in
                            sums.withUnsafeMutableBufferPointer { sums in
                                let (a, b1, b2, c1, c2) = (a.baseAddress!, b1.baseAddress!, b2.baseAddress!, c1.baseAddress!, c2.baseAddress!)
                                if separate {
                                    Kernels.gemm(transposeA: transposeA, transposeB: false, m: m, n: n1, k: k, a, lda: lda, b1, ldb: ldb1,
                                                 c1, ldc: ldc1, accumulate: false, rowSumsOfA: sums.baseAddress!)
                                    Kernels.gemm(transposeA: transposeA, transposeB: false, m: m, n: n2, k: k, a, lda: lda, b2, ldb: ldb2,
                                                 c2, ldc: ldc2, accumulate: false)
                                } else {
                                    Kernels.gemmSharingA(transposeA: transposeA, m: m, k: k, a, lda: lda, b1, ldb1: ldb1, n1: n1, c1,
                                                         ldc1: ldc1, b2, ldb2: ldb2, n2: n2, c2, ldc2: ldc2, rowSumsOfA: sums.baseAddress!)
                                }
                            }
                        }
                    }
                }
            }
        }
        return (c1, c2, sums)
    }

    /// Shapes of weight gradients `gᵀ · [h | x]`: hidden widths that are whole tiles on every
    /// path (so the product is shared) and not (so it falls back), input widths of one tile or
    /// less (a separate product would read A in place), a first width that is not whole tiles
    /// beside a second that is (run as `[B₂ | B₁]`), thin and multi-block depths.
    @Test(arguments: [(96, 300, 64, 40), (48, 37, 32, 16), (30, 700, 64, 100), (13, 5, 16, 3), (40, 300, 20, 50),
                      (36, 90, 100, 32), (20, 40, 7, 64), (64, 1, 32, 32), (24, 64, 32, 1)])
    func sharedProductIsBitwiseTwoProducts(shape: (Int, Int, Int, Int)) {
        let (m, k, n1, n2) = shape
        for transposeA in [true, false] {
            for path in InstructionSet.allCases {
                for threads in [1, 2] {
                    InstructionSet.with(path) {
                        Threads.withCount(threads) {
                            let shared = products(Float.self, transposeA: transposeA, m: m, k: k, n1: n1, n2: n2, separate: false)
                            let separate = products(Float.self, transposeA: transposeA, m: m, k: k, n1: n1, n2: n2, separate: true)
                            #expect(shared.c1 == separate.c1, "C₁ \(path) threads \(threads) \(shape) transposeA \(transposeA)")
                            #expect(shared.c2 == separate.c2, "C₂ \(path) threads \(threads) \(shape) transposeA \(transposeA)")
                            #expect(shared.sums == separate.sums, "row sums \(path) threads \(threads) \(shape)")
                            let sharedDouble = products(Double.self, transposeA: transposeA, m: m, k: k, n1: n1, n2: n2, separate: false)
                            let separateDouble = products(Double.self, transposeA: transposeA, m: m, k: k, n1: n1, n2: n2, separate: true)
                            #expect(sharedDouble.c1 == separateDouble.c1 && sharedDouble.c2 == separateDouble.c2,
                                    "Double \(path) threads \(threads) \(shape)")
                        }
                    }
                }
            }
        }
    }

    /// The padding between rows of C (past each row's columns) is left alone.
    @Test(arguments: [(32, 24), (20, 32)])
    func writesOnlyTheColumnsOfEachOutput(widths: (Int, Int)) {
        let (m, k, n1, n2) = (20, 50, widths.0, widths.1)
        let result = products(Float.self, transposeA: true, m: m, k: k, n1: n1, n2: n2, separate: false)
        for row in 0..<m {
            #expect(result.c1[row * (n1 + 2) + n1 ..< (row + 1) * (n1 + 2)].allSatisfy { $0 == -7 })
            #expect(result.c2[row * (n2 + 1) + n2 ..< (row + 1) * (n2 + 1)].allSatisfy { $0 == -7 })
        }
    }
}
