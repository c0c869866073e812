/// A reference-counted, 64-byte aligned buffer of scalars: the memory behind a `Tensor`.
///
/// Tensors share a storage until one of them is mutated, at which point the mutating
/// tensor copies it first (copy-on-write), so `Tensor` keeps value semantics.
@usableFromInline final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    /// The number of scalars in the buffer.
    @usableFromInline let count: Int
    /// The first scalar. Valid for `count` elements for the lifetime of the storage.
    @usableFromInline let base: UnsafeMutablePointer<Scalar>

    /// Allocates uninitialized memory for `count` scalars. The caller must write every
    /// element before it is read.
    @usableFromInline
    init(uninitializedCount count: Int) {
        self.count = count
        let bytes = max(count, 1) * MemoryLayout<Scalar>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        base = raw.bindMemory(to: Scalar.self, capacity: max(count, 1))
    }

    /// Allocates `count` scalars, all set to `value`.
    @usableFromInline
    convenience init(repeating value: Scalar, count: Int) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    /// A new storage holding a copy of these scalars.
    @usableFromInline
    func copy() -> TensorStorage {
        let other = TensorStorage(uninitializedCount: count)
        other.base.initialize(from: base, count: count)
        return other
    }

    deinit {
        UnsafeMutableRawPointer(base).deallocate()
    }
}
