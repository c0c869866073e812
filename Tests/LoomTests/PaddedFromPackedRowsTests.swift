import Testing
@testable import Loom

/// `paddedFromPackedRows`: the one-copy output layout of the fused recurrent layers.
@Suite struct PaddedFromPackedRowsTests {
    /// Two sources of odd widths (3 and 5), 7 positions, padding in both, a row named twice.
    let first = Tensor<Double>(shape: [4, 3], scalars: (0..<12).map { Double($0) + 1 })
    let second = Tensor<Double>(shape: [2, 5], scalars: (0..<10).map { -Double($0) - 0.5 })
    let index: [[Int]] = [[3, 0, 4, 1, 2, 4, 0], [2, 1, 0, 2, 2, 1, 0]]

    @Test func rowsLandAtTheirPositionsWithZerosForPadding() {
        let out = paddedFromPackedRows([first, second], rowIndex: index)
        #expect(out.shape == [7, 8])
        let values = out.scalars
        for p in 0..<7 {
            for j in 0..<3 {
                let row = index[0][p]
                #expect(values[p * 8 + j] == (row == 4 ? 0 : first.scalars[row * 3 + j]), "position \(p), column \(j)")
            }
            for j in 0..<5 {
                let row = index[1][p]
                #expect(values[p * 8 + 3 + j] == (row == 2 ? 0 : second.scalars[row * 5 + j]), "position \(p), column \(3 + j)")
            }
        }
    }

    @Test func gradientMatchesFiniteDifferences() {
        let weights = Tensor<Double>(shape: [7, 8], scalars: (0..<56).map { Double($0 % 11) * 0.3 - 1 })
        let report = gradientCheck([first, second]) { xs in
            (paddedFromPackedRows(xs, rowIndex: index) * weights).sum()
        }
        #expect(report.passed, "\(report)")
    }

    @Test func oneSourceWithoutGradientGetsNone() {
        let tracked = first.requiringGrad()
        (paddedFromPackedRows([tracked, second], rowIndex: index) * 2).sum().backward()
        // Row 0 of the first source sits at two positions, row 3 at one, padding adds nothing.
        let grad = tracked.grad!.scalars
        #expect(Array(grad[0..<3]) == [4, 4, 4])
        #expect(Array(grad[9..<12]) == [2, 2, 2])
        #expect(second.grad == nil)
    }
}
