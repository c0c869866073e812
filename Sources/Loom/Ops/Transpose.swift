// Axis reordering: transpose and permute, as contiguous copies. A swap of the last two axes
// is deferred: the copy is written only when something reads it, and a matrix product reads
// the untransposed scalars with a transposed layout instead, so `x.matmul(w.transposed(0, 1))`
// copies nothing, forward or backward. The backward of a permutation is the inverse
// permutation of the gradient.

extension Tensor {
    /// Tile edge of the blocked 2-D transpose: a 32×32 tile of Double is 8 KB read and
    /// 8 KB written, well inside L1.
    static var transposeTile: Int { 32 }

    /// Writes the elements of the contiguous `source` of shape `shape` to `out` with the
    /// axes reordered so that output axis `i` is input axis `dims[i]`.
    ///
    /// The output is produced row by row. When the input's innermost axis stays innermost,
    /// each output row is a contiguous copy. Otherwise the two axes involved (the output's
    /// innermost, strided in the input, and the input's innermost, strided in the output)
    /// are copied as a blocked 2-D transpose, so both reads and writes stay in cache.
    static func permuteCopy(_ source: UnsafePointer<Scalar>, shape: [Int], dims: [Int],
                            _ out: UnsafeMutablePointer<Scalar>) {
        let rank = shape.count
        let total = Shape.count(of: shape)
        if total == 0 { return }
        if rank == 0 { out[0] = source[0]; return }
        let sourceStrides = Shape.strides(of: shape)
        let outShape = dims.map { shape[$0] }
        let outStrides = Shape.strides(of: outShape)
        let readStrides = dims.map { sourceStrides[$0] }
        let q = rank - 1                              // output's innermost axis
        let p = dims.firstIndex(of: rank - 1)!        // where the input's innermost axis went
        let loopAxes = (0..<rank).filter { $0 != p && $0 != q }

        // Odometer over the remaining axes, tracking both offsets.
        var index = [Int](repeating: 0, count: loopAxes.count)
        var sourceOffset = 0, outOffset = 0
        let tile = transposeTile
        let rows = outShape[p], columns = outShape[q]
        let outRowStride = outStrides[p], sourceColumnStride = readStrides[q]
        while true {
            let src = source + sourceOffset, dst = out + outOffset
            if p == q {
                dst.update(from: src, count: columns)
            } else {
                // dst[i * outRowStride + j] = src[i + j * sourceColumnStride]
                var i0 = 0
                while i0 < rows {
                    let i1 = Swift.min(i0 + tile, rows)
                    var j0 = 0
                    while j0 < columns {
                        let j1 = Swift.min(j0 + tile, columns)
                        for i in i0..<i1 {
                            let dstRow = dst + i * outRowStride
                            let srcColumn = src + i
                            for j in j0..<j1 { dstRow[j] = srcColumn[j * sourceColumnStride] }
                        }
                        j0 = j1
                    }
                    i0 = i1
                }
            }
            var k = loopAxes.count - 1
            while k >= 0 {
                let axis = loopAxes[k]
                index[k] += 1
                sourceOffset += readStrides[axis]
                outOffset += outStrides[axis]
                if index[k] < outShape[axis] { break }
                sourceOffset -= readStrides[axis] * outShape[axis]
                outOffset -= outStrides[axis] * outShape[axis]
                index[k] = 0
                k -= 1
            }
            if k < 0 { return }
        }
    }

    /// The tensor with its axes reordered so that axis `i` of the result is axis `dims[i]`
    /// of this tensor (PyTorch's `permute`), as a contiguous copy. `dims` is a permutation
    /// of the axes; negative entries count from the last axis. Shape `[a, b, c]` with
    /// `dims: [2, 0, 1]` becomes `[c, a, b]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func permuted(_ dims: [Int]) -> Tensor {
        checkShape(dims.count == rank, "permute: dims \(dims) do not match a tensor of shape \(shape)")
        let axes = dims.map { Shape.normalize(axis: $0, rank: rank, op: "permute") }
        checkShape(Set(axes).count == rank, "permute: dims \(dims) are not a permutation of the axes of shape \(shape)")
        if axes == Array(0..<rank) { return self }
        let result: Tensor
        if Tensor.swapsLastTwoAxes(axes) {
            result = Tensor(shape: axes.map { shape[$0] }, storage: transposedLastAxesStorage())
        } else {
            result = Tensor(shape: axes.map { shape[$0] }) { out in
                Tensor.permuteCopy(storage.base, shape: shape, dims: axes, out.baseAddress!)
            }
        }
        return result.recorded("permute", inputs: [self]) {
            var inverse = [Int](repeating: 0, count: axes.count)
            for (i, axis) in axes.enumerated() { inverse[axis] = i }
            return { g in [g.permuted(inverse)] }
        }
    }

    /// Whether `axes` is the identity but for the last two axes, which are swapped.
    static func swapsLastTwoAxes(_ axes: [Int]) -> Bool {
        let rank = axes.count
        guard rank >= 2, axes[rank - 2] == rank - 1, axes[rank - 1] == rank - 2 else { return false }
        return axes.dropLast(2).enumerated().allSatisfy { $0.offset == $0.element }
    }

    /// The storage of this tensor with its last two axes swapped: deferred (written when
    /// first read), or, when this tensor is itself such a deferred swap not yet written,
    /// the storage it was made from.
    func transposedLastAxesStorage() -> TensorStorage<Scalar> {
        deferredTransposeSource ?? TensorStorage(transposingLastAxesOf: storage, sourceShape: shape)
    }

    /// The storage this tensor is a not-yet-written swap of the last two axes of, when it is
    /// one (with exactly the shape of that swap, so not a reshape of it): its scalars are that
    /// storage's read transposed.
    var deferredTransposeSource: TensorStorage<Scalar>? {
        guard storage.isDeferred, let deferred = storage.deferredTranspose,
              deferred.sourceShape == Tensor.swappingLastAxes(shape) else { return nil }
        return deferred.source
    }

    /// `shape` with its last two entries swapped.
    static func swappingLastAxes(_ shape: [Int]) -> [Int] {
        var swapped = shape
        swapped.swapAt(shape.count - 2, shape.count - 1)
        return swapped
    }

    /// The tensor with axes `dim0` and `dim1` swapped (PyTorch's `transpose`), as a
    /// contiguous copy (for the last two axes, written only when first read; a matrix
    /// product never needs it written); negative axes count from the last. `[a, b, c]` with `(1, 2)`
    /// becomes `[a, c, b]`; a matrix's `transposed(0, 1)` is its transpose.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func transposed(_ dim0: Int, _ dim1: Int) -> Tensor {
        checkShape(rank > 0, "transpose: needs a tensor of rank at least 1, got shape \(shape)")
        let a = Shape.normalize(axis: dim0, rank: rank, op: "transpose")
        let b = Shape.normalize(axis: dim1, rank: rank, op: "transpose")
        var dims = Array(0..<rank)
        dims.swapAt(a, b)
        return permuted(dims)
    }
}
