// The index of the largest value along an axis: greedy decoding's and accuracy's pick.

extension Tensor {
    /// The index of the largest value along `dim` (PyTorch's `argmax(dim)`), with that axis
    /// removed: `[a, n, b]` with `dim: 1` gives `[a, b]` indices in `0..<n`. Ties go to the
    /// first index; a NaN counts as the largest value (as in PyTorch). Not differentiable.
    public func argmax(dim: Int) -> IntTensor {
        checkShape(rank > 0, "argmax: needs a tensor of rank at least 1, got shape \(shape)")
        let axis = Shape.normalize(axis: dim, rank: rank, op: "argmax")
        let length = shape[axis]
        checkShape(length > 0, "argmax: dim \(dim) of shape \(shape) is empty")
        let outer = Shape.count(of: Array(shape[..<axis])), inner = Shape.count(of: Array(shape[(axis + 1)...]))
        var resultShape = shape
        resultShape.remove(at: axis)
        var result = [Int](repeating: 0, count: outer * inner)
        let x = storage.base
        for o in 0..<outer {
            for i in 0..<inner {
                let base = o * length * inner + i
                var best = 0
                var bestValue = x[base]
                if !bestValue.isNaN {
                    for k in 1..<length {
                        let value = x[base + k * inner]
                        if value.isNaN { best = k; break }
                        if value > bestValue { best = k; bestValue = value }
                    }
                }
                result[o * inner + i] = best
            }
        }
        return IntTensor(shape: resultShape, scalars: result)
    }
}
