import Foundation
import Synchronization
import Testing
@testable import Loom

/// `Parallel.forEach` on the worker pool: every iteration runs exactly once, with the
/// caller's thread count and instruction set, whether the pool is free, busy with a loop
/// from another thread, or already running the loop it is called from.
@Suite struct WorkerPoolTests {
    /// Runs `forEach(iterations)` and returns how often each index ran and the thread count
    /// and instruction set each iteration saw.
    func record(_ iterations: Int, _ body: (Int) -> Void = { _ in }) -> (runs: [Int], threads: [Int], paths: [InstructionSet]) {
        let runs = UnsafeMutableBufferPointer<Int>.allocate(capacity: iterations)
        let threads = UnsafeMutableBufferPointer<Int>.allocate(capacity: iterations)
        let paths = UnsafeMutableBufferPointer<InstructionSet>.allocate(capacity: iterations)
        runs.initialize(repeating: 0)
        threads.initialize(repeating: 0)
        paths.initialize(repeating: .generic)
        defer { runs.deallocate(); threads.deallocate(); paths.deallocate() }
        Parallel.forEach(iterations) { i in
            runs[i] += 1
            threads[i] = Threads.count
            paths[i] = InstructionSet.current
            body(i)
        }
        return (Array(runs), Array(threads), Array(paths))
    }

    @Test(arguments: [2, 3, 7, 64])
    func everyIterationRunsOnceWithTheCallersSettings(iterations: Int) {
        let path = InstructionSet.available.first { $0 != InstructionSet.current } ?? InstructionSet.current
        for _ in 0..<50 {
            let seen = Threads.withCount(5) { InstructionSet.with(path) { record(iterations) } }
            #expect(seen.runs == Array(repeating: 1, count: iterations))
            #expect(seen.threads.allSatisfy { $0 == 5 })
            #expect(seen.paths.allSatisfy { $0 == path })
        }
    }

    @Test func aLoopInsideALoopRunsEveryIteration() {
        let inner = Mutex<[Int]>([])
        let outer = record(2) { i in
            let nested = record(3)
            inner.withLock { $0.append(nested.runs.reduce(0, +) + 10 * i) }
        }
        #expect(outer.runs == [1, 1])
        #expect(inner.withLock { $0.sorted() } == [3, 13])
    }

    @Test func loopsFromManyThreadsAtOnceEachRunEveryIteration() async {
        let totals = await withTaskGroup(of: Int.self) { group in
            for task in 0..<6 {
                group.addTask {
                    var total = 0
                    for round in 0..<40 { total += record(2 + (task + round) % 4).runs.reduce(0, +) }
                    return total
                }
            }
            return await group.reduce(into: [Int]()) { $0.append($1) }
        }
        let expected = (0..<6).map { task in (0..<40).reduce(0) { $0 + 2 + (task + $1) % 4 } }
        #expect(totals.sorted() == expected.sorted())
    }

    @Test func aLoopAfterTheWorkersFellAsleepStillRuns() {
        #expect(record(2).runs == [1, 1])
        Thread.sleep(forTimeInterval: Double(WorkerPool.spinNanoseconds) / 1e9 * 5)
        for _ in 0..<3 {
            #expect(record(2).runs == [1, 1])
            Thread.sleep(forTimeInterval: Double(WorkerPool.spinNanoseconds) / 1e9 * 2)
        }
    }
}
