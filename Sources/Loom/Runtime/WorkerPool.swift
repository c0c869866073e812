import Dispatch
import Foundation
import Synchronization

/// Worker threads that stay awake for a moment after each parallel loop, so the loops a
/// recurrence runs at every time step (a product, then the step's rows) do not each pay for
/// waking a sleeping thread. Waking one costs tens of microseconds (far more under a
/// hypervisor), as much as a small step's whole product; a worker that is still spinning
/// starts within a microsecond or two.
///
/// One loop runs on the pool at a time; a loop started while another runs (from another
/// thread, or nested inside an iteration) goes to `DispatchQueue.concurrentPerform`
/// instead. Iterations are claimed in order from a shared counter, by the workers and by the
/// calling thread alike, so a worker that is slow to start never holds the loop up: the caller
/// takes the iterations nobody has claimed. Which thread runs an iteration changes nothing,
/// since each iteration's work is fixed (`Parallel.forEach`'s contract).
final class WorkerPool: @unchecked Sendable {
    /// The pool the kernels' parallel loops use.
    static let shared = WorkerPool()

    /// The processors this process may use: more workers than that would only take turns.
    static let processors = Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// How long a worker spins for the next loop before it sleeps.
    static let spinNanoseconds: UInt64 = 200_000

    /// A loop being run: `count` iterations of the body behind `body`.
    private final class Job: @unchecked Sendable {
        let count: Int
        let body: UnsafeRawPointer
        let threads: Int?
        let instructionSet: InstructionSet?
        /// Whether the calling thread flushes subnormal numbers to zero (`Denormals`).
        let flushToZero: Bool
        let next = Atomic<Int>(0)
        let finished = Atomic<Int>(0)

        init(count: Int, body: UnsafeRawPointer, threads: Int?, instructionSet: InstructionSet?, flushToZero: Bool) {
            self.count = count
            self.body = body
            self.threads = threads
            self.instructionSet = instructionSet
            self.flushToZero = flushToZero
        }

        /// Runs unclaimed iterations until none is left.
        func work() {
            while true {
                let i = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard i < count else { return }
                Job.invoke(body, i, threads: threads, instructionSet: instructionSet)
                finished.wrappingAdd(1, ordering: .releasing)
            }
        }

        /// Calls the body for iteration `i` with the caller's thread count and instruction set;
        /// every copy of the closure is gone when this returns.
        @inline(never)
        static func invoke(_ body: UnsafeRawPointer, _ i: Int, threads: Int?, instructionSet: InstructionSet?) {
            let closure = body.assumingMemoryBound(to: ((Int) -> Void).self).pointee
            Threads.$scopedCount.withValue(threads) {
                InstructionSet.$scoped.withValue(instructionSet) { closure(i) }
            }
        }
    }

    /// A worker's state, for waking it when it sleeps.
    private final class Worker: @unchecked Sendable {
        static let awake = 0, sleeping = 1
        let state = Atomic<Int>(awake)
        let wake = DispatchSemaphore(value: 0)
        /// Whether the worker's thread flushes subnormal numbers to zero, as last set for a
        /// loop (nil before its first); only the worker's thread touches it.
        var flushToZero: Bool?
    }

    private let running = Atomic<Bool>(false)
    private let generation = Atomic<Int>(0)
    private let current = Mutex<Job?>(nil)
    /// The workers started so far; only the thread holding `running` touches it.
    private var workers: [Worker] = []

    /// Runs `body(i)` for `i` in `0..<iterations` on the calling thread and up to
    /// `iterations - 1` workers; returns false, running nothing, when the pool is in use.
    func run(_ iterations: Int, _ body: (Int) -> Void) -> Bool {
        guard running.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        defer { running.store(false, ordering: .releasing) }
        let helpers = Swift.min(iterations, WorkerPool.processors) - 1
        startWorkers(helpers)
        return withoutActuallyEscaping(body) { escapable -> Bool in
            var closure = escapable
            return withUnsafePointer(to: &closure) { pointer -> Bool in
                let job = Job(count: iterations, body: UnsafeRawPointer(pointer), threads: Threads.scopedCount,
                              instructionSet: InstructionSet.scoped, flushToZero: Denormals.threadFlushesToZero())
                current.withLock { $0 = job }
                generation.wrappingAdd(1, ordering: .sequentiallyConsistent)
                for worker in workers[..<helpers] where worker.state.compareExchange(expected: Worker.sleeping, desired: Worker.awake,
                                                                           ordering: .sequentiallyConsistent).exchanged {
                    worker.wake.signal()
                }
                job.work()
                var spins = 0
                while job.finished.load(ordering: .acquiring) < iterations {
                    spins += 1
                    if spins % 64 == 0 { sched_yield() }
                }
                current.withLock { $0 = nil }
                return true
            }
        }
    }

    /// Starts workers until there are `count` (called holding `running`).
    private func startWorkers(_ count: Int) {
        while workers.count < count {
            let worker = Worker()
            workers.append(worker)
            let thread = Thread { [self] in self.loop(worker) }
            thread.name = "Loom worker"
            thread.start()
        }
    }

    /// A worker's life: wait for a new loop (spinning, then sleeping), help with it, repeat.
    private func loop(_ worker: Worker) {
        var seen = generation.load(ordering: .acquiring)
        while true {
            var started = DispatchTime.now().uptimeNanoseconds
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                guard spins % 256 == 0 else { continue }
                let now = DispatchTime.now().uptimeNanoseconds
                guard now - started > WorkerPool.spinNanoseconds else { continue }
                // Sleep until a loop starts. The state change and the check after it pair
                // with `run`'s generation bump and exchange: exactly one side moves the worker
                // back to awake, and a signal is sent only for that.
                worker.state.store(Worker.sleeping, ordering: .sequentiallyConsistent)
                if generation.load(ordering: .sequentiallyConsistent) != seen,
                   worker.state.compareExchange(expected: Worker.sleeping, desired: Worker.awake,
                                                ordering: .sequentiallyConsistent).exchanged {
                    break
                }
                worker.wake.wait()
                started = DispatchTime.now().uptimeNanoseconds
            }
            seen = generation.load(ordering: .acquiring)
            if let job = current.withLock({ $0 }) {
                // The loop's arithmetic in the mode of the thread that started it.
                if worker.flushToZero != job.flushToZero {
                    Denormals.setThreadFlushesToZero(job.flushToZero)
                    worker.flushToZero = job.flushToZero
                }
                job.work()
            }
        }
    }
}
