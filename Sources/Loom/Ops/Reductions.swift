// Reductions over axes: sum, mean and max, with `keepDims` as PyTorch's `keepdim`.

extension Tensor {
    /// The sum of all elements, as a zero-dimensional tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum() -> Tensor {
        let total = Kernels.sum(storage.base, count: count)
        return Tensor(total).recorded("sum", inputs: [self]) {
            let shape = self.shape
            return { g in [Tensor.full(shape, g.item)] }
        }
    }

    /// The sum over one axis (negative counts from the end). The result drops that axis, or
    /// keeps it with size 1 when `keepDims`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum(dim: Int, keepDims: Bool = false) -> Tensor {
        sum(dims: [dim], keepDims: keepDims)
    }

    /// The sum over several axes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum(dims: [Int], keepDims: Bool = false) -> Tensor {
        let axes = Set(dims.map { Shape.normalize(axis: $0, rank: rank, op: "sum") }).sorted()
        var result = self.detached()
        // Reduce the highest axis first so the lower axis numbers stay valid.
        for axis in axes.reversed() {
            let outer = Shape.count(of: Array(result.shape[..<axis]))
            let inner = Shape.count(of: Array(result.shape[(axis + 1)...]))
            let length = result.shape[axis]
            var reducedShape = result.shape
            reducedShape[axis] = 1
            let source = result
            result = Tensor(shape: reducedShape) { out in
                Kernels.sumMiddleAxis(source.storage.base, outer: outer, length: length, inner: inner, out.baseAddress!)
            }
        }
        let keptShape = result.shape
        if !keepDims {
            result = result.withShape(shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
        }
        return result.recorded("sum", inputs: [self]) {
            let inputShape = self.shape
            return { g in [g.reshaped(keptShape).expanded(to: inputShape)] }
        }
    }

    /// The mean of all elements, as a zero-dimensional tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean() -> Tensor {
        sum() / Scalar(Swift.max(count, 1))
    }

    /// The mean over the given axes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean(dims: [Int], keepDims: Bool = false) -> Tensor {
        let axes = Set(dims.map { Shape.normalize(axis: $0, rank: rank, op: "mean") })
        let n = axes.reduce(1) { $0 * shape[$1] }
        return sum(dims: Array(axes), keepDims: keepDims) / Scalar(Swift.max(n, 1))
    }

    /// The mean over one axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean(dim: Int, keepDims: Bool = false) -> Tensor {
        mean(dims: [dim], keepDims: keepDims)
    }

    /// The maximum over one axis and the index of the (first) maximum along it. The
    /// gradient flows to that one element, as in PyTorch.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func max(dim: Int, keepDims: Bool = false) -> (values: Tensor, indices: IntTensor) {
        let axis = Shape.normalize(axis: dim, rank: rank, op: "max")
        checkShape(shape[axis] > 0, "max: dim \(dim) of shape \(shape) is empty")
        let outer = Shape.count(of: Array(shape[..<axis]))
        let inner = Shape.count(of: Array(shape[(axis + 1)...]))
        let length = shape[axis]
        var reducedShape = shape
        if keepDims { reducedShape[axis] = 1 } else { reducedShape.remove(at: axis) }
        var argmax = [Int](repeating: 0, count: outer * inner)
        let values = Tensor(shape: reducedShape) { out in
            argmax.withUnsafeMutableBufferPointer { indexBuffer in
                Kernels.maxMiddleAxis(storage.base, outer: outer, length: length, inner: inner,
                                      out.baseAddress!, argmax: indexBuffer.baseAddress!)
            }
        }
        let indices = IntTensor(shape: reducedShape, scalars: argmax)
        let recorded = values.recorded("max", inputs: [self]) {
            let inputShape = self.shape
            return { g in
                [Tensor(shape: inputShape) { out in
                    out.initialize(repeating: 0)
                    for o in 0..<outer {
                        for i in 0..<inner {
                            let r = o * inner + i
                            out[o * length * inner + argmax[r] * inner + i] = g.storage.base[r]
                        }
                    }
                }]
            }
        }
        return (recorded, indices)
    }

    /// The largest element, as a zero-dimensional tensor (gradient to the first maximum).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func max() -> Tensor {
        reshaped([count]).max(dim: 0).values
    }
}
