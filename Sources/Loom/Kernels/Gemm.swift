// The matrix multiply (GEMM): cache blocking, dispatch to concrete Float and Double code and
// to the SIMD path's vector width and tile, and the split over threads. Packing is in
// GemmPacking.swift, the register-blocked inner kernel in GemmMicrokernel.swift, products with
// a B packed once in GemmPrepacked.swift, thin shapes in GemmThin.swift, two products sharing
// their A in GemmSharedOperand.swift; Docs/Performance.md describes the design.

extension Kernels {
    /// General matrix multiply on row-major matrices:
    /// `C[M, N] = op(A) · op(B)` (or `+=` when `accumulate`), where `op(A)` is `[M, K]`
    /// (`A` stored `[K, M]` when `transposeA`) and `op(B)` is `[K, N]` (`B` stored `[N, K]`
    /// when `transposeB`). `lda`, `ldb`, `ldc` are the row strides of the stored matrices.
    /// When `accumulate` is false, `C` need not be initialized, and `bias` (N values), when
    /// given, is added to every row: `C = bias + op(A) · op(B)`, the same bits as filling C with
    /// the bias and accumulating, without the pass that fills it. With `rowSumsOfA` (M values),
    /// also writes the sum of each row of op(A), `0 + op(A)[i, 0] + op(A)[i, 1] + ...` in that
    /// order, taken while A is packed: for a weight gradient `dW = gᵀ · x` these are the bias's
    /// gradient `Σ_rows g`, with no pass of its own over `g`. Uses up to `Threads.count`
    /// threads for large products; the result is bitwise the same for every thread count.
    @inlinable
    package static func gemm<S: TensorScalar>(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        _ a: UnsafePointer<S>, lda: Int, _ b: UnsafePointer<S>, ldb: Int,
        _ c: UnsafeMutablePointer<S>, ldc: Int, accumulate: Bool, bias: UnsafePointer<S>? = nil,
        rowSumsOfA: UnsafeMutablePointer<S>? = nil
    ) {
        // Hand the work to concrete, already-specialized code in the Loom module: the check
        // on the type folds away wherever `gemm` is specialized, and the fast path never
        // depends on the caller's module specializing generic code.
        if S.self == Float.self {
            gemmFloat(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                      UnsafeRawPointer(a).assumingMemoryBound(to: Float.self), lda: lda,
                      UnsafeRawPointer(b).assumingMemoryBound(to: Float.self), ldb: ldb,
                      UnsafeMutableRawPointer(c).assumingMemoryBound(to: Float.self), ldc: ldc,
                      accumulate: accumulate, bias: bias.map { UnsafeRawPointer($0).assumingMemoryBound(to: Float.self) },
                      rowSumsOfA: rowSumsOfA.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self) },
                      threads: Threads.count)
        } else if S.self == Double.self {
            gemmDouble(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                       UnsafeRawPointer(a).assumingMemoryBound(to: Double.self), lda: lda,
                       UnsafeRawPointer(b).assumingMemoryBound(to: Double.self), ldb: ldb,
                       UnsafeMutableRawPointer(c).assumingMemoryBound(to: Double.self), ldc: ldc,
                       accumulate: accumulate, bias: bias.map { UnsafeRawPointer($0).assumingMemoryBound(to: Double.self) },
                       rowSumsOfA: rowSumsOfA.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Double.self) },
                       threads: Threads.count)
        } else {
            gemmParallel(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                         a, lda: lda, b, ldb: ldb, c, ldc: ldc, accumulate: accumulate, bias: bias, rowSumsOfA: rowSumsOfA,
                         threads: Threads.count)
        }
    }

    /// The microkernel tile on `path` (see GemmMicrokernel.swift), the same for `Float` and
    /// `Double`: 8 x 2 vectors on the 512-bit path, 6 x 4 on NEON, 6 x 2 otherwise.
    static func gemmTile(_ path: InstructionSet) -> GemmTile {
        switch path {
        case .avx512: return GemmTile(rows: 8, vectorsPerRow: 2)
        case .neon: return GemmTile(rows: 6, vectorsPerRow: 4)
        case .avx2, .generic: return GemmTile(rows: 6, vectorsPerRow: 2)
        }
    }

    /// The columns of a microkernel tile on `path` (NR): vectors per row times the lanes of
    /// the path's vector for `S` (512-bit on avx512, 256-bit on avx2, 128-bit otherwise).
    static func gemmColumnsPerTile<S: TensorScalar>(_ path: InstructionSet, _: S.Type) -> Int {
        let lanes512 = 64 / MemoryLayout<S>.size
        let lanes: Int
        switch path {
        case .avx512: lanes = lanes512
        case .avx2: lanes = lanes512 / 2
        case .neon, .generic: lanes = lanes512 / 4
        }
        return gemmTile(path).vectorsPerRow * lanes
    }

    /// Runs `work` with the vector type of `path` for its scalar: 512-bit vectors
    /// (`SIMD16<Float>`, `SIMD8<Double>`) on avx512, 256-bit on avx2, 128-bit otherwise; the
    /// one place the products map a path to a concrete vector type.
    @inline(__always)
    static func onPath<Work: GemmPathWork>(_ path: InstructionSet, _ work: Work) {
        if Work.Scalar.self == Float.self {
            switch path {
            case .avx512: work.run(SIMD16<Float>.self)
            case .avx2: work.run(SIMD8<Float>.self)
            case .neon, .generic: work.run(SIMD4<Float>.self)
            }
        } else {
            switch path {
            case .avx512: work.run(SIMD8<Double>.self)
            case .avx2: work.run(SIMD4<Double>.self)
            case .neon, .generic: work.run(SIMD2<Double>.self)
            }
        }
    }

    /// `gemm` for `Float`, with an explicit thread count.
    @usableFromInline
    static func gemmFloat(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
        _ c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>? = nil,
        rowSumsOfA: UnsafeMutablePointer<Float>? = nil, threads: Int
    ) {
        gemmParallel(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                     a, lda: lda, b, ldb: ldb, c, ldc: ldc, accumulate: accumulate, bias: bias, rowSumsOfA: rowSumsOfA,
                     threads: threads)
    }

    /// `gemm` for `Double`, with an explicit thread count.
    @usableFromInline
    static func gemmDouble(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        _ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
        _ c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Double>? = nil,
        rowSumsOfA: UnsafeMutablePointer<Double>? = nil, threads: Int
    ) {
        gemmParallel(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                     a, lda: lda, b, ldb: ldb, c, ldc: ldc, accumulate: accumulate, bias: bias, rowSumsOfA: rowSumsOfA,
                     threads: threads)
    }

    /// Products with fewer multiply-adds than this run on one thread: below it, waking a
    /// second thread costs more than it saves.
    static let gemmParallelThreshold = 1 << 18

    /// The K blocking, the same on every path (so every path sums in the same order): at most
    /// 512 steps for Float, 192 for Double, in nearly equal blocks. A Float panel of B on the
    /// 8 x 2V tile (64 KB at 512 steps) streams from L2 rather than sitting in L1; the
    /// microkernel needs only two of its vectors per 16 FMAs, and the deeper block halves the
    /// passes over C (each block after the first reads C back and adds to it).
    @inline(__always)
    static func gemmDepthBlock<S: TensorScalar>(_ k: Int, _: S.Type) -> Int {
        gemmBlockSize(max(k, 1), limit: MemoryLayout<S>.size == 4 ? 512 : 192, granularity: 1)
    }

    /// Splits C into a fixed partition of column blocks (or row blocks, when C has more
    /// row tiles than column tiles) and runs `gemmSerial` on each part, on the SIMD path in
    /// effect. The shared dimension is never split, so each element of C gets the same
    /// arithmetic for any thread count and on any path.
    @usableFromInline
    static func gemmParallel<S: TensorScalar>(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        _ a: UnsafePointer<S>, lda: Int, _ b: UnsafePointer<S>, ldb: Int,
        _ c: UnsafeMutablePointer<S>, ldc: Int, accumulate: Bool, bias: UnsafePointer<S>? = nil,
        rowSumsOfA: UnsafeMutablePointer<S>? = nil, second: GemmSecondColumns<S>? = nil, threads: Int
    ) {
        if gemmIsThin(m: m, n: n, k: k) {
            precondition(second == nil, "gemm: a product split over two outputs is never thin")
            if let rowSumsOfA { sumRows(ofA: a, transposed: transposeA, m: m, k: k, lda: lda, into: rowSumsOfA) }
            if let bias, !accumulate { fillRows(m: m, n: n, c, ldc: ldc, with: bias) }
            gemmThin(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, lda: lda, b, ldb: ldb,
                     c, ldc: ldc, accumulate: accumulate || bias != nil)
            return
        }
        let path = InstructionSet.current
        onPath(path, GemmProduct(tile: gemmTile(path), transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                 a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate, bias: bias,
                                 rowSumsOfA: rowSumsOfA, second: second, threads: threads))
    }

    /// `gemmParallel` with the tile of one path: vectors of type `V`, `tile.vectorsPerRow` of
    /// them per tile row, `tile.rows` rows.
    static func gemmParallel<V: SIMD>(
        _: V.Type, tile: GemmTile, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        _ a: UnsafePointer<V.Scalar>, lda: Int, _ b: UnsafePointer<V.Scalar>, ldb: Int,
        _ c: UnsafeMutablePointer<V.Scalar>, ldc: Int, accumulate: Bool, bias: UnsafePointer<V.Scalar>?,
        rowSumsOfA: UnsafeMutablePointer<V.Scalar>? = nil, second: GemmSecondColumns<V.Scalar>? = nil, threads: Int
    ) where V.Scalar: TensorScalar {
        if m <= 0 { return }
        if n <= 0 || k <= 0 {
            precondition(second == nil, "gemm: a product split over two outputs has columns and depth")
            if let rowSumsOfA { sumRows(ofA: a, transposed: transposeA, m: m, k: k, lda: lda, into: rowSumsOfA) }
            if n > 0 && !accumulate { fillRows(m: m, n: n, c, ldc: ldc, with: bias) }
            return
        }
        let tileRows = tile.rows, tileColumns = tile.vectorsPerRow * V.scalarCount
        let rowTiles = (m + tileRows - 1) / tileRows, columnTiles = (n + tileColumns - 1) / tileColumns
        if threads <= 1 || m * n * k < gemmParallelThreshold || max(rowTiles, columnTiles) < 2 {
            gemmSerial(V.self, tile: tile, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                       a, lda: lda, b, ldb: ldb, c, ldc: ldc, accumulate: accumulate, bias: bias, rowSumsOfA: rowSumsOfA,
                       second: second)
            return
        }
        if columnTiles >= rowTiles {
            let parts = Parallel.partition(count: n, parts: threads, granularity: tileColumns)
            Parallel.forEach(parts.count) { part in
                let columns = parts[part]
                // A part wholly in the second block of columns reads and writes only that block.
                let inSecond = second.map { columns.lowerBound >= $0.start } ?? false
                let start = inSecond ? columns.lowerBound - second!.start : columns.lowerBound
                let (partB, partLdb) = inSecond ? (second!.b, second!.ldb) : (b, ldb)
                let (partC, partLdc) = inSecond ? (second!.c, second!.ldc) : (c, ldc)
                gemmSerial(V.self, tile: tile, transposeA: transposeA, transposeB: transposeB,
                           m: m, n: columns.count, k: k,
                           a, lda: lda, transposeB ? partB + start * partLdb : partB + start, ldb: partLdb,
                           partC + start, ldc: partLdc, accumulate: accumulate, bias: bias.map { $0 + columns.lowerBound },
                           rowSumsOfA: part == 0 ? rowSumsOfA : nil,
                           second: inSecond ? nil : second?.columns(from: columns.lowerBound, count: columns.count))
            }
        } else {
            let parts = Parallel.partition(count: m, parts: threads, granularity: tileRows)
            Parallel.forEach(parts.count) { part in
                let rows = parts[part]
                gemmSerial(V.self, tile: tile, transposeA: transposeA, transposeB: transposeB,
                           m: rows.count, n: n, k: k,
                           transposeA ? a + rows.lowerBound : a + rows.lowerBound * lda, lda: lda, b, ldb: ldb,
                           c + rows.lowerBound * ldc, ldc: ldc, accumulate: accumulate, bias: bias,
                           rowSumsOfA: rowSumsOfA.map { $0 + rows.lowerBound }, second: second?.rows(from: rows.lowerBound))
            }
        }
    }

    /// Sets the `m` rows of `n` values of `c` (row stride `ldc`) to `bias`, or to zero without
    /// one: the product over an empty shared dimension.
    static func fillRows<S: TensorScalar>(m: Int, n: Int, _ c: UnsafeMutablePointer<S>, ldc: Int, with bias: UnsafePointer<S>?) {
        for i in 0..<m {
            if let bias { (c + i * ldc).update(from: bias, count: n) } else { (c + i * ldc).update(repeating: 0, count: n) }
        }
    }

    /// The sums of the rows of op(A) (`[M, K]`), each `0 + op(A)[i, 0] + op(A)[i, 1] + ...` in
    /// that order: what `gemm` computes with `rowSumsOfA` where it packs nothing.
    static func sumRows<S: TensorScalar>(ofA a: UnsafePointer<S>, transposed: Bool, m: Int, k: Int, lda: Int,
                                         into sums: UnsafeMutablePointer<S>) {
        if transposed { return columnSums(a, rows: k, columns: m, rowStride: lda, into: sums) }
        sums.update(repeating: 0, count: m)
        for p in 0..<k {
            for i in 0..<m { sums[i] += a[i * lda + p] }
        }
    }

    /// Splits `count` into `ceil(count / limit)` blocks of nearly equal size rounded up to a
    /// multiple of `granularity`, and returns that block size.
    @inline(__always)
    static func gemmBlockSize(_ count: Int, limit: Int, granularity: Int) -> Int {
        let blocks = (count + limit - 1) / limit
        let size = (count + blocks - 1) / blocks
        return (size + granularity - 1) / granularity * granularity
    }

    /// The single-threaded blocked product (Goto's loop order): for each block of columns of
    /// C (≤ 4096), for each block of the shared dimension (`gemmDepthBlock`, so a packed panel
    /// of B stays in L1 or L2), pack that block of B, then for each block of rows (≤ 144 for Float,
    /// so the packed A block stays in L2), pack it and run the microkernel over all tiles.
    /// For a given element of C the sum runs over the K blocks in order, and within a block
    /// over its steps in order: the result depends only on K, never on M, N, the threads or
    /// the path. `rowSumsOfA` are summed as the first block of columns packs A (in a pass of
    /// their own when A is read in place). With `second`, the columns from `second.start` on
    /// come from and go to its matrices, packed beside the first ones, so A is packed once.
    static func gemmSerial<V: SIMD>(
        _: V.Type, tile: GemmTile, transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        _ a: UnsafePointer<V.Scalar>, lda: Int, _ b: UnsafePointer<V.Scalar>, ldb: Int,
        _ c: UnsafeMutablePointer<V.Scalar>, ldc: Int, accumulate: Bool, bias: UnsafePointer<V.Scalar>? = nil,
        rowSumsOfA: UnsafeMutablePointer<V.Scalar>? = nil, second: GemmSecondColumns<V.Scalar>? = nil
    ) where V.Scalar: TensorScalar {
        typealias S = V.Scalar
        let tileRows = tile.rows, tileColumns = tile.vectorsPerRow * V.scalarCount
        let isFloat = MemoryLayout<S>.size == 4
        let kBlock = gemmDepthBlock(k, S.self)
        let mBlock = gemmBlockSize(m, limit: isFloat ? 144 : 96, granularity: tileRows)
        let nBlock = gemmBlockSize(n, limit: 4096, granularity: tileColumns)
        let packedB = ScratchMemory.buffer(.packedB, count: nBlock * kBlock, of: S.self)
        // A transposed A that only one tile of columns will read (a weight gradient `gᵀ · x`
        // with few input features), or two on the 6-row tile, is read in place rather than
        // packed: a packed panel would serve that one tile (or two), so packing only adds a
        // copy. Each step's 8 or 6 rows are then neighbouring elements of a stored row, one
        // stored row per step; only while a block of steps spans at most 256 KB (the reach of
        // a typical 64-entry L1 TLB; beyond it the strided reads cost more than the copy saves).
        let aInPlace = transposeA && tile.vectorsPerRow == 2 && n <= (tileRows == 8 ? 1 : 2) * tileColumns
            && kBlock * lda * MemoryLayout<S>.stride <= 256 * 1024
        let packedA = aInPlace ? nil : ScratchMemory.buffer(.packedA, count: mBlock * kBlock, of: S.self)
        if aInPlace, let rowSumsOfA { sumRows(ofA: a, transposed: true, m: m, k: k, lda: lda, into: rowSumsOfA) }
        else { rowSumsOfA?.update(repeating: 0, count: m) }

        var columnStart = 0
        while columnStart < n {
            let columns = min(nBlock, n - columnStart)
            var depthStart = 0
            while depthStart < k {
                let depth = min(kBlock, k - depthStart)
                let overwrite = !accumulate && depthStart == 0
                // The block's columns before the second matrices' start, then those after it.
                let firstColumns = second.map { max(0, min(columns, $0.start - columnStart)) } ?? columns
                if firstColumns > 0 {
                    gemmPackB(V.self, tileColumns: tileColumns,
                              transposeB ? b + columnStart * ldb + depthStart : b + depthStart * ldb + columnStart,
                              ldb: ldb, transposed: transposeB, kc: depth, columns: firstColumns, into: packedB)
                }
                if let second, firstColumns < columns {
                    gemmPackB(V.self, tileColumns: tileColumns,
                              second.b + depthStart * second.ldb + columnStart + firstColumns - second.start, ldb: second.ldb,
                              transposed: false, kc: depth, columns: columns - firstColumns, into: packedB + firstColumns * depth)
                }
                var rowStart = 0
                while rowStart < m {
                    let rows = min(mBlock, m - rowStart)
                    if let packedA {
                        gemmPackA(transposeA ? a + depthStart * lda + rowStart : a + rowStart * lda + depthStart,
                                  lda: lda, transposed: transposeA, rows: rows, kc: depth, tileRows: tileRows, into: packedA,
                                  rowSums: columnStart == 0 ? rowSumsOfA.map { $0 + rowStart } : nil)
                    }
                    var tileColumn = 0
                    while tileColumn < columns {
                        let panelB = UnsafePointer(packedB + tileColumn * depth)
                        let tileWidth = min(tileColumns, columns - tileColumn)
                        let column = columnStart + tileColumn
                        let inSecond = second.map { column >= $0.start } ?? false
                        let (tileC, ldc) = inSecond ? (second!.c - second!.start, second!.ldc) : (c, ldc)
                        var tileRow = 0
                        while tileRow < rows {
                            let target = tileC + (rowStart + tileRow) * ldc + column
                            let tileBias = overwrite ? bias.map { $0 + columnStart + tileColumn } : nil
                            if let packedA {
                                gemmMicrokernel(V.self, tile: tile, kc: depth, UnsafePointer(packedA + tileRow * depth),
                                                panelB, target, ldc: ldc, rows: min(tileRows, rows - tileRow), columns: tileWidth,
                                                overwrite: overwrite, bias: tileBias)
                            } else {
                                gemmMicrokernelUpTo8Rows(V.self, kc: depth, a + depthStart * lda + rowStart + tileRow, rowStride: 1,
                                                         stepStride: lda, panelB, target, ldc: ldc, rows: min(tileRows, rows - tileRow),
                                                         columns: tileWidth, overwrite: overwrite, bias: tileBias)
                            }
                            tileRow += tileRows
                        }
                        tileColumn += tileColumns
                    }
                    rowStart += rows
                }
                depthStart += depth
            }
            columnStart += columns
        }
    }

    /// Reinterprets a pointer to a tensor scalar as a pointer to `T`, the same type checked by
    /// the caller.
    @usableFromInline @inline(__always)
    static func rebound<S, T>(_ pointer: UnsafePointer<S>, _: T.Type) -> UnsafePointer<T> {
        UnsafeRawPointer(pointer).assumingMemoryBound(to: T.self)
    }

    @usableFromInline @inline(__always)
    static func rebound<S, T>(_ pointer: UnsafeMutablePointer<S>, _: T.Type) -> UnsafeMutablePointer<T> {
        UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: T.self)
    }
}

/// Work generic over the vector type of a SIMD path, run by `Kernels.onPath` with the concrete
/// type (Swift has no closures generic over a type; a method of a protocol stands in).
protocol GemmPathWork {
    associatedtype Scalar: TensorScalar
    /// The work with vectors `V`, whose scalar is `Scalar`.
    func run<V: SIMD>(_: V.Type) where V.Scalar: TensorScalar
}

/// `gemmParallel`'s arguments, run on one path's vector type.
struct GemmProduct<Scalar: TensorScalar>: GemmPathWork {
    let tile: GemmTile
    let transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int
    let a: UnsafePointer<Scalar>, lda: Int, b: UnsafePointer<Scalar>, ldb: Int
    let c: UnsafeMutablePointer<Scalar>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Scalar>?
    let rowSumsOfA: UnsafeMutablePointer<Scalar>?, second: GemmSecondColumns<Scalar>?, threads: Int

    func run<V: SIMD>(_: V.Type) where V.Scalar: TensorScalar {
        typealias T = V.Scalar
        Kernels.gemmParallel(V.self, tile: tile, transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                             Kernels.rebound(a, T.self), lda: lda, Kernels.rebound(b, T.self), ldb: ldb, Kernels.rebound(c, T.self),
                             ldc: ldc, accumulate: accumulate, bias: bias.map { Kernels.rebound($0, T.self) },
                             rowSumsOfA: rowSumsOfA.map { Kernels.rebound($0, T.self) }, second: second?.rebound(T.self),
                             threads: threads)
    }
}
