// Packing of the matrix multiply's operands into the contiguous layouts the microkernel
// streams through (see GemmMicrokernel.swift). Packing is also where the transposed
// variants are absorbed: after it, the microkernel only ever sees one layout.
//
// Packed A (a block of `rows x kc` of op(A)): consecutive panels of MR (6 or 8) rows; inside a
// panel, for each step p of the shared dimension, the MR elements A[i, p] of its rows. Rows past the
// end of A are zero.
// Packed B (a block of `kc x columns` of op(B)): consecutive panels of NR columns (NR depends
// on the SIMD path: see GemmMicrokernel.swift); inside a panel, for each step p, the NR
// elements B[p, j] of its columns. Columns past the end are zero.

extension Kernels {
    /// Packs the `rows x kc` block of op(A) whose top-left element is at `a` (op(A) is `A`,
    /// or `Aᵀ` when `transposed`, with `A` stored row-major with row stride `lda`) into
    /// `packed` in panels of `tileRows` (6 or 8) rows, which holds
    /// `ceil(rows / tileRows) * tileRows * kc` elements.
    ///
    /// With `rowSums` (`rows` values), adds each row's `kc` elements to it, one step after
    /// another in the order of p, as they are packed: packing the K blocks of a product in
    /// turn into zeroed sums gives `0 + op(A)[i, 0] + op(A)[i, 1] + ...`, the bits of
    /// `sumMiddleAxis` over the stored rows of a transposed A, without another pass over A.
    @inline(__always)
    static func gemmPackA<S: TensorScalar>(
        _ a: UnsafePointer<S>, lda: Int, transposed: Bool, rows: Int, kc: Int, tileRows: Int,
        into packed: UnsafeMutablePointer<S>, rowSums: UnsafeMutablePointer<S>? = nil
    ) {
        var target = packed
        var panelStart = 0
        if transposed && rows >= tileRows {
            // op(A)[i, p] = A[p, i]: every full panel's elements of step p are contiguous in
            // stored row p. For each block of 16 steps, fill the panels one after another
            // (a panel is `tileRows * kc` elements, so writing all panels' step p together
            // would scatter the stores a panel's size apart, all into the same cache sets;
            // 16 steps keep the 16 stored rows' reads streaming). For Float, two panels at a
            // time, so that each 64-byte line of A is read once.
            let fullPanels = rows / tileRows, panelStride = tileRows * kc
            var blockStart = 0
            while blockStart < kc {
                let steps = blockStart..<min(kc, blockStart + 16)
                var q = 0
                // The sums of the panels' rows, when asked for, run in registers over each
                // block of steps (the adds cost nothing next to the loads and stores).
                if tileRows == 8 && S.self == Float.self {
                    let packed = rebound(packed, Float.self), sums = rowSums.map { rebound($0, Float.self) }
                    while q + 2 <= fullPanels {
                        let row = rebound(a + q * 8, Float.self)
                        let first = packed + q * panelStride, second = first + panelStride
                        var sum = sums.map { load(SIMD16<Float>.self, $0 + q * 8) } ?? .zero
                        for p in steps {
                            let v = load(SIMD16<Float>.self, row + p * lda)
                            v.lowHalf.store(to: first + p * 8)
                            v.highHalf.store(to: second + p * 8)
                            sum += v
                        }
                        if let sums { sum.store(to: sums + q * 8) }
                        q += 2
                    }
                }
                while q < fullPanels {
                    let row = a + q * tileRows, out = packed + q * panelStride
                    if tileRows == 8 {
                        let sums = rowSums.map { $0 + q * 8 }
                        var sum = sums.map { load(SIMD8<S>.self, $0) } ?? .zero
                        for p in steps {
                            let v = load(SIMD8<S>.self, row + p * lda)
                            v.store(to: out + p * 8)
                            sum += v
                        }
                        if let sums { sum.store(to: sums) }
                    } else if tileRows == 6 {
                        // A 4-lane and a 2-lane vector per step, sums in registers likewise.
                        let sums = rowSums.map { $0 + q * 6 }
                        var sumLow = sums.map { load(SIMD4<S>.self, $0) } ?? .zero
                        var sumHigh = sums.map { load(SIMD2<S>.self, $0 + 4) } ?? .zero
                        for p in steps {
                            let source = row + p * lda, destination = out + p * 6
                            let low = load(SIMD4<S>.self, source), high = load(SIMD2<S>.self, source + 4)
                            low.store(to: destination)
                            high.store(to: destination + 4)
                            sumLow += low
                            sumHigh += high
                        }
                        if let sums {
                            sumLow.store(to: sums)
                            sumHigh.store(to: sums + 4)
                        }
                    } else {
                        for p in steps { (out + p * tileRows).update(from: row + p * lda, count: tileRows) }
                        if let rowSums { addPanelSums(out + steps.lowerBound * tileRows, steps: steps.count, tileRows: tileRows,
                                                      rows: tileRows, into: rowSums + q * tileRows) }
                    }
                    q += 1
                }
                blockStart = steps.upperBound
            }
            panelStart = fullPanels * tileRows
            target = packed + fullPanels * panelStride
        }
        while panelStart < rows {
            let panelRows = min(tileRows, rows - panelStart)
            if transposed {
                // The last, partial panel (the full ones are packed above).
                let source = a + panelStart
                for p in 0..<kc {
                    let row = source + p * lda, out = target + p * tileRows
                    for r in 0..<tileRows { out[r] = r < panelRows ? row[r] : 0 }
                }
                if let rowSums { addPanelSums(target, steps: kc, tileRows: tileRows, rows: panelRows, into: rowSums + panelStart) }
            } else {
                let source = a + panelStart * lda
                if panelRows == 6 && tileRows == 6 {
                    let r0 = source, r1 = source + lda, r2 = source + 2 * lda
                    let r3 = source + 3 * lda, r4 = source + 4 * lda, r5 = source + 5 * lda
                    for p in 0..<kc {
                        let out = target + p * 6
                        out[0] = r0[p]; out[1] = r1[p]; out[2] = r2[p]
                        out[3] = r3[p]; out[4] = r4[p]; out[5] = r5[p]
                    }
                } else if panelRows == 8 && tileRows == 8 {
                    let r0 = source, r1 = source + lda, r2 = source + 2 * lda, r3 = source + 3 * lda
                    let r4 = source + 4 * lda, r5 = source + 5 * lda, r6 = source + 6 * lda, r7 = source + 7 * lda
                    for p in 0..<kc {
                        let out = target + p * 8
                        out[0] = r0[p]; out[1] = r1[p]; out[2] = r2[p]; out[3] = r3[p]
                        out[4] = r4[p]; out[5] = r5[p]; out[6] = r6[p]; out[7] = r7[p]
                    }
                } else {
                    for r in 0..<tileRows {
                        if r < panelRows {
                            let row = source + r * lda
                            for p in 0..<kc { target[p * tileRows + r] = row[p] }
                        } else {
                            for p in 0..<kc { target[p * tileRows + r] = 0 }
                        }
                    }
                }
            }
            if let rowSums, !transposed {
                addPanelSums(target, steps: kc, tileRows: tileRows, rows: panelRows, into: rowSums + panelStart)
            }
            target += tileRows * kc
            panelStart += tileRows
        }
    }

    /// Adds to `sums[r]` the elements of row `r < rows` of a packed panel (`tileRows`
    /// elements per step), over `steps` steps in order.
    @inline(__always)
    private static func addPanelSums<S: TensorScalar>(
        _ panel: UnsafePointer<S>, steps: Int, tileRows: Int, rows: Int, into sums: UnsafeMutablePointer<S>
    ) {
        for p in 0..<steps {
            for r in 0..<rows { sums[r] += panel[p * tileRows + r] }
        }
    }

    /// Packs the `kc x columns` block of op(B) whose top-left element is at `b` (op(B) is `B`,
    /// or `Bᵀ` when `transposed`, with `B` stored row-major with row stride `ldb`) into
    /// `packed`, in panels of `tileColumns` (a multiple of V's width and of 8 Float / 4 Double
    /// columns), which holds `ceil(columns / tileColumns) * tileColumns * kc` elements.
    @inline(__always)
    static func gemmPackB<V: SIMD>(
        _: V.Type, tileColumns: Int, _ b: UnsafePointer<V.Scalar>, ldb: Int, transposed: Bool, kc: Int, columns: Int,
        into packed: UnsafeMutablePointer<V.Scalar>
    ) where V.Scalar: TensorScalar {
        typealias S = V.Scalar
        let width = V.scalarCount
        var target = packed
        var panelStart = 0
        while panelStart < columns {
            let panelColumns = min(tileColumns, columns - panelStart)
            if transposed && panelColumns == tileColumns && S.self == Float.self {
                gemmPackTransposedPanel(UnsafeRawPointer(b + panelStart * ldb).assumingMemoryBound(to: Float.self),
                                        ldb: ldb, kc: kc, tileColumns: tileColumns,
                                        into: UnsafeMutableRawPointer(target).assumingMemoryBound(to: Float.self))
            } else if transposed && panelColumns == tileColumns && S.self == Double.self {
                gemmPackTransposedPanel(UnsafeRawPointer(b + panelStart * ldb).assumingMemoryBound(to: Double.self),
                                        ldb: ldb, kc: kc, tileColumns: tileColumns,
                                        into: UnsafeMutableRawPointer(target).assumingMemoryBound(to: Double.self))
            } else if transposed {
                // op(B)[p, j] = B[j, p]: read each stored row contiguously, write with stride NR.
                for jj in 0..<tileColumns {
                    if jj < panelColumns {
                        let row = b + (panelStart + jj) * ldb
                        for p in 0..<kc { target[p * tileColumns + jj] = row[p] }
                    } else {
                        for p in 0..<kc { target[p * tileColumns + jj] = 0 }
                    }
                }
            } else {
                let source = b + panelStart
                if panelColumns == tileColumns {
                    for p in 0..<kc {
                        let row = source + p * ldb, out = target + p * tileColumns
                        var j = 0
                        while j < tileColumns {
                            load(V.self, row + j).store(to: out + j)
                            j += width
                        }
                    }
                } else {
                    for p in 0..<kc {
                        let row = source + p * ldb, out = target + p * tileColumns
                        for jj in 0..<tileColumns { out[jj] = jj < panelColumns ? row[jj] : 0 }
                    }
                }
            }
            target += tileColumns * kc
            panelStart += tileColumns
        }
    }

    /// Packs one full panel of `tileColumns` (a multiple of 8) columns of op(B) = Bᵀ for Float:
    /// that many stored rows of `B` (row stride `ldb`), `kc` elements each, become `kc` groups of
    /// `tileColumns`. Works on 8x8 blocks transposed in registers, then finishes the last
    /// `kc % 8` steps element by element.
    @inline(__always)
    static func gemmPackTransposedPanel(
        _ b: UnsafePointer<Float>, ldb: Int, kc: Int, tileColumns: Int, into packed: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD8<Float>
        for half in 0..<(tileColumns / 8) {
            let rows = b + half * 8 * ldb, out = packed + half * 8
            var p = 0
            while p + 8 <= kc {
                let t = transposed8x8(
                    load(V.self, rows + p), load(V.self, rows + ldb + p),
                    load(V.self, rows + 2 * ldb + p), load(V.self, rows + 3 * ldb + p),
                    load(V.self, rows + 4 * ldb + p), load(V.self, rows + 5 * ldb + p),
                    load(V.self, rows + 6 * ldb + p), load(V.self, rows + 7 * ldb + p))
                let base = out + p * tileColumns
                t.0.store(to: base); t.1.store(to: base + tileColumns)
                t.2.store(to: base + 2 * tileColumns); t.3.store(to: base + 3 * tileColumns)
                t.4.store(to: base + 4 * tileColumns); t.5.store(to: base + 5 * tileColumns)
                t.6.store(to: base + 6 * tileColumns); t.7.store(to: base + 7 * tileColumns)
                p += 8
            }
            while p < kc {
                for jj in 0..<8 { out[p * tileColumns + jj] = rows[jj * ldb + p] }
                p += 1
            }
        }
    }

    /// Packs one full panel of `tileColumns` (a multiple of 4) columns of op(B) = Bᵀ for
    /// Double, with 4x4 register transposes (see the Float version).
    @inline(__always)
    static func gemmPackTransposedPanel(
        _ b: UnsafePointer<Double>, ldb: Int, kc: Int, tileColumns: Int, into packed: UnsafeMutablePointer<Double>
    ) {
        typealias V = SIMD4<Double>
        for half in 0..<(tileColumns / 4) {
            let rows = b + half * 4 * ldb, out = packed + half * 4
            var p = 0
            while p + 4 <= kc {
                let t = transposed4x4(load(V.self, rows + p), load(V.self, rows + ldb + p),
                                      load(V.self, rows + 2 * ldb + p), load(V.self, rows + 3 * ldb + p))
                let base = out + p * tileColumns
                t.0.store(to: base); t.1.store(to: base + tileColumns)
                t.2.store(to: base + 2 * tileColumns); t.3.store(to: base + 3 * tileColumns)
                p += 4
            }
            while p < kc {
                for jj in 0..<4 { out[p * tileColumns + jj] = rows[jj * ldb + p] }
                p += 1
            }
        }
    }
}

/// Splits two vectors into their even lanes and their odd lanes: one step of a register
/// transpose. Viewing the row and column index bits of a 2ⁿ x 2ⁿ block as one 2n-bit index,
/// a round of this over the row pairs rotates the index right by one bit, so n rounds
/// swap the row and column bits: a transpose.
@inline(__always)
func unzipped(_ x: SIMD8<Float>, _ y: SIMD8<Float>) -> (SIMD8<Float>, SIMD8<Float>) {
    (SIMD8(lowHalf: x.evenHalf, highHalf: y.evenHalf), SIMD8(lowHalf: x.oddHalf, highHalf: y.oddHalf))
}

@inline(__always)
func unzipped(_ x: SIMD4<Double>, _ y: SIMD4<Double>) -> (SIMD4<Double>, SIMD4<Double>) {
    (SIMD4(lowHalf: x.evenHalf, highHalf: y.evenHalf), SIMD4(lowHalf: x.oddHalf, highHalf: y.oddHalf))
}

/// The transpose of the 8x8 block whose rows are the arguments (three unzip rounds).
@inline(__always)
func transposed8x8(
    _ r0: SIMD8<Float>, _ r1: SIMD8<Float>, _ r2: SIMD8<Float>, _ r3: SIMD8<Float>,
    _ r4: SIMD8<Float>, _ r5: SIMD8<Float>, _ r6: SIMD8<Float>, _ r7: SIMD8<Float>
) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    var r = (r0, r1, r2, r3, r4, r5, r6, r7)
    for _ in 0..<3 {
        let (a0, a4) = unzipped(r.0, r.1), (a1, a5) = unzipped(r.2, r.3)
        let (a2, a6) = unzipped(r.4, r.5), (a3, a7) = unzipped(r.6, r.7)
        r = (a0, a1, a2, a3, a4, a5, a6, a7)
    }
    return r
}

/// The transpose of the 4x4 block whose rows are the arguments (two unzip rounds).
@inline(__always)
func transposed4x4(
    _ r0: SIMD4<Double>, _ r1: SIMD4<Double>, _ r2: SIMD4<Double>, _ r3: SIMD4<Double>
) -> (SIMD4<Double>, SIMD4<Double>, SIMD4<Double>, SIMD4<Double>) {
    var r = (r0, r1, r2, r3)
    for _ in 0..<2 {
        let (a0, a2) = unzipped(r.0, r.1), (a1, a3) = unzipped(r.2, r.3)
        r = (a0, a1, a2, a3)
    }
    return r
}
