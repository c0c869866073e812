/// An n-dimensional array of `Float` or `Double`, row-major and contiguous, with value
/// semantics (copy-on-write) and an optional place on the autograd tape.
///
/// A tensor that `requiresGrad` either is a leaf (created by the user, for instance a
/// parameter; its gradient accumulates in `grad` when `backward()` runs) or the result of
/// a recorded operation. Copies of a leaf share its gradient slot, as PyTorch's Python
/// references to one tensor share `.grad`.
///
/// ```swift
/// let w = Tensor<Double>.randn([3, 2]).requiringGrad()
/// let loss = (x.matmul(w)).tanh().sum()
/// loss.backward()
/// print(w.grad!)
/// ```
public struct Tensor<Scalar: TensorScalar>: @unchecked Sendable {
    /// The scalars, row-major. Shared between copies until one is mutated.
    @usableFromInline internal var storage: TensorStorage<Scalar>
    /// The size of each dimension. `[]` for a scalar (zero-dimensional) tensor.
    public private(set) var shape: [Int]
    /// The tape node that produced this tensor, or the leaf node that collects its
    /// gradient; `nil` for a constant.
    @usableFromInline internal var node: GradNode<Scalar>?

    /// Wraps an existing storage; `shape` must describe exactly `storage.count` scalars.
    @usableFromInline
    internal init(shape: [Int], storage: TensorStorage<Scalar>, node: GradNode<Scalar>? = nil) {
        self.shape = shape
        self.storage = storage
        self.node = node
    }

    /// A tensor of the given shape whose scalars are written by `body`, which receives a
    /// pointer to `count` uninitialized elements and must initialize all of them.
    @inlinable
    public init(shape: [Int], initializingWith body: (UnsafeMutableBufferPointer<Scalar>) throws -> Void) rethrows {
        let count = Shape.count(of: shape)
        let storage = TensorStorage<Scalar>(uninitializedCount: count)
        try body(UnsafeMutableBufferPointer(start: storage.base, count: count))
        self.init(shape: shape, storage: storage)
    }

    /// A tensor of the given shape holding `scalars` in row-major order.
    ///
    /// Stops if `scalars.count` is not the product of `shape`.
    public init(shape: [Int], scalars: [Scalar]) {
        let count = Shape.count(of: shape)
        checkShape(scalars.count == count,
                   "Tensor(shape: \(shape), scalars:) needs \(count) scalars, got \(scalars.count)")
        self.init(shape: shape) { buffer in
            _ = buffer.initialize(from: scalars)
        }
    }

    /// A one-dimensional tensor holding `scalars`.
    public init(_ scalars: [Scalar]) {
        self.init(shape: [scalars.count], scalars: scalars)
    }

    /// A two-dimensional tensor from rows of equal length.
    public init(_ rows: [[Scalar]]) {
        let columns = rows.first?.count ?? 0
        checkShape(rows.allSatisfy { $0.count == columns },
                   "Tensor(_ rows:) needs rows of equal length, got lengths \(rows.map(\.count))")
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// A zero-dimensional tensor holding one scalar.
    public init(_ scalar: Scalar) {
        self.init(shape: [], scalars: [scalar])
    }

    /// The number of dimensions.
    @inlinable public var rank: Int { shape.count }

    /// The number of scalars (the product of the shape; 1 for a zero-dimensional tensor).
    @inlinable public var count: Int { storage.count }

    /// The scalars in row-major order.
    public var scalars: [Scalar] {
        Array(UnsafeBufferPointer(start: storage.base, count: storage.count))
    }

    /// The single scalar of a one-element tensor (PyTorch's `item()`).
    public var item: Scalar {
        checkShape(count == 1, "item needs a tensor of one element, got shape \(shape)")
        return storage.base[0]
    }

    /// The scalar at a multi-dimensional index.
    public subscript(_ index: Int...) -> Scalar {
        get { storage.base[Shape.offset(of: index, in: shape)] }
        set {
            let offset = Shape.offset(of: index, in: shape)
            makeStorageUnique()
            storage.base[offset] = newValue
        }
    }

    /// Calls `body` with the scalars, read-only.
    @inlinable
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.base, count: storage.count))
    }

    /// Calls `body` with the scalars, writable. Copies the storage first if it is shared,
    /// so no other tensor sees the change. The tensor keeps its place on the tape, so this
    /// is how an optimizer updates a parameter in place.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Scalar>) throws -> R) rethrows -> R {
        makeStorageUnique()
        return try body(UnsafeMutableBufferPointer(start: storage.base, count: storage.count))
    }

    /// Copies the storage if another tensor shares it.
    @inlinable
    internal mutating func makeStorageUnique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = storage.copy()
        } else {
            storage.willWrite()
        }
    }

    /// The same scalars viewed with another shape of equal element count, without copying
    /// and without a place on the tape. Ops use it to build results.
    @usableFromInline
    internal func withShape(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, storage: storage)
    }
}
