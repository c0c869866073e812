import Synchronization

/// A reference-counted, 64-byte aligned buffer of scalars: the memory behind a `Tensor`.
///
/// Tensors share a storage until one of them is mutated, at which point the mutating
/// tensor copies it first (copy-on-write), so `Tensor` keeps value semantics.
///
/// A storage can also be *deferred*: the transpose of the last two axes of another storage,
/// not yet written. Reading `base` writes it (once, thread-safely); a matrix product reads
/// the source directly instead (`deferredTranspose`), so `x.matmul(w.transposed(0, 1))`
/// never copies `w`.
@usableFromInline final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    /// The number of scalars in the buffer.
    @usableFromInline let count: Int
    /// The memory; for a deferred storage, allocated and written on first use of `base`.
    /// Written only there, under the deferred storage's lock and before `isWritten` is set,
    /// so its reads (every `base`, in every kernel) skip the run-time exclusivity check, a
    /// check that would take 3-4% of a small recurrent training step.
    @usableFromInline @exclusivity(unchecked) nonisolated(unsafe) var buffer: UnsafeMutablePointer<Scalar>?
    /// What a deferred storage holds, or nil for an ordinary one.
    @usableFromInline let deferredTranspose: DeferredTranspose<Scalar>?
    /// Packed forms of this storage as the right operand of products (see
    /// `packedRightOperand`), dropped when the storage is written in place.
    let packedForms = Mutex(PackedForms<Scalar>())
    /// For a gradient that is zero outside a few runs of scalars (the backward of `narrow`),
    /// those runs: adding it to another gradient then touches only them. Dropped when the
    /// storage is written in place.
    nonisolated(unsafe) var nonzeroRuns: NonzeroRuns?

    /// The first scalar. Valid for `count` elements for the lifetime of the storage.
    @inlinable var base: UnsafeMutablePointer<Scalar> {
        if let deferredTranspose, !deferredTranspose.isWritten.load(ordering: .acquiring) {
            materialize()
        }
        return buffer.unsafelyUnwrapped
    }

    /// Whether the scalars are still only described by `deferredTranspose`: a product can
    /// then read the source with a transposed layout.
    @inlinable var isDeferred: Bool {
        guard let deferredTranspose else { return false }
        return !deferredTranspose.isWritten.load(ordering: .acquiring)
    }

    /// Allocates uninitialized memory for `count` scalars. The caller must write every
    /// element before it is read.
    @usableFromInline
    init(uninitializedCount count: Int) {
        self.count = count
        self.buffer = Self.allocate(count)
        self.deferredTranspose = nil
    }

    /// A storage that holds `source` (of shape `sourceShape`, rank ≥ 2) with its last two
    /// axes swapped, written only when first read.
    @usableFromInline
    init(transposingLastAxesOf source: TensorStorage, sourceShape: [Int]) {
        self.count = source.count
        self.buffer = nil
        self.deferredTranspose = DeferredTranspose(source: source, sourceShape: sourceShape)
    }

    /// Allocates `count` scalars, all set to `value`.
    @usableFromInline
    convenience init(repeating value: Scalar, count: Int) {
        self.init(uninitializedCount: count)
        base.initialize(repeating: value, count: count)
    }

    /// Memory for `count` scalars (large buffers come from `LargeBlockCache`).
    @usableFromInline
    static func allocate(_ count: Int) -> UnsafeMutablePointer<Scalar> {
        let raw = LargeBlockCache.shared.allocate(bytes: max(count, 1) * MemoryLayout<Scalar>.stride)
        return raw.bindMemory(to: Scalar.self, capacity: max(count, 1))
    }

    /// Writes a deferred storage's scalars (once; concurrent readers wait for the first).
    @usableFromInline
    func materialize() {
        guard let deferredTranspose else { return }
        deferredTranspose.lock.withLock { _ in
            if deferredTranspose.isWritten.load(ordering: .acquiring) { return }
            let memory = Self.allocate(count)
            let shape = deferredTranspose.sourceShape
            var dims = Array(0..<shape.count)
            dims.swapAt(shape.count - 2, shape.count - 1)
            Tensor<Scalar>.permuteCopy(deferredTranspose.source.base, shape: shape, dims: dims, memory)
            buffer = memory
            deferredTranspose.isWritten.store(true, ordering: .releasing)
        }
    }

    /// The storage, a `[K, N]` matrix (or `[N, K]` when `transposed`), packed as the right
    /// operand op(B) of products on the current SIMD path: from its second use on, so a
    /// weight multiplied at every time step is packed once while a tensor used once costs
    /// only a counter. Nil when the form is not (yet) kept.
    func packedRightOperand(transposed: Bool, k: Int, n: Int) -> GemmPackedB<Scalar>? {
        guard count == k * n, k > 0, n > 0 else { return nil }
        let path = InstructionSet.current
        let (kept, keepNew) = packedForms.withLock { forms -> (GemmPackedB<Scalar>?, Bool) in
            if let entry = forms.entries.first(where: { $0.transposed == transposed && $0.k == k && $0.path == path }) {
                return (entry.packed, false)
            }
            forms.uses += 1
            return (nil, forms.uses >= 2 && forms.entries.count < 2)
        }
        if let kept { return kept }
        guard keepNew else { return nil }
        let packed = GemmPackedB<Scalar>(UnsafePointer(base), ldb: transposed ? k : n, transposed: transposed, k: k, n: n)
        packedForms.withLock { $0.entries.append(.init(transposed: transposed, k: k, path: path, packed: packed)) }
        return packed
    }

    /// Forgets what was derived from the scalars; called before they are written in place.
    @usableFromInline
    func willWrite() {
        nonzeroRuns = nil
        packedForms.withLock { $0 = PackedForms() }
    }

    /// A new storage holding a copy of these scalars.
    @usableFromInline
    func copy() -> TensorStorage {
        let other = TensorStorage(uninitializedCount: count)
        other.base.initialize(from: base, count: count)
        return other
    }

    deinit {
        if let buffer { LargeBlockCache.shared.deallocate(UnsafeMutableRawPointer(buffer), bytes: max(count, 1) * MemoryLayout<Scalar>.stride) }
    }
}

/// The description of a deferred storage: `source` (shape `sourceShape`) with its last two
/// axes swapped.
@usableFromInline final class DeferredTranspose<Scalar: TensorScalar>: Sendable {
    /// The storage read; it is never written while shared, so the description stays true.
    @usableFromInline let source: TensorStorage<Scalar>
    @usableFromInline let sourceShape: [Int]
    /// Set once the deferred storage has its own scalars.
    @usableFromInline let isWritten = Atomic<Bool>(false)
    @usableFromInline let lock = Mutex<Void>(())

    init(source: TensorStorage<Scalar>, sourceShape: [Int]) {
        self.source = source
        self.sourceShape = sourceShape
    }
}

/// The packed right-operand forms a storage keeps, and how often it was asked for one.
struct PackedForms<Scalar: TensorScalar> {
    struct Entry {
        let transposed: Bool
        let k: Int
        let path: InstructionSet
        let packed: GemmPackedB<Scalar>
    }
    var uses = 0
    var entries: [Entry] = []
}

/// Where a storage's scalars may be nonzero: `runs` runs of `length` scalars, the first at
/// `start`, each `stride` after the previous; every other scalar is zero — or, while
/// `zeroFilled` is false, not yet written (the gradient walk writes the zeros if the tensor
/// is kept whole, and never reads them otherwise).
struct NonzeroRuns: Sendable {
    let start: Int
    let length: Int
    let stride: Int
    let runs: Int
    var zeroFilled: Bool
}

extension TensorStorage {
    /// Writes the zeros outside `nonzeroRuns` if they are not written yet.
    func fillZerosOutsideRuns() {
        guard var runs = nonzeroRuns, !runs.zeroFilled else { return }
        var position = 0
        for run in 0..<runs.runs {
            let begin = runs.start + run * runs.stride
            if begin > position { (base + position).initialize(repeating: 0, count: begin - position) }
            position = begin + runs.length
        }
        if count > position { (base + position).initialize(repeating: 0, count: count - position) }
        runs.zeroFilled = true
        nonzeroRuns = runs
    }
}
