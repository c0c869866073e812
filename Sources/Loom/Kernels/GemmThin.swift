// Products with a single row or a single column of C (a vector times a matrix, a matrix
// times a vector) or a single step of the shared dimension (an outer product): an
// attention context `weights[1, S] · values[S, H]`, a score `energies[N, A] · v[A, 1]`, or
// the gradient `g[N, 1] · v[1, A]` of that score. Packing a panel for one row or column of output costs more
// than the product, so these run directly on the operands, with the same bits as the
// blocked product: every element of C is summed over the same K blocks (`gemmDepthBlock`),
// in order, one multiply-add per step starting from zero.

extension Kernels {
    /// Whether `gemm` takes the thin path for a product of this shape.
    @inline(__always)
    static func gemmIsThin(m: Int, n: Int, k: Int) -> Bool { m == 1 || n == 1 || k == 1 }

    /// `C = op(A) · op(B)` (or `+=`) for `m == 1`, `n == 1` or `k == 1`, on one thread; see
    /// `gemm` for the arguments.
    static func gemmThin<S: TensorScalar>(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        _ a: UnsafePointer<S>, lda: Int, _ b: UnsafePointer<S>, ldb: Int,
        _ c: UnsafeMutablePointer<S>, ldc: Int, accumulate: Bool
    ) {
        if k == 0 {
            if !accumulate { for i in 0..<m { for j in 0..<n { c[i * ldc + j] = 0 } } }
            return
        }
        let kBlock = gemmDepthBlock(k, S.self)
        if k == 1 && m > 1 && n > 1 {
            // An outer product: one multiply-add from zero per element.
            for i in 0..<m {
                let x = a[i * (transposeA ? 1 : lda)]
                let target = c + i * ldc
                if transposeB {
                    for j in 0..<n { target[j] = accumulate ? target[j] + S.zero.addingMultiplied(x, b[j * ldb]) : S.zero.addingMultiplied(x, b[j * ldb]) }
                } else if accumulate {
                    for j in 0..<n { target[j] = target[j] + S.zero.addingMultiplied(x, b[j]) }
                } else {
                    for j in 0..<n { target[j] = S.zero.addingMultiplied(x, b[j]) }
                }
            }
            return
        }
        if m == 1 && transposeB {
            // One row against a transposed B: each column is a dot product of a row of the
            // stored B with A.
            dotProducts(count: n, k: k, kBlock: kBlock, matrix: b, rowStride: ldb, stepStride: 1,
                        vector: a, vectorStride: transposeA ? lda : 1, c, outputStride: 1, accumulate: accumulate)
            return
        }
        if m == 1 {
            // One row: the partial sums of all n columns advance together, step by step.
            let sums = ScratchMemory.buffer(.packedB, count: n, of: S.self)
            let aStride = transposeA ? lda : 1
            var depthStart = 0
            while depthStart < k {
                let depth = min(kBlock, k - depthStart)
                sums.initialize(repeating: 0, count: n)
                for p in depthStart..<(depthStart + depth) {
                    let x = a[p * aStride]
                    let row = b + p * ldb
                    for j in 0..<n { sums[j] = sums[j].addingMultiplied(x, row[j]) }
                }
                let first = depthStart == 0 && !accumulate
                for j in 0..<n { c[j] = first ? sums[j] : c[j] + sums[j] }
                depthStart += depth
            }
            return
        }
        // One column: each row of op(A) is a dot product with the column of B.
        dotProducts(count: m, k: k, kBlock: kBlock, matrix: a, rowStride: transposeA ? 1 : lda, stepStride: transposeA ? lda : 1,
                    vector: b, vectorStride: transposeB ? 1 : ldb, c, outputStride: ldc, accumulate: accumulate)
    }

    /// `out[r · outputStride] (+)= Σ_p matrix[r · rowStride + p · stepStride] · vector[p · vectorStride]`
    /// for `count` rows, each sum a chain in K order over the K blocks; eight rows run side by
    /// side so the chains overlap.
    private static func dotProducts<S: TensorScalar>(
        count: Int, k: Int, kBlock: Int, matrix: UnsafePointer<S>, rowStride: Int, stepStride: Int,
        vector: UnsafePointer<S>, vectorStride: Int, _ out: UnsafeMutablePointer<S>, outputStride: Int, accumulate: Bool
    ) {
        let aRowStride = rowStride, aStepStride = stepStride, bStride = vectorStride
        let a = matrix, b = vector, c = out, ldc = outputStride, m = count
        var rowStart = 0
        while rowStart < m {
            let rows = min(8, m - rowStart)
            var depthStart = 0
            while depthStart < k {
                let depth = min(kBlock, k - depthStart)
                var sums = (S.zero, S.zero, S.zero, S.zero, S.zero, S.zero, S.zero, S.zero)
                withUnsafeMutableBytes(of: &sums) { raw in
                    let partial = raw.baseAddress!.assumingMemoryBound(to: S.self)
                    let base = a + rowStart * aRowStride
                    if rows == 8 {
                        var s0 = S.zero, s1 = S.zero, s2 = S.zero, s3 = S.zero, s4 = S.zero, s5 = S.zero, s6 = S.zero, s7 = S.zero
                        for p in depthStart..<(depthStart + depth) {
                            let y = b[p * bStride], step = base + p * aStepStride
                            s0 = s0.addingMultiplied(step[0], y)
                            s1 = s1.addingMultiplied(step[aRowStride], y)
                            s2 = s2.addingMultiplied(step[2 * aRowStride], y)
                            s3 = s3.addingMultiplied(step[3 * aRowStride], y)
                            s4 = s4.addingMultiplied(step[4 * aRowStride], y)
                            s5 = s5.addingMultiplied(step[5 * aRowStride], y)
                            s6 = s6.addingMultiplied(step[6 * aRowStride], y)
                            s7 = s7.addingMultiplied(step[7 * aRowStride], y)
                        }
                        (partial[0], partial[1], partial[2], partial[3]) = (s0, s1, s2, s3)
                        (partial[4], partial[5], partial[6], partial[7]) = (s4, s5, s6, s7)
                    } else {
                        for r in 0..<rows {
                            var s = S.zero
                            for p in depthStart..<(depthStart + depth) {
                                s = s.addingMultiplied(base[r * aRowStride + p * aStepStride], b[p * bStride])
                            }
                            partial[r] = s
                        }
                    }
                    let first = depthStart == 0 && !accumulate
                    for r in 0..<rows {
                        let target = c + (rowStart + r) * ldc
                        target.pointee = first ? partial[r] : target.pointee + partial[r]
                    }
                }
                depthStart += depth
            }
            rowStart += rows
        }
    }
}
