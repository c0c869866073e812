/// An n-dimensional array of integers: token ids, class targets, gather/scatter indices and
/// sequence lengths (PyTorch's `LongTensor`). Row-major; not differentiable.
public struct IntTensor: Sendable, Equatable, CustomStringConvertible {
    /// The size of each dimension.
    public let shape: [Int]
    /// The values in row-major order.
    public var scalars: [Int]

    /// An integer tensor of the given shape; stops if `scalars.count` does not match it.
    public init(shape: [Int], scalars: [Int]) {
        checkShape(Shape.count(of: shape) == scalars.count,
                   "IntTensor(shape: \(shape), scalars:) needs \(Shape.count(of: shape)) values, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// A one-dimensional integer tensor.
    public init(_ scalars: [Int]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// A two-dimensional integer tensor from rows of equal length.
    public init(_ rows: [[Int]]) {
        let columns = rows.first?.count ?? 0
        checkShape(rows.allSatisfy { $0.count == columns }, "IntTensor(_ rows:) needs rows of equal length")
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The number of values.
    public var count: Int { scalars.count }

    /// The value at a multi-dimensional index.
    public subscript(_ index: Int...) -> Int {
        scalars[Shape.offset(of: index, in: shape)]
    }

    /// The same values with another shape of equal count; one size may be -1, inferred
    /// from the others (`reshaped([-1])` flattens).
    public func reshaped(_ newShape: [Int]) -> IntTensor {
        IntTensor(shape: Shape.resolving(newShape, from: shape, op: "IntTensor.reshaped"), scalars: scalars)
    }

    /// A readable rendering, like PyTorch's: `tensor([1, 2, 3])`.
    public var description: String {
        "tensor(" + TensorFormatter.render(shape: shape) { String(scalars[$0]) } + ")"
    }
}

/// An n-dimensional array of booleans, used as a mask (`where`, `maskedFill`).
public struct BoolTensor: Sendable, Equatable, CustomStringConvertible {
    /// The size of each dimension.
    public let shape: [Int]
    /// The values in row-major order.
    public var scalars: [Bool]

    /// A mask of the given shape; stops if `scalars.count` does not match it.
    public init(shape: [Int], scalars: [Bool]) {
        checkShape(Shape.count(of: shape) == scalars.count,
                   "BoolTensor(shape: \(shape), scalars:) needs \(Shape.count(of: shape)) values, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// The number of values.
    public var count: Int { scalars.count }

    /// A readable rendering: `tensor([true, false])`.
    public var description: String {
        "tensor(" + TensorFormatter.render(shape: shape) { String(scalars[$0]) } + ")"
    }
}
