// The output layout step of the fused recurrent layers: packed rows of every direction
// written straight into one padded tensor (one copy, instead of a zero-row concatenation,
// a gather per direction and a concatenation of the directions).

/// Lays out packed rows in a padded tensor, the directions side by side: row `p` of the
/// result is `sources[0][rowIndex[0][p]]`, then `sources[1][rowIndex[1][p]]`, ..., where an
/// index equal to that source's row count (one past its last row) stands for a row of zeros
/// (a padded position).
///
/// - Parameters:
///   - sources: `D` tensors `[rows_d, width_d]`.
///   - rowIndex: `D` arrays of the same length `positions`, each entry in `0...rows_d`.
/// - Returns: `[positions, Σ width_d]`. The gradient of `sources[d]` row `r` is the sum of the
///   gradient's rows whose `rowIndex[d]` is `r` (zero for a row no position names).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func paddedFromPackedRows<Scalar>(_ sources: [Tensor<Scalar>], rowIndex: [[Int]]) -> Tensor<Scalar> {
    checkShape(!sources.isEmpty && sources.count == rowIndex.count,
               "paddedFromPackedRows: expects one row index per source, got \(sources.count) sources and \(rowIndex.count) indices")
    let positions = rowIndex[0].count
    var widths: [Int] = [], offsets: [Int] = []
    var total = 0
    for (d, source) in sources.enumerated() {
        checkShape(source.rank == 2, "paddedFromPackedRows: source \(d) must be [rows, width], got \(source.shape)")
        checkShape(rowIndex[d].count == positions,
                   "paddedFromPackedRows: row index \(d) has \(rowIndex[d].count) positions, expected \(positions)")
        IndexWalk.checkRange(rowIndex[d], size: source.shape[0] + 1, dim: 0, op: "paddedFromPackedRows", shape: source.shape)
        widths.append(source.shape[1])
        offsets.append(total)
        total += source.shape[1]
    }
    let result = Tensor<Scalar>(shape: [positions, total]) { out in
        let base = out.baseAddress!
        for (d, source) in sources.enumerated() {
            let rows = source.shape[0], width = widths[d], src = UnsafePointer(source.storage.base)
            let index = rowIndex[d]
            var dst = base + offsets[d]
            for p in 0..<positions {
                let row = index[p]
                if row == rows {
                    dst.initialize(repeating: 0, count: width)
                } else {
                    dst.initialize(from: src + row * width, count: width)
                }
                dst += total
            }
        }
    }
    return result.recorded("paddedFromPackedRows", inputs: sources) {
        let shapes = sources.map(\.shape)
        let needs = sources.map(\.requiresGrad)
        return { g in
            (0..<shapes.count).map { d -> Tensor<Scalar>? in
                guard needs[d] else { return nil }
                let rows = shapes[d][0], width = widths[d], index = rowIndex[d]
                return Tensor<Scalar>(shape: shapes[d]) { out in
                    let dSource = out.baseAddress!
                    dSource.initialize(repeating: 0, count: rows * width)
                    var src = UnsafePointer(g.storage.base) + offsets[d]
                    for p in 0..<positions {
                        let row = index[p]
                        if row != rows { Kernels.accumulate(src, into: dSource + row * width, count: width) }
                        src += total
                    }
                }
            }
        }
    }
}
