#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Per-thread scratch buffers for the kernels' packing: allocated once per thread and slot,
/// grown when a larger one is needed, reused by every later call on that thread, and freed
/// when the thread exits. This keeps matrix products — and so the recurrent steps, which
/// run one per time step — free of allocations in the steady state.
enum ScratchMemory {
    /// The kinds of buffer a kernel may hold at the same time on one thread.
    enum Slot: Int, CaseIterable {
        case packedA = 0
        case packedB = 1
    }

    /// The per-thread holder of the buffers.
    private final class Buffers {
        var pointers: [UnsafeMutableRawPointer?] = Array(repeating: nil, count: Slot.allCases.count)
        var capacities: [Int] = Array(repeating: 0, count: Slot.allCases.count)
        deinit { for pointer in pointers { pointer?.deallocate() } }
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key) { pointer in
            guard let pointer else { return }
            Unmanaged<AnyObject>.fromOpaque(pointer).release()
        }
        precondition(status == 0, "ScratchMemory: pthread_key_create failed with \(status)")
        return key
    }()

    private static var buffers: Buffers {
        if let existing = pthread_getspecific(key) {
            return Unmanaged<Buffers>.fromOpaque(existing).takeUnretainedValue()
        }
        let created = Buffers()
        pthread_setspecific(key, Unmanaged.passRetained(created as AnyObject).toOpaque())
        return created
    }

    /// A 64-byte aligned buffer of at least `count` elements of `S` for `slot`, valid until
    /// the next request for the same slot on this thread.
    static func buffer<S>(_ slot: Slot, count: Int, of _: S.Type) -> UnsafeMutablePointer<S> {
        let holder = buffers
        let bytes = max(count, 1) * MemoryLayout<S>.stride
        if holder.capacities[slot.rawValue] < bytes {
            holder.pointers[slot.rawValue]?.deallocate()
            holder.pointers[slot.rawValue] = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            holder.capacities[slot.rawValue] = bytes
        }
        return holder.pointers[slot.rawValue]!.bindMemory(to: S.self, capacity: max(count, 1))
    }
}
