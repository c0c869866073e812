import Foundation
import Loom

// `loom-bench --memory`: the peak memory of one training step of each model config, above
// what the process holds before the step. After one warm-up step, memory the allocator
// kept from it is handed back to the system (`malloc_trim`), the kernel's high-water mark
// is reset (writing 5 to /proc/self/clear_refs), the resident size is read, one more step
// runs, and the new high-water mark (VmHWM) minus that baseline is the step's peak.
// Benchmarks/memory.py does the same for PyTorch, so the two are compared like for like.

/// Resets the kernel's resident high-water mark of this process to its current size.
/// Returns false where /proc/self/clear_refs is missing or not writable.
func resetPeakMemory() -> Bool {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? handle.close() }
    do {
        try handle.write(contentsOf: Data("5".utf8))
        return true
    } catch {
        return false
    }
}

#if os(Linux)
/// Hands memory the C allocator keeps from freed blocks back to the system (glibc).
@_silgen_name("malloc_trim")
private func mallocTrim(_ pad: Int) -> Int32
#endif

private func trimAllocator() {
    #if os(Linux)
    _ = mallocTrim(0)
    #endif
}

/// Measures and prints the training-step peak of every selected config.
func runMemoryBenchmarks(_ options: BenchOptions) {
    for config in ModelConfig.all where options.config == nil || config.name == options.config {
        guard let workload = makeWorkload(config) else { continue }
        workload.train()
        TensorMemory.emptyCache()
        trimAllocator()
        guard resetPeakMemory() else {
            print("loom-bench --memory needs a writable /proc/self/clear_refs (Linux)")
            return
        }
        let baseline = processMemoryKB("VmRSS")
        workload.train()
        let peak = processMemoryKB("VmHWM")
        let extraMB = Double(max(peak - baseline, 0)) / 1024
        if options.json {
            print("{\"config\": \"\(config.name)\", \"threads\": \(options.threads), \"mode\": \"train\", \"peak_extra_mb\": \((extraMB * 10).rounded() / 10)}")
        } else {
            print("\(config.name.padding(toLength: 16, withPad: " ", startingAt: 0)) train step peak above baseline: \(String(format: "%.1f", extraMB)) MB")
        }
    }
}
