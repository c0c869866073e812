#if canImport(Glibc)
import Glibc
#endif

/// Tunes glibc's allocator for training: a step allocates and frees the same large buffers
/// (activations, gradients) again and again. By default glibc serves large blocks with
/// `mmap` and returns freed heap tops to the system, so every step pays page faults to zero
/// fresh pages. Raising both thresholds keeps freed blocks in the heap for the next step.
/// No effect on other platforms (or a C library without `mallopt`).
enum MemoryTuning {
    static func keepFreedMemoryForReuse() {
        #if canImport(Glibc)
        // `mallopt` is declared in <malloc.h>, which the Glibc module does not export.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3  // M_TRIM_THRESHOLD, M_MMAP_THRESHOLD
        _ = mallopt(mmapThreshold, 512 << 20)
        _ = mallopt(trimThreshold, 1 << 30)
        #endif
    }
}
