// The register-blocked inner kernel of the matrix multiply.
//
// One call computes a tile of `gemmRowsPerTile` (6) rows by `2 * Vector.scalarCount` columns
// of C (6 x 16 for Float with SIMD8, 6 x 8 for Double with SIMD4) over `kc` steps of the
// shared dimension. The 12 accumulators, the two vectors of B and the broadcast element of A
// take 15 of the 16 YMM registers. Both operands come packed (see GemmPacking.swift): A as
// `kc` groups of 6 consecutive elements, B as `kc` groups of `2 * width` consecutive elements,
// so every load in the loop is contiguous and the loop is pure loads, broadcasts and FMAs.

/// Rows of C a microkernel tile covers (the "MR" of the literature).
@usableFromInline let gemmRowsPerTile = 6

extension Kernels {
    /// Columns of C a microkernel tile covers (the "NR"): two SIMD vectors.
    @inline(__always)
    static func gemmColumnsPerTile<S: TensorScalar>(_: S.Type) -> Int { 2 * S.Vector.scalarCount }

    /// Computes `tile = Σ_p packedA[p] ⊗ packedB[p]` over `kc` steps and writes the top-left
    /// `rows x columns` of the tile to `c` (row stride `ldc`): stored when `overwrite`, added
    /// to what `c` holds otherwise. The sum over `p` runs in order, one FMA per step, so the
    /// result for an element of C depends only on its row of A and column of B.
    @inline(never)
    static func gemmMicrokernel<S: TensorScalar>(
        kc: Int, _ packedA: UnsafePointer<S>, _ packedB: UnsafePointer<S>,
        _ c: UnsafeMutablePointer<S>, ldc: Int, rows: Int, columns: Int, overwrite: Bool
    ) {
        typealias V = S.Vector
        let width = V.scalarCount
        let tileColumns = 2 * width
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        var a = packedA, b = packedB
        var remaining = kc
        while remaining > 0 {
            let b0 = load(V.self, b), b1 = load(V.self, b + width)
            var broadcast = V(repeating: a[0])
            c00.addProduct(broadcast, b0); c01.addProduct(broadcast, b1)
            broadcast = V(repeating: a[1])
            c10.addProduct(broadcast, b0); c11.addProduct(broadcast, b1)
            broadcast = V(repeating: a[2])
            c20.addProduct(broadcast, b0); c21.addProduct(broadcast, b1)
            broadcast = V(repeating: a[3])
            c30.addProduct(broadcast, b0); c31.addProduct(broadcast, b1)
            broadcast = V(repeating: a[4])
            c40.addProduct(broadcast, b0); c41.addProduct(broadcast, b1)
            broadcast = V(repeating: a[5])
            c50.addProduct(broadcast, b0); c51.addProduct(broadcast, b1)
            a += gemmRowsPerTile
            b += tileColumns
            remaining -= 1
        }

        @inline(__always)
        func write(_ left: V, _ right: V, to row: UnsafeMutablePointer<S>) {
            if overwrite {
                left.store(to: row)
                right.store(to: row + width)
            } else {
                (load(V.self, row) + left).store(to: row)
                (load(V.self, row + width) + right).store(to: row + width)
            }
        }

        if rows == gemmRowsPerTile && columns == tileColumns {
            write(c00, c01, to: c)
            write(c10, c11, to: c + ldc)
            write(c20, c21, to: c + 2 * ldc)
            write(c30, c31, to: c + 3 * ldc)
            write(c40, c41, to: c + 4 * ldc)
            write(c50, c51, to: c + 5 * ldc)
            return
        }
        if columns == tileColumns {
            // A tile cut by the bottom edge of C: full rows, fewer of them.
            write(c00, c01, to: c)
            if rows > 1 { write(c10, c11, to: c + ldc) }
            if rows > 2 { write(c20, c21, to: c + 2 * ldc) }
            if rows > 3 { write(c30, c31, to: c + 3 * ldc) }
            if rows > 4 { write(c40, c41, to: c + 4 * ldc) }
            return
        }
        // A tile cut by the right edge of C: spill the accumulators and write only the part inside C.
        withUnsafeTemporaryAllocation(of: S.self, capacity: gemmRowsPerTile * tileColumns) { buffer in
            let tile = buffer.baseAddress!
            c00.store(to: tile); c01.store(to: tile + width)
            c10.store(to: tile + tileColumns); c11.store(to: tile + tileColumns + width)
            c20.store(to: tile + 2 * tileColumns); c21.store(to: tile + 2 * tileColumns + width)
            c30.store(to: tile + 3 * tileColumns); c31.store(to: tile + 3 * tileColumns + width)
            c40.store(to: tile + 4 * tileColumns); c41.store(to: tile + 4 * tileColumns + width)
            c50.store(to: tile + 5 * tileColumns); c51.store(to: tile + 5 * tileColumns + width)
            for i in 0..<rows {
                let source = tile + i * tileColumns, target = c + i * ldc
                if overwrite {
                    for j in 0..<columns { target[j] = source[j] }
                } else {
                    for j in 0..<columns { target[j] = target[j] + source[j] }
                }
            }
        }
    }
}
