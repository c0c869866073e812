// Two products that share their left operand, run as one product over the columns of both:
// the weight gradients of a recurrent layer, `dW_hh = gᵀ · h` and `dW_ih = gᵀ · x`, read the
// same gate gradients `g`, which a product packs (transposed) before it multiplies; as one
// product `gᵀ · [h | x]` they are packed once.

extension Kernels {
    /// `C₁ = op(A) · B₁` (`[M, N₁]`) and `C₂ = op(A) · B₂` (`[M, N₂]`), overwriting both, with
    /// `op(A)` as in ``gemm(transposeA:transposeB:m:n:k:_:lda:_:ldb:_:ldc:accumulate:bias:rowSumsOfA:)``
    /// and the B's stored `[K, N₁]` and `[K, N₂]` (row strides `ldb₁`, `ldb₂`): one product over
    /// `[B₁ | B₂]`, so A is packed once where two `gemm` calls would pack it twice. Every element
    /// gets the bits of its own `gemm` call (those depend on K only). With `rowSumsOfA`, also the
    /// sums of the rows of op(A), as `gemm` takes them. The split between the two must fall on
    /// a boundary of the microkernel's tiles on the SIMD path in effect: when `N₁` is not a
    /// whole number of tiles it runs as `[B₂ | B₁]` if `N₂` is, else (or when a product is a
    /// thin one) as the two `gemm` calls.
    package static func gemmSharingA<S: TensorScalar>(
        transposeA: Bool, m: Int, k: Int, _ a: UnsafePointer<S>, lda: Int,
        _ b1: UnsafePointer<S>, ldb1: Int, n1: Int, _ c1: UnsafeMutablePointer<S>, ldc1: Int,
        _ b2: UnsafePointer<S>, ldb2: Int, n2: Int, _ c2: UnsafeMutablePointer<S>, ldc2: Int,
        rowSumsOfA: UnsafeMutablePointer<S>? = nil
    ) {
        let tileColumns = gemmColumnsPerTile(InstructionSet.current, S.self)
        let neitherIsThin = m > 1 && k > 1 && n1 > 1 && n2 > 1
        if neitherIsThin && n1 % tileColumns != 0 && n2 % tileColumns == 0 {
            return gemmSharingA(transposeA: transposeA, m: m, k: k, a, lda: lda, b2, ldb1: ldb2, n1: n2, c2, ldc1: ldc2,
                                b1, ldb2: ldb1, n2: n1, c1, ldc2: ldc1, rowSumsOfA: rowSumsOfA)
        }
        guard neitherIsThin && n1 % tileColumns == 0 else {
            gemm(transposeA: transposeA, transposeB: false, m: m, n: n1, k: k, a, lda: lda, b1, ldb: ldb1, c1, ldc: ldc1,
                 accumulate: false, rowSumsOfA: rowSumsOfA)
            gemm(transposeA: transposeA, transposeB: false, m: m, n: n2, k: k, a, lda: lda, b2, ldb: ldb2, c2, ldc: ldc2,
                 accumulate: false)
            return
        }
        gemmParallel(transposeA: transposeA, transposeB: false, m: m, n: n1 + n2, k: k, a, lda: lda, b1, ldb: ldb1,
                     c1, ldc: ldc1, accumulate: false, rowSumsOfA: rowSumsOfA,
                     second: GemmSecondColumns(start: n1, b: b2, ldb: ldb2, c: c2, ldc: ldc2), threads: Threads.count)
    }
}

/// The columns of a product's B and C from `start` on, when they live in a second pair of
/// matrices: B is `[B₁ | B₂]` (not transposed) and C `[C₁ | C₂]`, split after `start`
/// columns, a whole number of microkernel tiles, so no tile straddles the two.
@usableFromInline
struct GemmSecondColumns<S: TensorScalar> {
    /// The number of columns in the first B and C.
    let start: Int
    /// The second B, `[K, N - start]`, row stride `ldb`.
    let b: UnsafePointer<S>, ldb: Int
    /// The second C, `[M, N - start]`, row stride `ldc`.
    let c: UnsafeMutablePointer<S>, ldc: Int

    /// The split as seen by the part of the product that has its columns `from..<from + count`:
    /// nil when they all lie before `start` (the caller handles a part wholly after it).
    func columns(from: Int, count: Int) -> GemmSecondColumns? {
        from + count <= start ? nil : GemmSecondColumns(start: start - from, b: b, ldb: ldb, c: c, ldc: ldc)
    }

    /// The split as seen by the part of the product that has its rows from `row` on.
    func rows(from row: Int) -> GemmSecondColumns {
        GemmSecondColumns(start: start, b: b, ldb: ldb, c: c + row * ldc, ldc: ldc)
    }

    /// The same matrices as `T`, the scalar the caller has checked `S` to be.
    func rebound<T: TensorScalar>(_: T.Type) -> GemmSecondColumns<T> {
        GemmSecondColumns<T>(start: start, b: Kernels.rebound(b, T.self), ldb: ldb, c: Kernels.rebound(c, T.self), ldc: ldc)
    }
}
