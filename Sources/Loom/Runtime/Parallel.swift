import Dispatch
import Foundation

/// Deterministic parallel loops: work is cut into a fixed list of parts that depends only
/// on the problem size, the granularity and the number of parts, and each part is computed
/// entirely by one thread, so the arithmetic done for every output element is the same
/// whatever the thread count.
package enum Parallel {
    /// Splits `0..<count` into at most `parts` contiguous, non-empty ranges whose bounds are
    /// multiples of `granularity` (except the end), as equal as the granularity allows: the
    /// first `units % parts` ranges get one unit more.
    package static func partition(count: Int, parts: Int, granularity: Int = 1) -> [Range<Int>] {
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
    /// (on the calling thread and `WorkerPool`'s workers, or the dispatch pool while those
    /// are busy), and returns when all are done.
    /// The iterations must write disjoint memory (the caller's contract: that is what makes
    /// sharing the non-`Sendable` closure and its pointers between threads safe).
    package static func forEach(_ iterations: Int, _ body: (Int) -> Void) {
        if iterations <= 0 { return }
        if iterations == 1 { body(0); return }
        if WorkerPool.shared.run(iterations, body) { return }
        forEachOnDispatchThreads(iterations, body)
    }

    /// `forEach` on the dispatch pool's threads (and the calling thread), where it goes while
    /// the worker pool runs another loop.
    static func forEachOnDispatchThreads(_ iterations: Int, _ body: (Int) -> Void) {
        // Worker threads do not inherit task-local values nor the floating-point mode: carry
        // the caller's thread count, instruction set and handling of subnormal numbers into
        // each iteration so nested kernels see the same settings (and give the dispatch
        // thread its own mode back after it).
        let threads = Threads.scopedCount, instructionSet = InstructionSet.scoped
        let flushToZero = Denormals.threadFlushesToZero()
        withoutActuallyEscaping(body) { escapableBody in
            let shared = UncheckedSendableBody(body: escapableBody)
            DispatchQueue.concurrentPerform(iterations: iterations) { index in
                Threads.$scopedCount.withValue(threads) {
                    InstructionSet.$scoped.withValue(instructionSet) {
                        Denormals.withFlushToZero(flushToZero) { shared.body(index) }
                    }
                }
            }
        }
    }
}

/// Carries a loop body whose iterations touch disjoint memory across threads.
private struct UncheckedSendableBody: @unchecked Sendable {
    let body: (Int) -> Void
}
