import Testing
@testable import Loom

/// Forward values of the shape and selection ops, checked against small matrices whose
/// results can be written down by hand.
@Suite struct ShapeOpsTests {
    /// [[1, 2, 3], [4, 5, 6]]
    let matrix = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
    /// 0...23 as [2, 3, 4]
    let cube = Tensor<Double>.arange(0, 24).reshaped([2, 3, 4])

    // MARK: narrow / slice / select

    @Test func narrowAlongColumnsAndRows() {
        let columns = matrix.narrow(dim: 1, start: 1, length: 2)
        #expect(columns.shape == [2, 2])
        #expect(columns.scalars == [2, 3, 5, 6])
        let lastRow = matrix.narrow(dim: 0, start: -1, length: 1)
        #expect(lastRow.shape == [1, 3])
        #expect(lastRow.scalars == [4, 5, 6])
        let inner = cube.narrow(dim: -1, start: 1, length: 2)
        #expect(inner.shape == [2, 3, 2])
        #expect(inner.scalars == [1, 2, 5, 6, 9, 10, 13, 14, 17, 18, 21, 22])
        let empty = matrix.narrow(dim: 1, start: 3, length: 0)
        #expect(empty.shape == [2, 0])
    }

    @Test func sliceTakesARange() {
        let firstTwo = matrix.slice(dim: -1, 0..<2)
        #expect(firstTwo.shape == [2, 2])
        #expect(firstTwo.scalars == [1, 2, 4, 5])
        let middle = cube.slice(dim: 1, 1..<3)
        #expect(middle.shape == [2, 2, 4])
        #expect(middle.scalars == [4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23])
    }

    @Test func selectRemovesTheAxis() {
        let column = matrix.select(dim: 1, index: 2)
        #expect(column.shape == [2])
        #expect(column.scalars == [3, 6])
        let lastRow = matrix.select(dim: 0, index: -1)
        #expect(lastRow.shape == [3])
        #expect(lastRow.scalars == [4, 5, 6])
        let step = cube.select(dim: 1, index: 1)
        #expect(step.shape == [2, 4])
        #expect(step.scalars == [4, 5, 6, 7, 16, 17, 18, 19])
        let element = Tensor<Double>([7, 8, 9]).select(dim: 0, index: 1)
        #expect(element.shape == [])
        #expect(element.item == 8)
    }

    @Test func narrowGradientScattersIntoZeros() {
        let x = matrix.requiringGrad()
        x.narrow(dim: 1, start: 1, length: 2).sum().backward()
        #expect(x.grad!.scalars == [0, 1, 1, 0, 1, 1])
        let y = matrix.requiringGrad()
        (y.select(dim: 0, index: 1) * Tensor<Double>([1, 2, 3])).sum().backward()
        #expect(y.grad!.scalars == [0, 0, 0, 1, 2, 3])
    }

    // MARK: cat / stack / split / chunk

    @Test func catAlongEachAxis() {
        let a = Tensor<Double>([[1, 2], [3, 4]])
        let rows = Tensor.cat([a, Tensor<Double>([[5, 6]])], dim: 0)
        #expect(rows.shape == [3, 2])
        #expect(rows.scalars == [1, 2, 3, 4, 5, 6])
        let columns = Tensor.cat([a, Tensor<Double>([[7], [8]])], dim: -1)
        #expect(columns.shape == [2, 3])
        #expect(columns.scalars == [1, 2, 7, 3, 4, 8])
        let three = Tensor.cat([Tensor<Double>([1]), Tensor<Double>([2, 3]), Tensor<Double>([4, 5, 6])], dim: 0)
        #expect(three.scalars == [1, 2, 3, 4, 5, 6])
    }

    @Test func catGradientSplitsBackToEachInput() {
        let a = Tensor<Double>([[1, 2], [3, 4]]).requiringGrad()
        let b = Tensor<Double>([[5], [6]]).requiringGrad()
        let weights = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        (Tensor.cat([a, b], dim: 1) * weights).sum().backward()
        #expect(a.grad!.scalars == [1, 2, 4, 5])
        #expect(b.grad!.scalars == [3, 6])
    }

    @Test func stackInsertsANewAxis() {
        let p = Tensor<Double>([1, 2]), q = Tensor<Double>([3, 4])
        let first = Tensor.stack([p, q], dim: 0)
        #expect(first.shape == [2, 2])
        #expect(first.scalars == [1, 2, 3, 4])
        let last = Tensor.stack([p, q], dim: 1)
        #expect(last.shape == [2, 2])
        #expect(last.scalars == [1, 3, 2, 4])
        #expect(Tensor.stack([p, q], dim: -1).scalars == [1, 3, 2, 4])
        let matrices = Tensor.stack([matrix, matrix * 10], dim: 1)
        #expect(matrices.shape == [2, 2, 3])
        #expect(matrices.scalars == [1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60])
    }

    @Test func splitIntoGivenSizes() {
        let x = Tensor<Double>.arange(0, 10).reshaped([2, 5])
        let pieces = x.split([2, 3], dim: 1)
        #expect(pieces.count == 2)
        #expect(pieces[0].shape == [2, 2])
        #expect(pieces[0].scalars == [0, 1, 5, 6])
        #expect(pieces[1].shape == [2, 3])
        #expect(pieces[1].scalars == [2, 3, 4, 7, 8, 9])
    }

    @Test func chunkIntoEqualPieces() {
        let pieces = Tensor<Double>.arange(0, 6).chunk(3, dim: 0)
        #expect(pieces.map(\.scalars) == [[0, 1], [2, 3], [4, 5]])
        let gates = matrix.chunk(1, dim: 1)
        #expect(gates.count == 1 && gates[0].scalars == matrix.scalars)
    }

    @Test func unusedPiecesGetNoGradient() {
        let x = Tensor<Double>([1, 2, 3, 4, 5, 6]).requiringGrad()
        let pieces = x.chunk(3, dim: 0)
        (pieces[0] * pieces[2]).sum().backward()
        #expect(x.grad!.scalars == [5, 6, 0, 0, 1, 2])
    }

    // MARK: where / maskedFill / comparisons

    @Test func whereBroadcastsConditionAndOperands() {
        let condition = BoolTensor(shape: [3], scalars: [true, false, true])
        let chosen = Tensor.where(condition, matrix, Tensor<Double>(-1))
        #expect(chosen.shape == [2, 3])
        #expect(chosen.scalars == [1, -1, 3, 4, -1, 6])
        let rows = BoolTensor(shape: [2, 1], scalars: [true, false])
        let mixed = Tensor.where(rows, Tensor<Double>([1, 2, 3]), Tensor<Double>([[10], [20]]))
        #expect(mixed.shape == [2, 3])
        #expect(mixed.scalars == [1, 2, 3, 20, 20, 20])
    }

    @Test func whereDoesNotLeakTheUnselectedBranch() {
        let condition = BoolTensor(shape: [2], scalars: [true, false])
        let a = Tensor<Double>([1, .nan]).requiringGrad()
        let b = Tensor<Double>([.infinity, 2]).requiringGrad()
        let y = Tensor.where(condition, a, b)
        #expect(y.scalars == [1, 2])
        (y * Tensor<Double>([3, 4])).sum().backward()
        #expect(a.grad!.scalars == [3, 0])
        #expect(b.grad!.scalars == [0, 4])
    }

    @Test func whereGradientSumsOverBroadcastAxes() {
        let condition = BoolTensor(shape: [2, 3], scalars: [true, false, true, false, false, true])
        let a = Tensor<Double>([1, 2, 3]).requiringGrad()
        let b = Tensor<Double>(5).requiringGrad()
        Tensor.where(condition, a, b).sum().backward()
        #expect(a.grad!.scalars == [1, 0, 2])
        #expect(b.grad!.shape == [])
        #expect(b.grad!.item == 3)
    }

    @Test func maskedFillReplacesAndBlocksGradient() {
        let mask = BoolTensor(shape: [3], scalars: [false, true, false])
        let x = matrix.requiringGrad()
        let filled = x.maskedFill(mask, with: 0)
        #expect(filled.shape == [2, 3])
        #expect(filled.scalars == [1, 0, 3, 4, 0, 6])
        filled.sum().backward()
        #expect(x.grad!.scalars == [1, 0, 1, 1, 0, 1])
        let withNaN = Tensor<Double>([.nan, 1]).maskedFill(BoolTensor(shape: [2], scalars: [true, false]), with: -.infinity)
        #expect(withNaN.scalars == [-.infinity, 1])
    }

    @Test func comparisonsBuildMasks() {
        let x = Tensor<Double>([1, 2, 3])
        #expect((x .> 2).scalars == [false, false, true])
        #expect((x .< 2).scalars == [true, false, false])
        #expect((x .>= 2).scalars == [false, true, true])
        #expect((x .<= 2).scalars == [true, true, false])
        #expect((x .== 2).scalars == [false, true, false])
        #expect((x .!= 2).scalars == [true, false, true])
        #expect((matrix .> 3).shape == [2, 3])
    }
}
