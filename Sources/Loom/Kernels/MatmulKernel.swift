extension Kernels {
    /// General matrix multiply on row-major matrices:
    /// `C[M, N] = op(A) · op(B)` (or `+=` when `accumulate`), where `op(A)` is `[M, K]`
    /// (`A` stored `[K, M]` when `transposeA`) and `op(B)` is `[K, N]` (`B` stored `[N, K]`
    /// when `transposeB`). `lda`, `ldb`, `ldc` are the row strides of the stored matrices.
    @inlinable
    public static func gemm<S: TensorScalar>(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        _ a: UnsafePointer<S>, lda: Int, _ b: UnsafePointer<S>, ldb: Int,
        _ c: UnsafeMutablePointer<S>, ldc: Int, accumulate: Bool
    ) {
        if m == 0 || n == 0 { return }
        if !accumulate {
            for i in 0..<m { (c + i * ldc).initialize(repeating: 0, count: n) }
        }
        if k == 0 { return }
        // Bring B to [K, N] row-major so the inner loop streams along N.
        var packedB: UnsafeMutablePointer<S>? = nil
        var bRows = b, bStride = ldb
        if transposeB {
            let packed = UnsafeMutablePointer<S>.allocate(capacity: k * n)
            for j in 0..<n { for p in 0..<k { packed[p * n + j] = b[j * ldb + p] } }
            packedB = packed
            bRows = UnsafePointer(packed)
            bStride = n
        }
        defer { packedB?.deallocate() }
        for i in 0..<m {
            let cRow = c + i * ldc
            for p in 0..<k {
                let aValue = transposeA ? a[p * lda + i] : a[i * lda + p]
                axpy(aValue, bRows + p * bStride, cRow, count: n)
            }
        }
    }
}
