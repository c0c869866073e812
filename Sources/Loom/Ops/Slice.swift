// Contiguous ranges along one axis: narrow, slice and select (which also drops the axis).
// Each copies the selected range into a new contiguous tensor; the backward writes the
// incoming gradient into zeros of the input's shape at the same place.

extension Tensor {
    /// Copies `runs` runs of `length` scalars from `source` (consecutive runs `sourceStride`
    /// apart) to `destination` (consecutive runs `destinationStride` apart). The block copy
    /// behind narrow, select, cat and their gradients.
    @inlinable
    static func copyRuns(_ source: UnsafePointer<Scalar>, sourceStride: Int,
                         _ destination: UnsafeMutablePointer<Scalar>, destinationStride: Int,
                         length: Int, runs: Int) {
        guard length > 0 else { return }
        for run in 0..<runs {
            (destination + run * destinationStride).update(from: source + run * sourceStride, count: length)
        }
    }

    /// The sizes of the axes before `axis` and after it, multiplied out: a tensor is then a
    /// `[outer, shape[axis], inner]` block.
    func outerAndInner(around axis: Int) -> (outer: Int, inner: Int) {
        var outer = 1, inner = 1
        for a in 0..<axis { outer *= shape[a] }
        for a in (axis + 1)..<rank { inner *= shape[a] }
        return (outer, inner)
    }

    /// The elements `start..<start + length` along `axis` (already normalized and checked),
    /// copied into a tensor of shape `resultShape` (the input shape with that axis set to
    /// `length`, or removed), recorded as op `name`.
    func rangeCopy(axis: Int, start: Int, length: Int, resultShape: [Int], name: String) -> Tensor {
        let (outer, inner) = outerAndInner(around: axis)
        let size = shape[axis]
        let result = Tensor(shape: resultShape) { out in
            Tensor.copyRuns(storage.base + start * inner, sourceStride: size * inner,
                            out.baseAddress!, destinationStride: length * inner,
                            length: length * inner, runs: outer)
        }
        return result.recorded(name, inputs: [self]) {
            let inputShape = shape
            return { g in
                // Zero outside the range. Added to another gradient (the other chunks of an
                // LSTM's gates), only the range is touched; the zeros are written only if the
                // walk keeps this tensor whole (the first gradient to reach the input).
                let gradient = Tensor(shape: inputShape) { out in
                    Tensor.copyRuns(g.storage.base, sourceStride: length * inner,
                                    out.baseAddress! + start * inner, destinationStride: size * inner,
                                    length: length * inner, runs: outer)
                }
                gradient.storage.nonzeroRuns = NonzeroRuns(start: start * inner, length: length * inner, stride: size * inner,
                                                           runs: outer, zeroFilled: false)
                return [gradient]
            }
        }
    }

    /// The `length` elements starting at `start` along `dim` (PyTorch's `narrow`), copied.
    /// A negative `dim` counts from the last axis, a negative `start` from the end of the
    /// axis. Shape `[..., n, ...]` becomes `[..., length, ...]`. The gradient flows back
    /// into that range and is zero elsewhere.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func narrow(dim: Int, start: Int, length: Int) -> Tensor {
        checkShape(rank > 0, "narrow: needs a tensor of rank at least 1, got shape \(shape)")
        let axis = Shape.normalize(axis: dim, rank: rank, op: "narrow")
        let size = shape[axis]
        let begin = start < 0 ? start + size : start
        checkShape(begin >= 0 && length >= 0 && begin + length <= size,
                   "narrow: start \(start) and length \(length) are out of range for dim \(dim) of shape \(shape)")
        if begin == 0 && length == size { return self }
        var resultShape = shape
        resultShape[axis] = length
        return rangeCopy(axis: axis, start: begin, length: length, resultShape: resultShape, name: "narrow")
            .traced(.narrow(axis: axis, start: begin, length: length), [self])
    }

    /// The elements in `range` along `dim` (Python's `x[:, a:b]` on that axis), copied.
    /// Shape `[..., n, ...]` becomes `[..., range.count, ...]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func slice(dim: Int, _ range: Range<Int>) -> Tensor {
        checkShape(rank > 0, "slice: needs a tensor of rank at least 1, got shape \(shape)")
        let axis = Shape.normalize(axis: dim, rank: rank, op: "slice")
        checkShape(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                   "slice: range \(range) is out of range for dim \(dim) of shape \(shape)")
        return narrow(dim: axis, start: range.lowerBound, length: range.count)
    }

    /// The sub-tensor at `index` along `dim`, with that axis removed (PyTorch's
    /// `x.select(dim, index)`, e.g. `x[:, i]`). A negative `index` counts from the end.
    /// Shape `[a, n, b]` with `dim: 1` becomes `[a, b]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func select(dim: Int, index: Int) -> Tensor {
        checkShape(rank > 0, "select: needs a tensor of rank at least 1, got shape \(shape)")
        let axis = Shape.normalize(axis: dim, rank: rank, op: "select")
        let size = shape[axis]
        let position = index < 0 ? index + size : index
        checkShape(position >= 0 && position < size,
                   "select: index \(index) is out of range for dim \(dim) of shape \(shape)")
        var resultShape = shape
        resultShape.remove(at: axis)
        return rangeCopy(axis: axis, start: position, length: 1, resultShape: resultShape, name: "select")
    }
}
