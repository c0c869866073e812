// Indexing and comparison of integer tensors: `ids[:, t]`, `ids[:, a..<b]` and masks
// such as `targets .== Batching.ignoreIndex`.

extension IntTensor {
    /// The sub-tensor at `index` along `dim`, with that axis removed (PyTorch's
    /// `x.select(dim, index)`, e.g. `decoderInput[:, t]`). Negative `dim` and `index`
    /// count from the end. Shape `[a, n, b]` with `dim: 1` becomes `[a, b]`.
    public func select(dim: Int, index: Int) -> IntTensor {
        checkShape(rank > 0, "IntTensor.select: needs a tensor of rank at least 1, got shape \(shape)")
        let axis = Shape.normalize(axis: dim, rank: rank, op: "IntTensor.select")
        let position = index < 0 ? index + shape[axis] : index
        checkShape(position >= 0 && position < shape[axis],
                   "IntTensor.select: index \(index) is out of range for dim \(dim) of shape \(shape)")
        var resultShape = shape
        resultShape.remove(at: axis)
        return IntTensor(shape: resultShape, scalars: copying(axis: axis, range: position..<(position + 1)))
    }

    /// The `length` entries starting at `start` along `dim` (PyTorch's `narrow`); negative
    /// `dim` and `start` count from the end. Shape `[..., n, ...]` becomes `[..., length, ...]`.
    public func narrow(dim: Int, start: Int, length: Int) -> IntTensor {
        checkShape(rank > 0, "IntTensor.narrow: needs a tensor of rank at least 1, got shape \(shape)")
        let axis = Shape.normalize(axis: dim, rank: rank, op: "IntTensor.narrow")
        let begin = start < 0 ? start + shape[axis] : start
        checkShape(begin >= 0 && length >= 0 && begin + length <= shape[axis],
                   "IntTensor.narrow: start \(start) and length \(length) are out of range for dim \(dim) of shape \(shape)")
        var resultShape = shape
        resultShape[axis] = length
        return IntTensor(shape: resultShape, scalars: copying(axis: axis, range: begin..<(begin + length)))
    }

    /// The entries in `range` along `dim` (Python's `x[:, a:b]` on that axis).
    /// Shape `[..., n, ...]` becomes `[..., range.count, ...]`.
    public func slice(dim: Int, _ range: Range<Int>) -> IntTensor {
        checkShape(rank > 0, "IntTensor.slice: needs a tensor of rank at least 1, got shape \(shape)")
        let axis = Shape.normalize(axis: dim, rank: rank, op: "IntTensor.slice")
        checkShape(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                   "IntTensor.slice: range \(range) is out of range for dim \(dim) of shape \(shape)")
        return narrow(dim: axis, start: range.lowerBound, length: range.count)
    }

    /// The values whose index along `axis` lies in `range`, in row-major order.
    private func copying(axis: Int, range: Range<Int>) -> [Int] {
        let outer = Shape.count(of: Array(shape[..<axis]))
        let inner = Shape.count(of: Array(shape[(axis + 1)...]))
        var result: [Int] = []
        result.reserveCapacity(outer * range.count * inner)
        for o in 0..<outer {
            let base = o * shape[axis] * inner
            result.append(contentsOf: scalars[(base + range.lowerBound * inner)..<(base + range.upperBound * inner)])
        }
        return result
    }

    /// A mask of `lhs.shape`: `predicate(lhs[i], rhs[i])` at every position, `rhs` of the
    /// same shape or a single value.
    private static func compare(_ lhs: IntTensor, _ rhs: IntTensor, _ name: String, _ predicate: (Int, Int) -> Bool) -> BoolTensor {
        if rhs.count == 1 && lhs.shape != rhs.shape {
            let value = rhs.scalars[0]
            return BoolTensor(shape: lhs.shape, scalars: lhs.scalars.map { predicate($0, value) })
        }
        checkShape(lhs.shape == rhs.shape, "IntTensor \(name): shapes \(lhs.shape) and \(rhs.shape) differ")
        return BoolTensor(shape: lhs.shape, scalars: zip(lhs.scalars, rhs.scalars).map(predicate))
    }

    /// Elementwise `==` against a tensor of the same shape: a mask of that shape.
    public static func .== (lhs: IntTensor, rhs: IntTensor) -> BoolTensor { compare(lhs, rhs, ".==", ==) }
    /// Elementwise `!=` against a tensor of the same shape: a mask of that shape.
    public static func .!= (lhs: IntTensor, rhs: IntTensor) -> BoolTensor { compare(lhs, rhs, ".!=", !=) }
    /// Elementwise `<` against a tensor of the same shape: a mask of that shape.
    public static func .< (lhs: IntTensor, rhs: IntTensor) -> BoolTensor { compare(lhs, rhs, ".<", <) }
    /// Elementwise `<=` against a tensor of the same shape: a mask of that shape.
    public static func .<= (lhs: IntTensor, rhs: IntTensor) -> BoolTensor { compare(lhs, rhs, ".<=", <=) }
    /// Elementwise `>` against a tensor of the same shape: a mask of that shape.
    public static func .> (lhs: IntTensor, rhs: IntTensor) -> BoolTensor { compare(lhs, rhs, ".>", >) }
    /// Elementwise `>=` against a tensor of the same shape: a mask of that shape.
    public static func .>= (lhs: IntTensor, rhs: IntTensor) -> BoolTensor { compare(lhs, rhs, ".>=", >=) }

    /// Each value `== rhs`: a mask of the tensor's shape (`ids .== endIndex`).
    public static func .== (lhs: IntTensor, rhs: Int) -> BoolTensor { compare(lhs, IntTensor([rhs]), ".==", ==) }
    /// Each value `!= rhs`: a mask of the tensor's shape (`targets .!= Batching.ignoreIndex`).
    public static func .!= (lhs: IntTensor, rhs: Int) -> BoolTensor { compare(lhs, IntTensor([rhs]), ".!=", !=) }
    /// Each value `< rhs`: a mask of the tensor's shape.
    public static func .< (lhs: IntTensor, rhs: Int) -> BoolTensor { compare(lhs, IntTensor([rhs]), ".<", <) }
    /// Each value `<= rhs`: a mask of the tensor's shape.
    public static func .<= (lhs: IntTensor, rhs: Int) -> BoolTensor { compare(lhs, IntTensor([rhs]), ".<=", <=) }
    /// Each value `> rhs`: a mask of the tensor's shape.
    public static func .> (lhs: IntTensor, rhs: Int) -> BoolTensor { compare(lhs, IntTensor([rhs]), ".>", >) }
    /// Each value `>= rhs`: a mask of the tensor's shape.
    public static func .>= (lhs: IntTensor, rhs: Int) -> BoolTensor { compare(lhs, IntTensor([rhs]), ".>=", >=) }
}

extension BoolTensor {
    /// Whether every value is true (true for an empty mask), as PyTorch's `mask.all()`.
    public var allTrue: Bool { scalars.allSatisfy { $0 } }
    /// Whether any value is true, as PyTorch's `mask.any()`.
    public var anyTrue: Bool { scalars.contains(true) }
    /// The number of true values (PyTorch's `mask.sum()`).
    public var trueCount: Int { scalars.reduce(0) { $0 + ($1 ? 1 : 0) } }
}
