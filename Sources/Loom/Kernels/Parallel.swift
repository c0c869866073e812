import Dispatch
import Foundation

/// The number of threads Loom's kernels may use. Read once per kernel call; changing it
/// never changes results, because work is split into a fixed partition of the output that
/// depends only on the problem size and this count, and no thread ever shares a reduction
/// with another (see `Parallel`).
///
/// The default is the environment variable `LOOM_NUM_THREADS` when it holds a positive
/// integer, otherwise the number of active processors.
public enum Threads {
    /// The thread count the kernels use (at least 1). Safe to read and set from any thread.
    public static var count: Int {
        get { setting.value }
        set { setting.value = max(1, newValue) }
    }

    private static let setting = ThreadCountSetting(initial: defaultCount())

    private static func defaultCount() -> Int {
        if let text = ProcessInfo.processInfo.environment["LOOM_NUM_THREADS"], let value = Int(text), value > 0 {
            return value
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }
}

/// Sets the number of threads Loom's kernels use (PyTorch's `torch.set_num_threads`).
public func setNumThreads(_ count: Int) { Threads.count = count }

/// A lock-protected integer (the `Synchronization` module's `Atomic` would need macOS 15 on
/// Apple platforms; a lock costs nothing next to a kernel call).
private final class ThreadCountSetting: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Int
    init(initial: Int) { stored = initial }
    var value: Int {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}

/// Deterministic parallel loops: work is cut into a fixed list of parts that depends only
/// on the problem size, the granularity and the number of parts, and each part is computed
/// entirely by one thread, so the arithmetic done for every output element is the same
/// whatever the thread count.
public enum Parallel {
    /// Splits `0..<count` into at most `parts` contiguous, non-empty ranges whose bounds are
    /// multiples of `granularity` (except the end), as equal as the granularity allows: the
    /// first `units % parts` ranges get one unit more.
    public static func partition(count: Int, parts: Int, granularity: Int = 1) -> [Range<Int>] {
        precondition(granularity > 0, "Parallel.partition: granularity must be positive, got \(granularity)")
        if count <= 0 { return [] }
        let units = (count + granularity - 1) / granularity
        let partCount = max(1, min(parts, units))
        let base = units / partCount, extra = units % partCount
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(partCount)
        var startUnit = 0
        for part in 0..<partCount {
            let endUnit = startUnit + base + (part < extra ? 1 : 0)
            ranges.append(startUnit * granularity..<min(count, endUnit * granularity))
            startUnit = endUnit
        }
        return ranges
    }

    /// Runs `body(i)` for every `i` in `0..<iterations`, concurrently when `iterations > 1`
    /// (on the calling thread and the dispatch pool), and returns when all are done.
    /// The iterations must write disjoint memory (the caller's contract: that is what makes
    /// sharing the non-`Sendable` closure and its pointers between threads safe).
    public static func forEach(_ iterations: Int, _ body: (Int) -> Void) {
        if iterations <= 0 { return }
        if iterations == 1 { body(0); return }
        withoutActuallyEscaping(body) { escapableBody in
            let shared = UncheckedSendableBody(body: escapableBody)
            DispatchQueue.concurrentPerform(iterations: iterations) { shared.body($0) }
        }
    }
}

/// Carries a loop body whose iterations touch disjoint memory across threads.
private struct UncheckedSendableBody: @unchecked Sendable {
    let body: (Int) -> Void
}
