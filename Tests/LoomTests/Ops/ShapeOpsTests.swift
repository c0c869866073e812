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
    // MARK: transpose / permute

    @Test func transposeAMatrix() {
        let t = matrix.transposed(0, 1)
        #expect(t.shape == [3, 2])
        #expect(t.scalars == [1, 4, 2, 5, 3, 6])
        #expect(matrix.transposed(-1, -2).scalars == [1, 4, 2, 5, 3, 6])
        #expect(matrix.transposed(1, 1).scalars == matrix.scalars)
    }

    @Test func transposeAndPermuteACube() {
        // cube[b][r][c] = 12b + 4r + c
        let lastTwo = cube.transposed(1, 2)
        #expect(lastTwo.shape == [2, 4, 3])
        #expect(lastTwo.scalars == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11,
                                    12, 16, 20, 13, 17, 21, 14, 18, 22, 15, 19, 23])
        let outer = cube.transposed(0, 1)
        #expect(outer.shape == [3, 2, 4])
        #expect(outer.scalars == [0, 1, 2, 3, 12, 13, 14, 15, 4, 5, 6, 7, 16, 17, 18, 19, 8, 9, 10, 11, 20, 21, 22, 23])
        let rotated = cube.permuted([2, 0, 1])
        #expect(rotated.shape == [4, 2, 3])
        #expect(rotated.scalars == [0, 4, 8, 12, 16, 20, 1, 5, 9, 13, 17, 21,
                                    2, 6, 10, 14, 18, 22, 3, 7, 11, 15, 19, 23])
        #expect(cube.permuted([-1, 0, 1]).scalars == rotated.scalars)
        #expect(cube.permuted([0, 1, 2]).scalars == cube.scalars)
    }

    /// Every element of `permuted` compared with the element it must come from, computed
    /// here by plain index arithmetic.
    func expectPermutation(of x: Tensor<Double>, _ dims: [Int]) {
        let y = x.permuted(dims)
        let outShape = dims.map { x.shape[$0] }
        #expect(y.shape == outShape)
        let inStrides = Shape.strides(of: x.shape)
        let source = x.scalars, result = y.scalars
        var mismatches = 0
        for linear in 0..<y.count {
            var rest = linear, sourceOffset = 0
            for axis in stride(from: outShape.count - 1, through: 0, by: -1) {
                let i = rest % outShape[axis]
                rest /= outShape[axis]
                sourceOffset += i * inStrides[dims[axis]]
            }
            if result[linear] != source[sourceOffset] { mismatches += 1 }
        }
        #expect(mismatches == 0, "permute \(x.shape) by \(dims): \(mismatches) wrong elements")
    }

    @Test func everyPermutationOfFourAxes() {
        let x = Tensor<Double>.arange(0, 360).reshaped([3, 4, 5, 6])
        func permutations(_ items: [Int]) -> [[Int]] {
            if items.count <= 1 { return [items] }
            return items.indices.flatMap { i -> [[Int]] in
                var rest = items
                let head = rest.remove(at: i)
                return permutations(rest).map { [head] + $0 }
            }
        }
        let all = permutations([0, 1, 2, 3])
        #expect(all.count == 24)
        for dims in all { expectPermutation(of: x, dims) }
    }

    @Test func largeTransposesCrossTileEdges() {
        var generator = RandomGenerator(seed: 3)
        let wide = Tensor<Double>.randn([70, 45], using: &generator)
        expectPermutation(of: wide, [1, 0])
        let batched = Tensor<Double>.randn([3, 33, 65], using: &generator)
        expectPermutation(of: batched, [0, 2, 1])
        expectPermutation(of: batched, [2, 1, 0])
        let floats = Tensor<Float>.arange(0, 40 * 50).reshaped([40, 50])
        let t = floats.transposed(0, 1)
        #expect(t[17, 39] == floats[39, 17] && t[49, 0] == floats[0, 49])
    }

    @Test func permuteGradientIsTheInversePermutation() {
        let x = cube.requiringGrad()
        (x.permuted([2, 0, 1]) * cube.permuted([2, 0, 1])).sum().backward()
        #expect(x.grad!.shape == [2, 3, 4])
        #expect(x.grad!.scalars == cube.scalars)
    }
}

/// Programming errors stop the program with a message (checked in a child process).
@Suite struct ShapeOpsMisuseTests {
    @Test func chunkThatDoesNotDivideStops() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor<Double>.zeros([2, 5]).chunk(2, dim: 1)
        }
    }

    @Test func dropoutProbabilityOutsideUnitIntervalStops() async {
        await #expect(processExitsWith: .failure) {
            var generator = RandomGenerator(seed: 1)
            _ = Tensor<Double>.zeros([3]).dropout(p: 1.5, using: &generator)
        }
    }

    @Test func catOfMismatchedShapesStops() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor.cat([Tensor<Double>.zeros([2, 3]), Tensor<Double>.zeros([2, 4])], dim: 0)
        }
    }
}
