// Shape changes that keep the element order: reshape, flatten, squeeze/unsqueeze and
// broadcasting expansion.

extension Tensor {
    /// The same elements with a new shape of equal element count; one dimension may be -1
    /// and is then inferred (PyTorch's `reshape`/`view`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func reshaped(_ newShape: [Int]) -> Tensor {
        let resolved = Shape.resolving(newShape, from: shape, op: "reshape")
        if resolved == shape { return self }
        return withShape(resolved).recorded("reshape", inputs: [self]) {
            let inputShape = shape
            return { g in [g.reshaped(inputShape)] }
        }
    }

    /// The tensor flattened to one dimension.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func flattened() -> Tensor {
        reshaped([count])
    }

    /// Inserts an axis of size 1 at `dim` (PyTorch's `unsqueeze`); a negative `dim` counts
    /// from the end of the result's axes, so `-1` appends an axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func unsqueezed(dim: Int) -> Tensor {
        let axis = Shape.normalize(axis: dim, rank: rank + 1, op: "unsqueeze")
        var newShape = shape
        newShape.insert(1, at: axis)
        return reshaped(newShape)
    }

    /// Removes the axis `dim`, which must have size 1 (PyTorch's `squeeze(dim)`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func squeezed(dim: Int) -> Tensor {
        let axis = Shape.normalize(axis: dim, rank: rank, op: "squeeze")
        checkShape(shape[axis] == 1, "squeeze: dim \(dim) of shape \(shape) is not 1")
        var newShape = shape
        newShape.remove(at: axis)
        return reshaped(newShape)
    }

    /// This tensor broadcast to a larger shape (NumPy rules), materialized (PyTorch's
    /// `expand`, but copying). The gradient sums back over the broadcast axes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func expanded(to target: [Int]) -> Tensor {
        if target == shape { return self }
        checkShape(Shape.broadcast(shape, target) == target, "expand: cannot expand \(shape) to \(target)")
        let zero = Tensor(shape: [], scalars: [0])
        let result = Tensor(shape: target) { out in
            Kernels.binaryBroadcast(AddKernel.self, shape: target, storage.base,
                                    aStrides: Shape.broadcastStrides(of: shape, to: target),
                                    zero.storage.base, bStrides: [Int](repeating: 0, count: target.count), out.baseAddress!)
        }
        return result.recorded("expand", inputs: [self]) {
            let inputShape = shape
            return { g in [g.summed(toShape: inputShape)] }
        }
    }
}
