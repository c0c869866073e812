import Foundation

/// How many threads Loom's kernels may use.
///
/// The count in effect is the innermost `withCount(_:_:)` scope's, or else the process-wide
/// ``defaultCount``. Changing it never changes results: work is split into a fixed partition
/// of the output that depends only on the problem size and this count, and no two threads
/// ever share a reduction.
///
/// ```swift
/// let loss = Threads.withCount(1) { model(x).sum() }   // this computation, one thread
/// ```
public enum Threads {
    /// The thread count in effect for kernels called from here (at least 1).
    public static var count: Int { scopedCount ?? defaultSetting.value }

    /// The process-wide default: the environment variable `LOOM_NUM_THREADS` when it holds a
    /// positive integer, otherwise the number of active processors. Setting it affects every
    /// computation not inside a `withCount(_:_:)` scope.
    public static var defaultCount: Int {
        get { defaultSetting.value }
        set { defaultSetting.value = max(1, newValue) }
    }

    /// Runs `body` with kernels called inside it (on this thread and on the worker threads
    /// those kernels start) using `count` threads, and returns its result.
    public static func withCount<R>(_ count: Int, _ body: () throws -> R) rethrows -> R {
        try $scopedCount.withValue(max(1, count), operation: body)
    }

    /// Runs the asynchronous `body` with kernels called inside it using `count` threads.
    public static func withCount<R>(_ count: Int, _ body: () async throws -> R) async rethrows -> R {
        try await $scopedCount.withValue(max(1, count), operation: body)
    }

    /// The count of the innermost `withCount` scope, if any.
    @TaskLocal static var scopedCount: Int?

    private static let defaultSetting = LockedInt(initial: initialCount())

    private static func initialCount() -> Int {
        if let text = ProcessInfo.processInfo.environment["LOOM_NUM_THREADS"], let value = Int(text), value > 0 {
            return value
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }
}

/// Sets the default number of threads Loom's kernels use (PyTorch's `torch.set_num_threads`).
/// A `Threads.withCount(_:_:)` scope overrides it.
public func setNumThreads(_ count: Int) { Threads.defaultCount = count }

/// A lock-protected integer (the `Synchronization` module's `Atomic` needs macOS 15 on Apple
/// platforms; a lock costs nothing next to a kernel call).
final class LockedInt: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Int
    init(initial: Int) { stored = initial }
    var value: Int {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
