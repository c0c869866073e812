// The register-blocked inner kernels of the matrix multiply.
//
// One call computes a tile of MR rows by NR columns of C over `kc` steps of the shared
// dimension, where NR is 2 or 4 vectors of the path's width V (`GemmTile`):
//
// | path    | V (Float / Double)      | tile (MR x vectors) | Float tile | accumulators |
// |---------|-------------------------|---------------------|------------|--------------|
// | avx512  | SIMD16 / SIMD8 (512-bit) | 8 x 2              | 8 x 32     | 16 of 32 registers |
// | avx2    | SIMD8 / SIMD4 (256-bit)  | 6 x 2              | 6 x 16     | 12 of 16 registers |
// | neon    | SIMD4 / SIMD2 (128-bit)  | 6 x 4              | 6 x 16     | 24 of 32 registers |
// | generic | SIMD4 / SIMD2 (128-bit)  | 6 x 2              | 6 x 8      | 12 of 16 registers |
//
// Both operands come packed (see GemmPacking.swift): A as `kc` groups of MR consecutive
// elements, B as `kc` groups of NR consecutive elements, so the loop is pure loads,
// broadcasts and FMAs. (The prepacked product's 2-vector-wide tiles can instead read a
// row-major A in place, `gemmMicrokernelUpTo8Rows`, and run the one or two rows left below
// the whole tiles over two panels at once, `gemmMicrokernelTwoPanels`.) Every element of C
// is the sum over p in order, one fused multiply-add per step starting from zero, whatever
// the tile: the result depends only on its row of A, its column of B and the K blocking,
// never on the path.

/// The shape of a microkernel tile: `rows` rows of C (the "MR" of the literature) by
/// `vectorsPerRow` vectors of the path's width (NR = `vectorsPerRow` · lanes). One of 6 x 2
/// (whose edge tiles of 4 rows or fewer run a 4 x 2 kernel), 6 x 4 and 8 x 2 (whose edge
/// tiles of 4 rows or fewer run a 4 x 2 kernel, of 5 or 6 rows a 6 x 2 kernel).
struct GemmTile: Equatable, Sendable {
    let rows: Int
    let vectorsPerRow: Int
}

/// The height of a 2V-wide kernel (`Kernels.gemmMicrokernelRows`), as a type so that each
/// height specializes into a kernel of its own with only its rows' FMAs.
protocol GemmTileHeight {
    static var rows: Int { get }
}

enum FourRows: GemmTileHeight { static var rows: Int { 4 } }
enum SixRows: GemmTileHeight { static var rows: Int { 6 } }
enum EightRows: GemmTileHeight { static var rows: Int { 8 } }

extension Kernels {
    /// Computes one `tile.rows` x (`tile.vectorsPerRow` · V.scalarCount) tile from a packed
    /// panel of A (see `gemmMicrokernelUpTo8Rows` and `gemmMicrokernel4`);
    /// `bias`, when overwriting, is a row added to every row of the tile (see `gemmWriteTile`).
    @inline(__always)
    static func gemmMicrokernel<V: SIMD>(
        _: V.Type, tile: GemmTile, kc: Int, _ packedA: UnsafePointer<V.Scalar>, _ packedB: UnsafePointer<V.Scalar>,
        _ c: UnsafeMutablePointer<V.Scalar>, ldc: Int, rows: Int, columns: Int, overwrite: Bool,
        bias: UnsafePointer<V.Scalar>?
    ) where V.Scalar: TensorScalar {
        if tile.rows == 8 {
            // A packed panel: row r, step p at packedA[p · 8 + r].
            gemmMicrokernelUpTo8Rows(V.self, kc: kc, packedA, rowStride: 1, stepStride: 8, packedB, c, ldc: ldc, rows: rows,
                                     columns: columns, overwrite: overwrite, bias: bias)
        } else if tile.vectorsPerRow == 4 {
            gemmMicrokernel4(V.self, kc: kc, packedA, packedB, c, ldc: ldc, rows: rows, columns: columns, overwrite: overwrite, bias: bias)
        } else {
            // A packed panel: row r, step p at packedA[p · 6 + r].
            gemmMicrokernelUpTo8Rows(V.self, kc: kc, packedA, rowStride: 1, stepStride: 6, packedB, c, ldc: ldc, rows: rows,
                                     columns: columns, overwrite: overwrite, bias: bias)
        }
    }

    /// The 6 x 4V tile (for 32-register files): `tile = Σ_p packedA[p] ⊗ packedB[p]` over `kc`
    /// steps, then the top-left `rows x columns` of it stored to `c` (row stride `ldc`) when
    /// `overwrite`, added otherwise.
    @inline(never)
    static func gemmMicrokernel4<V: SIMD>(
        _: V.Type, kc: Int, _ packedA: UnsafePointer<V.Scalar>, _ packedB: UnsafePointer<V.Scalar>,
        _ c: UnsafeMutablePointer<V.Scalar>, ldc: Int, rows: Int, columns: Int, overwrite: Bool,
        bias: UnsafePointer<V.Scalar>?
    ) where V.Scalar: TensorScalar {
        let width = V.scalarCount
        var c00 = V(), c01 = V(), c02 = V(), c03 = V(), c10 = V(), c11 = V(), c12 = V(), c13 = V()
        var c20 = V(), c21 = V(), c22 = V(), c23 = V(), c30 = V(), c31 = V(), c32 = V(), c33 = V()
        var c40 = V(), c41 = V(), c42 = V(), c43 = V(), c50 = V(), c51 = V(), c52 = V(), c53 = V()
        var a = packedA, b = packedB
        for _ in 0..<kc {
            let b0 = load(V.self, b), b1 = load(V.self, b + width)
            let b2 = load(V.self, b + 2 * width), b3 = load(V.self, b + 3 * width)
            var x = V(repeating: a[0])
            c00.multiplyAdd(x, b0); c01.multiplyAdd(x, b1); c02.multiplyAdd(x, b2); c03.multiplyAdd(x, b3)
            x = V(repeating: a[1])
            c10.multiplyAdd(x, b0); c11.multiplyAdd(x, b1); c12.multiplyAdd(x, b2); c13.multiplyAdd(x, b3)
            x = V(repeating: a[2])
            c20.multiplyAdd(x, b0); c21.multiplyAdd(x, b1); c22.multiplyAdd(x, b2); c23.multiplyAdd(x, b3)
            x = V(repeating: a[3])
            c30.multiplyAdd(x, b0); c31.multiplyAdd(x, b1); c32.multiplyAdd(x, b2); c33.multiplyAdd(x, b3)
            x = V(repeating: a[4])
            c40.multiplyAdd(x, b0); c41.multiplyAdd(x, b1); c42.multiplyAdd(x, b2); c43.multiplyAdd(x, b3)
            x = V(repeating: a[5])
            c50.multiplyAdd(x, b0); c51.multiplyAdd(x, b1); c52.multiplyAdd(x, b2); c53.multiplyAdd(x, b3)
            a += 6
            b += 4 * width
        }
        withUnsafeTemporaryAllocation(of: V.self, capacity: 24) { tile in
            tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03
            tile[4] = c10; tile[5] = c11; tile[6] = c12; tile[7] = c13
            tile[8] = c20; tile[9] = c21; tile[10] = c22; tile[11] = c23
            tile[12] = c30; tile[13] = c31; tile[14] = c32; tile[15] = c33
            tile[16] = c40; tile[17] = c41; tile[18] = c42; tile[19] = c43
            tile[20] = c50; tile[21] = c51; tile[22] = c52; tile[23] = c53
            gemmWriteTile(tile.baseAddress!, vectorsPerRow: 4, c, ldc: ldc, rows: rows, columns: columns, overwrite: overwrite, bias: bias)
        }
    }

    /// The 2V-wide tiles of up to 8 rows (8 for 32-register files, 6 for 16-register ones),
    /// over A at `a` with row r, step p at `a[r · rowStride + p · stepStride]`: a packed panel
    /// (`1`, MR) or, in the prepacked product, a row-major A read in place (`lda`, `1`), which
    /// saves copying the few dozen rows of a recurrent step's `h` into panels at every step.
    /// The tile's valid rows choose the kernel: 4 or fewer a 4 x 2V kernel, 5 or 6 a 6 x 2V
    /// kernel, 7 or 8 the 8 x 2V kernel (the steps of a batch of sequences of different
    /// lengths end in such tiles); rows past `rows` read row 0 again, never past A's end, and
    /// are not stored. Each element of C is the same FMA chain whatever the kernel.
    @inline(__always)
    static func gemmMicrokernelUpTo8Rows<V: SIMD>(
        _: V.Type, kc: Int, _ a: UnsafePointer<V.Scalar>, rowStride: Int, stepStride: Int, _ packedB: UnsafePointer<V.Scalar>,
        _ c: UnsafeMutablePointer<V.Scalar>, ldc: Int, rows: Int, columns: Int, overwrite: Bool,
        bias: UnsafePointer<V.Scalar>?
    ) where V.Scalar: TensorScalar {
        if rows <= 4 {
            gemmMicrokernelRows(V.self, FourRows.self, kc: kc, a, rowStride: rowStride, stepStride: stepStride, packedB, c, ldc: ldc,
                                rows: rows, columns: columns, overwrite: overwrite, bias: bias)
        } else if rows <= 6 {
            gemmMicrokernelRows(V.self, SixRows.self, kc: kc, a, rowStride: rowStride, stepStride: stepStride, packedB, c, ldc: ldc,
                                rows: rows, columns: columns, overwrite: overwrite, bias: bias)
        } else {
            gemmMicrokernelRows(V.self, EightRows.self, kc: kc, a, rowStride: rowStride, stepStride: stepStride, packedB, c, ldc: ldc,
                                rows: rows, columns: columns, overwrite: overwrite, bias: bias)
        }
    }

    /// The `Height.rows` x 2V tile (4, 6 or 8 rows), one kernel per height once specialized:
    /// only two vectors of B per 2·rows FMAs, so a panel of B (`kc` x 2V, up to 64 KB for Float)
    /// is read fast enough from L1 or L2 while the rows of A stream past it; 8 accumulators or
    /// more, the independent FMA chains two pipes of 4-cycle latency need.
    @inline(never)
    static func gemmMicrokernelRows<V: SIMD, Height: GemmTileHeight>(
        _: V.Type, _: Height.Type, kc: Int, _ a: UnsafePointer<V.Scalar>, rowStride: Int, stepStride: Int,
        _ packedB: UnsafePointer<V.Scalar>, _ c: UnsafeMutablePointer<V.Scalar>, ldc: Int, rows: Int, columns: Int,
        overwrite: Bool, bias: UnsafePointer<V.Scalar>?
    ) where V.Scalar: TensorScalar {
        let width = V.scalarCount, height = Height.rows
        @inline(__always) func row(_ r: Int) -> UnsafePointer<V.Scalar> { r < rows ? a + r * rowStride : a }
        let a0 = row(0), a1 = row(1), a2 = row(2), a3 = row(3)
        let a4 = height > 4 ? row(4) : a, a5 = height > 4 ? row(5) : a, a6 = height > 6 ? row(6) : a, a7 = height > 6 ? row(7) : a
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V(), c30 = V(), c31 = V()
        var c40 = V(), c41 = V(), c50 = V(), c51 = V(), c60 = V(), c61 = V(), c70 = V(), c71 = V()
        var b = packedB, p = 0
        for _ in 0..<kc {
            let b0 = load(V.self, b), b1 = load(V.self, b + width)
            var x = V(repeating: a0[p]); c00.multiplyAdd(x, b0); c01.multiplyAdd(x, b1)
            x = V(repeating: a1[p]); c10.multiplyAdd(x, b0); c11.multiplyAdd(x, b1)
            x = V(repeating: a2[p]); c20.multiplyAdd(x, b0); c21.multiplyAdd(x, b1)
            x = V(repeating: a3[p]); c30.multiplyAdd(x, b0); c31.multiplyAdd(x, b1)
            if height > 4 {
                x = V(repeating: a4[p]); c40.multiplyAdd(x, b0); c41.multiplyAdd(x, b1)
                x = V(repeating: a5[p]); c50.multiplyAdd(x, b0); c51.multiplyAdd(x, b1)
            }
            if height > 6 {
                x = V(repeating: a6[p]); c60.multiplyAdd(x, b0); c61.multiplyAdd(x, b1)
                x = V(repeating: a7[p]); c70.multiplyAdd(x, b0); c71.multiplyAdd(x, b1)
            }
            p += stepStride
            b += 2 * width
        }
        if rows == height && columns == 2 * width {
            // A whole tile goes straight from the registers to C.
            gemmWriteVector(c00, c, row: 0, vector: 0, ldc: ldc, overwrite: overwrite, bias: bias)
            gemmWriteVector(c01, c, row: 0, vector: 1, ldc: ldc, overwrite: overwrite, bias: bias)
            gemmWriteVector(c10, c, row: 1, vector: 0, ldc: ldc, overwrite: overwrite, bias: bias)
            gemmWriteVector(c11, c, row: 1, vector: 1, ldc: ldc, overwrite: overwrite, bias: bias)
            gemmWriteVector(c20, c, row: 2, vector: 0, ldc: ldc, overwrite: overwrite, bias: bias)
            gemmWriteVector(c21, c, row: 2, vector: 1, ldc: ldc, overwrite: overwrite, bias: bias)
            gemmWriteVector(c30, c, row: 3, vector: 0, ldc: ldc, overwrite: overwrite, bias: bias)
            gemmWriteVector(c31, c, row: 3, vector: 1, ldc: ldc, overwrite: overwrite, bias: bias)
            if height > 4 {
                gemmWriteVector(c40, c, row: 4, vector: 0, ldc: ldc, overwrite: overwrite, bias: bias)
                gemmWriteVector(c41, c, row: 4, vector: 1, ldc: ldc, overwrite: overwrite, bias: bias)
                gemmWriteVector(c50, c, row: 5, vector: 0, ldc: ldc, overwrite: overwrite, bias: bias)
                gemmWriteVector(c51, c, row: 5, vector: 1, ldc: ldc, overwrite: overwrite, bias: bias)
            }
            if height > 6 {
                gemmWriteVector(c60, c, row: 6, vector: 0, ldc: ldc, overwrite: overwrite, bias: bias)
                gemmWriteVector(c61, c, row: 6, vector: 1, ldc: ldc, overwrite: overwrite, bias: bias)
                gemmWriteVector(c70, c, row: 7, vector: 0, ldc: ldc, overwrite: overwrite, bias: bias)
                gemmWriteVector(c71, c, row: 7, vector: 1, ldc: ldc, overwrite: overwrite, bias: bias)
            }
            return
        }
        withUnsafeTemporaryAllocation(of: V.self, capacity: 16) { tile in
            tile[0] = c00; tile[1] = c01; tile[2] = c10; tile[3] = c11; tile[4] = c20; tile[5] = c21
            tile[6] = c30; tile[7] = c31; tile[8] = c40; tile[9] = c41; tile[10] = c50; tile[11] = c51
            tile[12] = c60; tile[13] = c61; tile[14] = c70; tile[15] = c71
            gemmWriteTile(tile.baseAddress!, vectorsPerRow: 2, c, ldc: ldc, rows: rows, columns: columns, overwrite: overwrite, bias: bias)
        }
    }

    /// The last one or two rows of a row block over two adjacent 2V-wide panels of B at once
    /// (4V columns; the second panel `nextPanel` scalars after the first), with A read as in
    /// `gemmMicrokernelUpTo8Rows` (row r, step p at `a[r · rowStride + p]`). A 4 x 2V kernel
    /// given one or two valid rows spends the time of four on them; here 8 accumulators, the
    /// independent chains the FMA pipes need, serve two rows of 4V columns. The second row
    /// repeats the first when `rows` is 1 and is not stored. Each element of C is the same FMA
    /// chain as in any other kernel.
    @inline(never)
    static func gemmMicrokernelTwoPanels<V: SIMD>(
        _: V.Type, kc: Int, _ a: UnsafePointer<V.Scalar>, rowStride: Int, _ packedB: UnsafePointer<V.Scalar>, nextPanel: Int,
        _ c: UnsafeMutablePointer<V.Scalar>, ldc: Int, rows: Int, columns: Int, overwrite: Bool, bias: UnsafePointer<V.Scalar>?
    ) where V.Scalar: TensorScalar {
        let width = V.scalarCount
        let a0 = a, a1 = rows > 1 ? a + rowStride : a
        var c00 = V(), c01 = V(), c02 = V(), c03 = V(), c10 = V(), c11 = V(), c12 = V(), c13 = V()
        var b = packedB
        for p in 0..<kc {
            let b0 = load(V.self, b), b1 = load(V.self, b + width)
            let b2 = load(V.self, b + nextPanel), b3 = load(V.self, b + nextPanel + width)
            var x = V(repeating: a0[p])
            c00.multiplyAdd(x, b0); c01.multiplyAdd(x, b1); c02.multiplyAdd(x, b2); c03.multiplyAdd(x, b3)
            x = V(repeating: a1[p])
            c10.multiplyAdd(x, b0); c11.multiplyAdd(x, b1); c12.multiplyAdd(x, b2); c13.multiplyAdd(x, b3)
            b += 2 * width
        }
        withUnsafeTemporaryAllocation(of: V.self, capacity: 8) { tile in
            tile[0] = c00; tile[1] = c01; tile[2] = c02; tile[3] = c03
            tile[4] = c10; tile[5] = c11; tile[6] = c12; tile[7] = c13
            gemmWriteTile(tile.baseAddress!, vectorsPerRow: 4, c, ldc: ldc, rows: rows, columns: columns, overwrite: overwrite, bias: bias)
        }
    }

    /// Writes one accumulated vector, vector `vector` of row `row` of a tile, to C: stored
    /// when `overwrite` (added to the row `bias` when there is one), added to C otherwise.
    /// The kernels call it straight from their registers for a whole tile; `gemmWriteTile`
    /// calls it for the full-width rows of a tile that went through memory.
    @inline(__always)
    static func gemmWriteVector<V: SIMD>(
        _ value: V, _ c: UnsafeMutablePointer<V.Scalar>, row: Int, vector: Int, ldc: Int, overwrite: Bool,
        bias: UnsafePointer<V.Scalar>?
    ) where V.Scalar: TensorScalar {
        let offset = vector * V.scalarCount, target = c + row * ldc + offset
        if !overwrite {
            (load(V.self, target) + value).store(to: target)
        } else if let bias {
            (load(V.self, bias + offset) + value).store(to: target)
        } else {
            value.store(to: target)
        }
    }

    /// Writes the top-left `rows x columns` of an accumulated tile (rows of `vectorsPerRow`
    /// vectors) to `c`: stored when `overwrite` (added to the row `bias`, the tile's first
    /// column onwards, when there is one), added to what `c` holds otherwise. `bias + tile`
    /// is the very addition `c + tile` makes when `c` holds the bias, so the bits are the same.
    @inline(__always)
    static func gemmWriteTile<V: SIMD>(
        _ tile: UnsafeMutablePointer<V>, vectorsPerRow: Int, _ c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
        rows: Int, columns: Int, overwrite: Bool, bias: UnsafePointer<V.Scalar>?
    ) where V.Scalar: TensorScalar {
        let width = V.scalarCount
        if columns == vectorsPerRow * width {
            for i in 0..<rows {
                for j in 0..<vectorsPerRow {
                    gemmWriteVector(tile[i * vectorsPerRow + j], c, row: i, vector: j, ldc: ldc, overwrite: overwrite, bias: bias)
                }
            }
            return
        }
        // A tile cut by the right edge of C: write only the part inside C.
        let scalars = UnsafeMutableRawPointer(tile).assumingMemoryBound(to: V.Scalar.self)
        for i in 0..<rows {
            let source = scalars + i * vectorsPerRow * width, target = c + i * ldc
            if !overwrite {
                for j in 0..<columns { target[j] = target[j] + source[j] }
            } else if let bias {
                for j in 0..<columns { target[j] = bias[j] + source[j] }
            } else {
                for j in 0..<columns { target[j] = source[j] }
            }
        }
    }
}
