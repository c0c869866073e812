import Synchronization

/// A process-wide cache of freed tensor buffers. A training loop allocates the same buffers
/// at every step (activations, gate values, gradients); without the cache each large one
/// comes from a fresh mapping whose pages the kernel faults in and zeroes on first touch, and
/// goes back to the kernel when freed, and the allocator's heap spends its time splitting and
/// merging the medium ones. Freed blocks of at least `minimumBytes` are kept
/// here, by size class, up to `capacityBytes` in all (the oldest are freed first), and handed
/// out again for a request of the same class. Smaller buffers go straight to the allocator.
final class LargeBlockCache: Sendable {
    /// The cache every tensor storage uses: blocks of 16 KB and more, at most 256 MB.
    static let shared = LargeBlockCache(minimumBytes: 16 << 10, capacityBytes: 256 << 20)

    /// Buffers below this size are not cached (the allocator's heap serves them well).
    let minimumBytes: Int
    /// The most the cache holds.
    let capacityBytes: Int

    init(minimumBytes: Int, capacityBytes: Int) {
        self.minimumBytes = minimumBytes
        self.capacityBytes = capacityBytes
    }

    deinit { clear() }

    private struct Block: @unchecked Sendable {
        /// When the block was freed (a counter).
        let freed: Int
        let pointer: UnsafeMutableRawPointer
    }

    private struct State {
        /// Per size class, its free blocks, oldest first.
        var classes: [Int: [Block]] = [:]
        var bytes = 0
        var counter = 0
    }

    private let state = Mutex(State())

    /// The bytes a block of size class `sizeClass` holds: sizes are rounded up to one of four
    /// steps per power of two (at most 19% more than asked), so similar requests share blocks.
    static func sizeClass(for bytes: Int) -> Int {
        let power = Int.bitWidth - (bytes - 1).leadingZeroBitCount      // 2^power >= bytes
        let step = 1 << Swift.max(power - 3, 12)                          // a quarter of 2^(power-1)
        return (bytes + step - 1) / step * step
    }

    /// A 64-byte aligned block of at least `bytes` bytes: the most recently freed block of
    /// its class, or a new one.
    func allocate(bytes: Int) -> UnsafeMutableRawPointer {
        guard bytes >= minimumBytes else { return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64) }
        let size = Self.sizeClass(for: bytes)
        let reused = state.withLock { state -> UnsafeMutableRawPointer? in
            guard let block = state.classes[size]?.popLast() else { return nil }
            state.bytes -= size
            return block.pointer
        }
        return reused ?? UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    /// Takes back a block `allocate(bytes:)` returned for the same `bytes`; beyond the
    /// capacity, the blocks freed longest ago are given back to the system.
    func deallocate(_ pointer: UnsafeMutableRawPointer, bytes: Int) {
        guard bytes >= minimumBytes else { pointer.deallocate(); return }
        let size = Self.sizeClass(for: bytes)
        let evicted = state.withLock { state -> [Block] in
            state.counter += 1
            state.classes[size, default: []].append(Block(freed: state.counter, pointer: pointer))
            state.bytes += size
            var evicted: [Block] = []
            while state.bytes > capacityBytes {
                guard let oldest = state.classes.filter({ !$0.value.isEmpty }).min(by: { $0.value[0].freed < $1.value[0].freed })?.key
                else { break }
                evicted.append(state.classes[oldest]!.removeFirst())
                state.bytes -= oldest
            }
            return evicted
        }
        for block in evicted { block.pointer.deallocate() }
    }

    /// The bytes the cache holds now.
    var cachedBytes: Int { state.withLock { $0.bytes } }

    /// Frees every cached block.
    func clear() {
        let blocks = state.withLock { state -> [Block] in
            let blocks = state.classes.values.flatMap { $0 }
            state.classes = [:]
            state.bytes = 0
            return blocks
        }
        for block in blocks { block.pointer.deallocate() }
    }
}

/// The memory Loom keeps for reuse: freed tensor buffers of 16 KB and more are cached (up
/// to 256 MB in all) and handed out again, so a training loop does not map and fault in
/// fresh pages at every step. Like PyTorch's `torch.cuda.empty_cache()`, `emptyCache()`
/// gives them back to the system.
public enum TensorMemory {
    /// The bytes of freed buffers held for reuse.
    public static var cachedBytes: Int { LargeBlockCache.shared.cachedBytes }

    /// Frees every buffer held for reuse (buffers of live tensors are not affected).
    public static func emptyCache() { LargeBlockCache.shared.clear() }
}
