import Synchronization

/// One block of memory for a step program's buffers, handed out in 64-byte aligned pieces.
/// Blocks are kept in a small process-wide pool when released, so a training loop that runs
/// the same shapes again and again reuses them instead of faulting in fresh pages each call.
final class StepArena: @unchecked Sendable {
    private let base: UnsafeMutableRawPointer
    let capacity: Int
    private var used = 0

    private init(capacity: Int) {
        self.capacity = capacity
        base = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(capacity, 64), alignment: 64)
    }

    /// A block of at least `bytes` bytes, from the pool when one is large enough.
    static func make(bytes: Int) -> StepArena {
        let reused = pool.withLock { blocks -> StepArena? in
            guard let best = blocks.indices.filter({ blocks[$0].capacity >= bytes }).min(by: { blocks[$0].capacity < blocks[$1].capacity })
            else { return nil }
            return blocks.remove(at: best)
        }
        if let reused {
            reused.used = 0
            return reused
        }
        return StepArena(capacity: bytes)
    }

    /// The bytes `count` elements of `S` take in an arena, rounded up to whole 64-byte lines.
    static func size<S>(of count: Int, _: S.Type) -> Int { (Swift.max(count, 1) * MemoryLayout<S>.stride + 63) / 64 * 64 }

    /// `count` elements of `S`, uninitialized (or zeroed when `zeroed`).
    func take<S>(_ count: Int, of _: S.Type, zeroed: Bool = false) -> UnsafeMutablePointer<S> {
        let bytes = StepArena.size(of: count, S.self)
        precondition(used + bytes <= capacity, "StepArena: \(used + bytes) bytes requested of \(capacity)")
        let pointer = base + used
        used += bytes
        if zeroed { pointer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes) }
        return pointer.bindMemory(to: S.self, capacity: Swift.max(count, 1))
    }

    /// Gives the block back to the pool, which keeps the largest few; the rest are freed.
    func release() {
        var dropped: [StepArena] = []
        StepArena.pool.withLock { blocks in
            blocks.append(self)
            blocks.sort { $0.capacity > $1.capacity }
            while blocks.count > StepArena.pooledBlocks { dropped.append(blocks.removeLast()) }
        }
        dropped.removeAll()
    }

    deinit { base.deallocate() }

    private static let pooledBlocks = 4
    private static let pool = Mutex<[StepArena]>([])
}
