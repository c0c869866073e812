// Products with a right-hand operand packed once (`GemmPackedB`): the recurrent weight
// `W_hh` at every time step and a linear layer's weight at every call. The same blocked
// loops, thread split and microkernel as `gemm` (Gemm.swift), without packing B again.

/// A right-hand operand op(B) `[K, N]` packed once into the panels the microkernel reads,
/// for many products with the same B: the recurrent weight `W_hh` is multiplied by a small
/// block of states at every time step, and packing it each time costs about as much as the
/// product itself. The layout is exactly what `gemmSerial` packs block by block on the path
/// in effect when it is made (column blocks, then K blocks, then panels of that path's NR
/// columns), and products with it run on that path, so `gemmPrepacked` computes bitwise the
/// same result as `gemm` with the same operands.
package final class GemmPackedB<S: TensorScalar>: @unchecked Sendable {
    let k: Int, n: Int
    let kBlock: Int, nBlock: Int
    /// The SIMD path the panels are laid out for, its microkernel tile and panel width.
    let path: InstructionSet
    let tile: GemmTile
    let tileColumns: Int
    let packed: UnsafeMutablePointer<S>
    /// The size of `packed`'s block.
    private let byteCount: Int
    /// `offsets[columnBlock][depthBlock]`: where that block's panels start in `packed`.
    let offsets: [[Int]]

    /// Packs op(B): `B` stored `[K, N]` with row stride `ldb`, or `[N, K]` when `transposed`.
    package init(_ b: UnsafePointer<S>, ldb: Int, transposed: Bool, k: Int, n: Int) {
        self.k = k
        self.n = n
        path = InstructionSet.current
        tile = Kernels.gemmTile(path)
        let tileColumns = Kernels.gemmColumnsPerTile(path, S.self)
        self.tileColumns = tileColumns
        kBlock = Kernels.gemmDepthBlock(k, S.self)
        nBlock = Kernels.gemmBlockSize(max(n, 1), limit: 4096, granularity: tileColumns)
        var offsets: [[Int]] = []
        var total = 0
        var columnStart = 0
        while columnStart < n {
            let columns = min(nBlock, n - columnStart)
            let paddedColumns = (columns + tileColumns - 1) / tileColumns * tileColumns
            var row: [Int] = []
            var depthStart = 0
            while depthStart < k {
                let depth = min(kBlock, k - depthStart)
                row.append(total)
                total += paddedColumns * depth
                depthStart += depth
            }
            offsets.append(row)
            columnStart += columns
        }
        self.offsets = offsets
        // From the cache tensor buffers use: a weight is packed again after every update, and a
        // fresh block of that size would have its pages faulted in and zeroed each time.
        byteCount = max(total, 1) * MemoryLayout<S>.stride
        packed = LargeBlockCache.shared.allocate(bytes: byteCount).bindMemory(to: S.self, capacity: max(total, 1))
        Kernels.onPath(path, Packing(packedB: self, b: b, ldb: ldb, transposed: transposed))
    }

    /// The packing of `init`, run on the path's vector type.
    private struct Packing: GemmPathWork {
        typealias Scalar = S
        let packedB: GemmPackedB<S>
        let b: UnsafePointer<S>, ldb: Int, transposed: Bool

        func run<V: SIMD>(_: V.Type) where V.Scalar: TensorScalar {
            packedB.pack(V.self, b, ldb: ldb, transposed: transposed)
        }
    }

    private func pack<V: SIMD>(_: V.Type, _ source: UnsafePointer<S>, ldb: Int, transposed: Bool) where V.Scalar: TensorScalar {
        let b = Kernels.rebound(source, V.Scalar.self)
        let packed = Kernels.rebound(self.packed, V.Scalar.self)
        var columnStart = 0
        for blockOffsets in offsets {
            let columns = min(nBlock, n - columnStart)
            var depthStart = 0
            for offset in blockOffsets {
                let depth = min(kBlock, k - depthStart)
                Kernels.gemmPackB(V.self, tileColumns: tileColumns,
                                  transposed ? b + columnStart * ldb + depthStart : b + depthStart * ldb + columnStart,
                                  ldb: ldb, transposed: transposed, kc: depth, columns: columns, into: packed + offset)
                depthStart += depth
            }
            columnStart += columns
        }
    }

    deinit { LargeBlockCache.shared.deallocate(UnsafeMutableRawPointer(packed), bytes: byteCount) }
}

extension Kernels {
    /// `C[M, N] = op(A) · op(B)` (or `+=`) with op(B) already packed: the same arithmetic,
    /// thread split and results as `gemm`, without packing B again. Runs on the path `b` was
    /// packed for.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func gemmPrepacked<S: TensorScalar>(
        transposeA: Bool, m: Int, _ a: UnsafePointer<S>, lda: Int, _ b: GemmPackedB<S>,
        _ c: UnsafeMutablePointer<S>, ldc: Int, accumulate: Bool, bias: UnsafePointer<S>? = nil, threads: Int = Threads.count
    ) {
        onPath(b.path, PrepackedProduct(transposeA: transposeA, m: m, a: a, lda: lda, b: b, c: c, ldc: ldc, accumulate: accumulate,
                                        bias: bias, threads: threads))
    }

    /// `gemmPrepacked`'s arguments, run on the vector type of the path `b` was packed for.
    struct PrepackedProduct<Scalar: TensorScalar>: GemmPathWork {
        let transposeA: Bool, m: Int, a: UnsafePointer<Scalar>, lda: Int, b: GemmPackedB<Scalar>
        let c: UnsafeMutablePointer<Scalar>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Scalar>?, threads: Int

        func run<V: SIMD>(_: V.Type) where V.Scalar: TensorScalar {
            typealias T = V.Scalar
            Kernels.gemmPrepacked(V.self, tile: b.tile, transposeA: transposeA, m: m, Kernels.rebound(a, T.self), lda: lda,
                                  unsafeDowncast(b, to: GemmPackedB<T>.self), Kernels.rebound(c, T.self), ldc: ldc,
                                  accumulate: accumulate, bias: bias.map { Kernels.rebound($0, T.self) }, threads: threads)
        }
    }

    static func gemmPrepacked<V: SIMD>(
        _: V.Type, tile: GemmTile, transposeA: Bool, m: Int, _ a: UnsafePointer<V.Scalar>, lda: Int,
        _ b: GemmPackedB<V.Scalar>, _ c: UnsafeMutablePointer<V.Scalar>, ldc: Int, accumulate: Bool,
        bias: UnsafePointer<V.Scalar>?, threads: Int
    ) where V.Scalar: TensorScalar {
        let n = b.n, k = b.k
        if m <= 0 || n <= 0 { return }
        if k <= 0 {
            if !accumulate { fillRows(m: m, n: n, c, ldc: ldc, with: bias) }
            return
        }
        let tileRows = tile.rows, tileColumns = b.tileColumns
        let rowTiles = (m + tileRows - 1) / tileRows, columnTiles = (n + tileColumns - 1) / tileColumns
        if threads <= 1 || m * n * k < gemmParallelThreshold || max(rowTiles, columnTiles) < 2 {
            gemmPrepackedSerial(V.self, tile: tile, transposeA: transposeA, rows: 0..<m, a, lda: lda, b,
                                columns: 0..<n, c, ldc: ldc, accumulate: accumulate, bias: bias)
        } else if columnTiles >= rowTiles {
            let parts = Parallel.partition(count: n, parts: threads, granularity: tileColumns)
            Parallel.forEach(parts.count) { part in
                gemmPrepackedSerial(V.self, tile: tile, transposeA: transposeA, rows: 0..<m, a, lda: lda, b,
                                    columns: parts[part], c, ldc: ldc, accumulate: accumulate, bias: bias)
            }
        } else {
            let parts = Parallel.partition(count: m, parts: threads, granularity: tileRows)
            Parallel.forEach(parts.count) { part in
                gemmPrepackedSerial(V.self, tile: tile, transposeA: transposeA, rows: parts[part], a, lda: lda, b,
                                    columns: 0..<n, c, ldc: ldc, accumulate: accumulate, bias: bias)
            }
        }
    }

    /// The rows and columns (a range starting on a panel boundary) of `gemmPrepacked` on one
    /// thread, in `gemmSerial`'s loop order.
    static func gemmPrepackedSerial<V: SIMD>(
        _: V.Type, tile: GemmTile, transposeA: Bool, rows rowRange: Range<Int>, _ a: UnsafePointer<V.Scalar>, lda: Int,
        _ b: GemmPackedB<V.Scalar>, columns columnRange: Range<Int>, _ c: UnsafeMutablePointer<V.Scalar>, ldc: Int,
        accumulate: Bool, bias: UnsafePointer<V.Scalar>?
    ) where V.Scalar: TensorScalar {
        typealias S = V.Scalar
        let tileRows = tile.rows, tileColumns = b.tileColumns
        let m = rowRange.count, k = b.k
        let mBlock = gemmBlockSize(m, limit: MemoryLayout<S>.size == 4 ? 144 : 96, granularity: tileRows)
        let kBlock = b.kBlock
        // On the 2-vector-wide tiles a row-major A is read in place (`gemmMicrokernelUpTo8Rows`):
        // no packed A.
        let readsAInPlace = !transposeA && tile.vectorsPerRow == 2
        let packedA = readsAInPlace ? nil : ScratchMemory.buffer(.packedA, count: mBlock * kBlock, of: S.self)
        for (blockIndex, blockOffsets) in b.offsets.enumerated() {
            let blockStart = blockIndex * b.nBlock, blockEnd = min(b.n, blockStart + b.nBlock)
            let low = max(blockStart, columnRange.lowerBound), high = min(blockEnd, columnRange.upperBound)
            if low >= high { continue }
            var depthStart = 0
            for (depthIndex, offset) in blockOffsets.enumerated() {
                let depth = min(kBlock, k - depthStart)
                let overwrite = !accumulate && depthIndex == 0
                var rowStart = 0
                while rowStart < m {
                    let blockRows = min(mBlock, m - rowStart)
                    let firstRow = rowRange.lowerBound + rowStart
                    if let packedA {
                        gemmPackA(transposeA ? a + depthStart * lda + firstRow : a + firstRow * lda + depthStart,
                                  lda: lda, transposed: transposeA, rows: blockRows, kc: depth, tileRows: tileRows, into: packedA)
                    }
                    // One or two rows left below the whole tiles, read in place: two panels at a time.
                    let leftover = blockRows % tileRows
                    let pairsLeftover = readsAInPlace && leftover > 0 && leftover <= 2
                    let tiledRows = pairsLeftover ? blockRows - leftover : blockRows
                    var column = low
                    while column < high {
                        let panelB = UnsafePointer(b.packed + offset + (column - blockStart) * depth)
                        let tileWidth = min(tileColumns, high - column)
                        var tileRow = 0
                        while tileRow < tiledRows {
                            let rows = min(tileRows, blockRows - tileRow), target = c + (firstRow + tileRow) * ldc + column
                            let tileBias = overwrite ? bias.map { $0 + column } : nil
                            if let packedA {
                                gemmMicrokernel(V.self, tile: tile, kc: depth, UnsafePointer(packedA + tileRow * depth), panelB,
                                                target, ldc: ldc, rows: rows, columns: tileWidth, overwrite: overwrite,
                                                bias: tileBias)
                            } else {
                                gemmMicrokernelUpTo8Rows(V.self, kc: depth, a + (firstRow + tileRow) * lda + depthStart, rowStride: lda,
                                                         stepStride: 1, panelB, target, ldc: ldc, rows: rows, columns: tileWidth,
                                                         overwrite: overwrite, bias: tileBias)
                            }
                            tileRow += tileRows
                        }
                        column += tileColumns
                    }
                    column = low
                    while pairsLeftover && column < high {
                        let panelB = UnsafePointer(b.packed + offset + (column - blockStart) * depth)
                        let width = min(2 * tileColumns, high - column)
                        let rowA = a + (firstRow + tiledRows) * lda + depthStart, target = c + (firstRow + tiledRows) * ldc + column
                        let tileBias = overwrite ? bias.map { $0 + column } : nil
                        if width > tileColumns {
                            gemmMicrokernelTwoPanels(V.self, kc: depth, rowA, rowStride: lda, panelB, nextPanel: tileColumns * depth,
                                                     target, ldc: ldc, rows: leftover, columns: width, overwrite: overwrite,
                                                     bias: tileBias)
                        } else {
                            gemmMicrokernelUpTo8Rows(V.self, kc: depth, rowA, rowStride: lda, stepStride: 1, panelB, target, ldc: ldc,
                                                     rows: leftover, columns: width, overwrite: overwrite, bias: tileBias)
                        }
                        column += 2 * tileColumns
                    }
                    rowStart += blockRows
                }
                depthStart += depth
            }
        }
    }
}
