import Foundation
import Synchronization
import Testing
@testable import Loom

/// Flushing subnormal numbers to zero (`Denormals`, `setFlushDenormal`): the calling thread's
/// arithmetic, the kernels it runs and the worker threads that help them, in the caller's mode.
/// One test at a time, so that the loops here find the worker pool free.
@Suite(.serialized) struct DenormalTests {
    /// 1e-20 (normal), read at run time so that no product of it is folded at compile time;
    /// its square, 1e-40, is subnormal.
    let tiny = Float("1e-20")!

    @Test func theCPUCanFlush() {
        #if arch(x86_64) || arch(arm64)
        #expect(Denormals.canFlushToZero)
        #endif
    }

    @Test func aScopeFlushesTheCallingThreadsArithmeticAndRestoresItsMode() throws {
        try #require(Denormals.canFlushToZero)
        let smallest = Float("1e-45")!  // the least subnormal
        #expect(!Denormals.flushToZero)
        #expect((tiny * tiny).isSubnormal)
        Denormals.withFlushToZero(true) {
            #expect(Denormals.flushToZero)
            #expect(tiny * tiny == 0)                          // a subnormal result becomes 0
            #expect(smallest * Float("1")! == 0)               // a subnormal input counts as 0
            Denormals.withFlushToZero(false) { #expect((tiny * tiny).isSubnormal) }
            #expect(tiny * tiny == 0)
        }
        #expect(!Denormals.flushToZero)
        #expect((tiny * tiny).isSubnormal)
        #expect(smallest * Float("1")! == smallest)
    }

    @Test func setFlushDenormalSetsTheCallingThreadsMode() throws {
        try #require(Denormals.canFlushToZero)
        defer { setFlushDenormal(false) }
        #expect(setFlushDenormal(true))
        #expect(Denormals.flushToZero)
        #expect(tiny * tiny == 0)
        #expect(setFlushDenormal(false))
        #expect(!Denormals.flushToZero)
        #expect((tiny * tiny).isSubnormal)
    }

    /// Runs a loop of two iterations (`Parallel.forEach` by default) that wait, up to two
    /// seconds, until both have started, so that a second thread runs one of them; returns, per
    /// iteration, whether its thread flushed a subnormal product to zero.
    func flushesInTwoConcurrentIterations(
        _ loop: (Int, @Sendable (Int) -> Void) -> Void = { Parallel.forEach($0, $1) }
    ) -> [Bool] {
        let started = Atomic<Int>(0)
        let flushed = Mutex<[Int: Bool]>([:])
        let tiny = self.tiny
        loop(2) { i in
            started.wrappingAdd(1, ordering: .sequentiallyConsistent)
            let deadline = DispatchTime.now().uptimeNanoseconds + 2_000_000_000
            while started.load(ordering: .sequentiallyConsistent) < 2 && DispatchTime.now().uptimeNanoseconds < deadline {}
            let product = tiny * tiny
            flushed.withLock { $0[i] = product == 0 }
        }
        return flushed.withLock { [$0[0] ?? false, $0[1] ?? false] }
    }

    @Test func workerThreadsTakeTheCallersMode() throws {
        try #require(Denormals.canFlushToZero)
        for _ in 0..<5 {
            #expect(Denormals.withFlushToZero(true) { flushesInTwoConcurrentIterations() } == [true, true])
            #expect(flushesInTwoConcurrentIterations() == [false, false])
        }
    }

    @Test func dispatchThreadsTakeTheCallersModeAndGetTheirOwnBack() throws {
        try #require(Denormals.canFlushToZero)
        // Where a loop goes while the worker pool runs another; the dispatch pool's threads
        // serve the rest of the process too, so each gets its own mode back.
        let onDispatchThreads: (Int, @Sendable (Int) -> Void) -> Void = { Parallel.forEachOnDispatchThreads($0, $1) }
        let plainDispatch: (Int, @Sendable (Int) -> Void) -> Void = { DispatchQueue.concurrentPerform(iterations: $0, execute: $1) }
        for _ in 0..<5 {
            #expect(Denormals.withFlushToZero(true) { flushesInTwoConcurrentIterations(onDispatchThreads) } == [true, true])
            #expect(flushesInTwoConcurrentIterations(plainDispatch) == [false, false])
            #expect(flushesInTwoConcurrentIterations(onDispatchThreads) == [false, false])
        }
        #expect(!Denormals.flushToZero)
    }

    @Test func aProductOnTwoThreadsFlushesLikeOnOne() throws {
        try #require(Denormals.canFlushToZero)
        // Every term 1e-21 · 1e-21 = 1e-42 and every sum of 128 of them are subnormal; the
        // product is large enough to be split between threads.
        let small = Float("1e-21")!
        let a = Tensor<Float>(shape: [64, 128], scalars: Array(repeating: small, count: 64 * 128))
        let b = Tensor<Float>(shape: [128, 64], scalars: Array(repeating: small, count: 128 * 64))
        func product(threads: Int, flush: Bool) -> [Float] {
            Threads.withCount(threads) { Denormals.withFlushToZero(flush) { withoutGradient { a.matmul(b).scalars } } }
        }
        for _ in 0..<5 {
            #expect(product(threads: 2, flush: true).allSatisfy { $0 == 0 })
            #expect(product(threads: 1, flush: true).allSatisfy { $0 == 0 })
            let exact = product(threads: 2, flush: false)
            #expect(exact.allSatisfy { $0.isSubnormal })
            #expect(exact == product(threads: 1, flush: false))
        }
    }
}
