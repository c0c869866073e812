import Testing
@testable import Loom

/// The middle-axis sum (bias gradients, `sum(dim:)`) and the column sums of a strided block
/// (a bias gradient read in place from a product's operand) add each element's terms in row
/// order, whatever the width: the same bits as a plain loop.
@Suite struct ReductionKernelTests {
    func check<S: TensorScalar>(_: S.Type, outer: Int, length: Int, inner: Int) -> Bool {
        var generator = RandomGenerator(seed: UInt64(outer * 1000 + length * 10 + inner))
        let x = (0..<(outer * length * inner)).map { _ in S(generator.nextUnit() * 2 - 1) }
        var expected = [S](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var total: S = 0
                for l in 0..<length { total += x[(o * length + l) * inner + i] }
                expected[o * inner + i] = total
            }
        }
        var result = [S](repeating: .nan, count: outer * inner)
        x.withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { out in
                Kernels.sumMiddleAxis(x.baseAddress!, outer: outer, length: length, inner: inner, out.baseAddress!)
            }
        }
        return result == expected
    }

    @Test func middleAxisSumsAddInRowOrder() {
        for (outer, length, inner) in [(1, 37, 512), (2, 5, 70), (3, 1, 1), (1, 0, 64), (2, 9, 7), (1, 100, 129)] {
            #expect(check(Float.self, outer: outer, length: length, inner: inner), "Float \(outer) x \(length) x \(inner)")
            #expect(check(Double.self, outer: outer, length: length, inner: inner), "Double \(outer) x \(length) x \(inner)")
        }
    }

    /// `columnSums` over rows `stride` apart: each column summed from zero in row order, the
    /// elements between the rows (stride beyond the columns) never read into a sum, nothing
    /// written past the columns.
    func checkColumnSums<S: TensorScalar>(_: S.Type, rows: Int, columns: Int, stride: Int) -> Bool {
        var generator = RandomGenerator(seed: UInt64(rows * 1000 + columns * 10 + stride))
        let x = (0..<max(rows * stride, 1)).map { index in
            index % stride < columns ? S(generator.nextUnit() * 2 - 1) : S.nan
        }
        var expected = [S](repeating: 0, count: columns)
        for c in 0..<columns {
            var total: S = 0
            for r in 0..<rows { total += x[r * stride + c] }
            expected[c] = total
        }
        var result = [S](repeating: S(7), count: columns + 1)
        x.withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { sums in
                Kernels.columnSums(x.baseAddress!, rows: rows, columns: columns, rowStride: stride, into: sums.baseAddress!)
            }
        }
        return Array(result.prefix(columns)) == expected && result[columns] == S(7)
    }

    @Test func columnSumsOfStridedRowsAddInRowOrder() {
        // With 16-lane Float vectors: blocks of four vectors only (128), blocks and a tail (129,
        // 70), a block, two single vectors and a tail (100), a tail only (7); no rows; strides
        // equal to and beyond the columns.
        for (rows, columns, stride) in [(37, 128, 130), (560, 128, 128), (5, 70, 70), (9, 7, 20), (0, 64, 64), (100, 129, 200),
                                        (33, 100, 101)] {
            #expect(checkColumnSums(Float.self, rows: rows, columns: columns, stride: stride), "Float \(rows) x \(columns) stride \(stride)")
            #expect(checkColumnSums(Double.self, rows: rows, columns: columns, stride: stride), "Double \(rows) x \(columns) stride \(stride)")
        }
    }
}
