// Selecting whole slices along one axis by a list of indices (PyTorch's `index_select`).

extension Tensor {
    /// The slices of this tensor along `dim` at the positions listed in `index`, in that
    /// order (PyTorch's `torch.index_select`). Indices may repeat.
    ///
    /// - Parameters:
    ///   - dim: the axis to select along (negative counts from the end).
    ///   - index: a 1-D list of integers in `0..<shape[dim]` (a 0-D index counts as one).
    /// - Returns: this tensor's shape with `shape[dim]` replaced by `index.count`. The
    ///   gradient adds each selected slice's upstream gradient back into its source slice,
    ///   so repeated indices accumulate.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func indexSelect(dim: Int, index: IntTensor) -> Tensor {
        let axis = Shape.normalize(axis: dim, rank: rank, op: "indexSelect")
        checkShape(index.rank <= 1, "indexSelect: index must be 1-D, got shape \(index.shape)")
        let size = shape[axis]
        IndexWalk.checkRange(index.scalars, size: size, dim: axis, op: "indexSelect", shape: shape)
        let outer = Shape.count(of: Array(shape[..<axis]))
        let inner = Shape.count(of: Array(shape[(axis + 1)...]))
        let picks = index.scalars
        var outShape = shape
        outShape[axis] = picks.count
        let source = storage.base
        let result = Tensor(shape: outShape) { out in
            var dst = out.baseAddress!
            for o in 0..<outer {
                let block = source + o * size * inner
                for pick in picks {
                    dst.initialize(from: block + pick * inner, count: inner)
                    dst += inner
                }
            }
        }
        return result.recorded("indexSelect", inputs: [self]) {
            let inputShape = shape
            return { g in [Tensor.indexSelectGradient(g, inputShape: inputShape, axis: axis, picks: picks)] }
        }
    }

    /// The gradient of `indexSelect(dim: axis, index: picks)` of a tensor shaped `inputShape`
    /// from the result's gradient `g`: zeros, with each selected slice of `g` added back into
    /// its source slice (so repeated picks accumulate), `inputShape`.
    static func indexSelectGradient(_ g: Tensor, inputShape: [Int], axis: Int, picks: [Int]) -> Tensor {
        let size = inputShape[axis]
        let outer = Shape.count(of: Array(inputShape[..<axis]))
        let inner = Shape.count(of: Array(inputShape[(axis + 1)...]))
        return Tensor(shape: inputShape) { out in
            out.initialize(repeating: 0)
            var src = UnsafePointer(g.storage.base)
            for o in 0..<outer {
                let block = out.baseAddress! + o * size * inner
                for pick in picks {
                    Kernels.accumulate(src, into: block + pick * inner, count: inner)
                    src += inner
                }
            }
        }
    }
}
