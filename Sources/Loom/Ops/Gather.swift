// Gathering and scattering along one axis with an index tensor of the same rank
// (PyTorch's `gather` and `scatter_add`). Each is the other's backward: the gradient of a
// gather scatters-adds the upstream gradient back, and the gradient of a scatter-add with
// respect to its source gathers the upstream gradient.

/// Walks the positions of an index tensor for gather/scatter: for every position it gives
/// the offset in the indexed tensor with the `dim` component left out, and the offset in a
/// second tensor read or written at the same multi-index.
enum IndexWalk {
    /// Calls `body(position, indexedBase, otherOffset)` for every element of an index of
    /// shape `indexShape`, in row-major order. `indexedBase` is the offset into the indexed
    /// tensor (strides `indexedStrides`) without the `dim` axis; the caller adds
    /// `index * indexedStrides[dim]`. `otherOffset` is the offset of the same multi-index in
    /// a tensor with strides `otherStrides`.
    static func forEach(indexShape: [Int], dim: Int, indexedStrides: [Int], otherStrides: [Int],
                        _ body: (_ position: Int, _ indexedBase: Int, _ otherOffset: Int) -> Void) {
        let total = Shape.count(of: indexShape)
        if total == 0 { return }
        let rank = indexShape.count
        var counter = [Int](repeating: 0, count: rank)
        var indexedBase = 0, otherOffset = 0
        for position in 0..<total {
            body(position, indexedBase, otherOffset)
            var axis = rank - 1
            while axis >= 0 {
                counter[axis] += 1
                if axis != dim { indexedBase += indexedStrides[axis] }
                otherOffset += otherStrides[axis]
                if counter[axis] < indexShape[axis] { break }
                if axis != dim { indexedBase -= indexedStrides[axis] * indexShape[axis] }
                otherOffset -= otherStrides[axis] * indexShape[axis]
                counter[axis] = 0
                axis -= 1
            }
        }
    }

    /// Stops unless every value of `index` lies in `0..<size`, naming the op, the value and
    /// the size of the indexed dim.
    static func checkRange(_ index: [Int], size: Int, dim: Int, op: String, shape: [Int]) {
        for value in index where value < 0 || value >= size {
            checkShape(false, "\(op): index \(value) is out of range for dim \(dim) of size \(size) (input shape \(shape))")
        }
    }
}

extension Tensor {
    /// Picks values along `dim` at the positions given by `index` (PyTorch's
    /// `torch.gather`): `out[i][j][k] = self[index[i][j][k]][j][k]` for `dim == 0`, and so
    /// on for other dims.
    ///
    /// - Parameters:
    ///   - dim: the axis to index (negative counts from the end).
    ///   - index: integers in `0..<shape[dim]`, of the same rank as `self`, no larger than
    ///     `self` along every other axis.
    /// - Returns: a tensor of `index.shape`. The gradient adds the upstream gradient back
    ///   at the picked positions; repeated indices accumulate.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func gather(dim: Int, index: IntTensor) -> Tensor {
        let axis = Shape.normalize(axis: dim, rank: rank, op: "gather")
        checkShape(index.rank == rank, "gather: index of shape \(index.shape) must have the rank of input \(shape)")
        for d in 0..<rank where d != axis {
            checkShape(index.shape[d] <= shape[d],
                       "gather: index shape \(index.shape) is larger than input shape \(shape) at dim \(d)")
        }
        IndexWalk.checkRange(index.scalars, size: shape[axis], dim: axis, op: "gather", shape: shape)
        let strides = Shape.strides(of: shape)
        let outStrides = Shape.strides(of: index.shape)
        let dimStride = strides[axis]
        let source = storage.base
        let result = Tensor(shape: index.shape) { out in
            index.scalars.withUnsafeBufferPointer { idx in
                IndexWalk.forEach(indexShape: index.shape, dim: axis, indexedStrides: strides, otherStrides: outStrides) { p, base, _ in
                    out[p] = source[base + idx[p] * dimStride]
                }
            }
        }
        return result.recorded("gather", inputs: [self]) {
            let inputShape = shape
            return { g in
                [Tensor(shape: inputShape) { out in
                    out.initialize(repeating: 0)
                    let upstream = g.storage.base
                    index.scalars.withUnsafeBufferPointer { idx in
                        IndexWalk.forEach(indexShape: index.shape, dim: axis, indexedStrides: strides, otherStrides: outStrides) { p, base, _ in
                            out[base + idx[p] * dimStride] += upstream[p]
                        }
                    }
                }]
            }
        }
    }

    /// Adds the values of `source` into a copy of this tensor at the positions along `dim`
    /// given by `index` (PyTorch's `scatter_add`): for `dim == 0`,
    /// `out[index[i][j]][j] += source[i][j]`. Repeated indices add up.
    ///
    /// - Parameters:
    ///   - dim: the axis to index (negative counts from the end).
    ///   - index: integers in `0..<shape[dim]`, of the same rank as `self`; no larger than
    ///     `source` along any axis, nor than `self` along axes other than `dim`.
    ///   - source: the values to add, of the same rank; only its part covered by `index`
    ///     is read.
    /// - Returns: a tensor of this tensor's shape. Its gradient with respect to `self` is
    ///   the upstream gradient; with respect to `source`, the upstream gradient gathered at
    ///   `index` (zero where `index` does not reach).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func scatterAdd(dim: Int, index: IntTensor, source: Tensor) -> Tensor {
        let axis = Shape.normalize(axis: dim, rank: rank, op: "scatterAdd")
        checkShape(index.rank == rank && source.rank == rank,
                   "scatterAdd: index \(index.shape) and source \(source.shape) must have the rank of input \(shape)")
        for d in 0..<rank {
            checkShape(index.shape[d] <= source.shape[d] && (d == axis || index.shape[d] <= shape[d]),
                       "scatterAdd: index shape \(index.shape) does not fit source \(source.shape) and input \(shape) at dim \(d)")
        }
        IndexWalk.checkRange(index.scalars, size: shape[axis], dim: axis, op: "scatterAdd", shape: shape)
        let strides = Shape.strides(of: shape)
        let sourceStrides = Shape.strides(of: source.shape)
        let dimStride = strides[axis]
        var result = self.detached()
        result.makeStorageUnique()
        let out = result.storage.base
        let values = source.storage.base
        index.scalars.withUnsafeBufferPointer { idx in
            IndexWalk.forEach(indexShape: index.shape, dim: axis, indexedStrides: strides, otherStrides: sourceStrides) { p, base, s in
                out[base + idx[p] * dimStride] += values[s]
            }
        }
        return result.recorded("scatterAdd", inputs: [self, source]) {
            let needSource = source.requiresGrad
            let sourceShape = source.shape
            return { g in
                guard needSource else { return [g, nil] }
                let upstream = g.storage.base
                let gradSource = Tensor(shape: sourceShape) { out in
                    out.initialize(repeating: 0)
                    index.scalars.withUnsafeBufferPointer { idx in
                        IndexWalk.forEach(indexShape: index.shape, dim: axis, indexedStrides: strides, otherStrides: sourceStrides) { p, base, s in
                            out[s] = upstream[base + idx[p] * dimStride]
                        }
                    }
                }
                return [g, gradSource]
            }
        }
    }
}
