import Testing
@testable import Loom

/// Scoped thread counts and instruction sets: what a scope sets is what kernels inside it see,
/// on the calling thread and on the worker threads of a parallel loop.
@Suite struct RuntimeSettingsTests {
    @Test func threadCountScopesNestAndReachWorkerThreads() {
        Threads.withCount(3) {
            #expect(Threads.count == 3)
            Threads.withCount(1) { #expect(Threads.count == 1) }
            #expect(Threads.count == 3)
            let seen = UnsafeMutableBufferPointer<Int>.allocate(capacity: 4)
            defer { seen.deallocate() }
            Parallel.forEach(4) { seen[$0] = Threads.count }
            #expect(Array(seen) == [3, 3, 3, 3])
        }
        #expect(Threads.count == Threads.defaultCount)
    }

    @Test func instructionSetScopesReachWorkerThreads() {
        for path in InstructionSet.available {
            InstructionSet.with(path) {
                #expect(InstructionSet.current == path)
                let seen = UnsafeMutableBufferPointer<InstructionSet>.allocate(capacity: 3)
                defer { seen.deallocate() }
                Parallel.forEach(3) { seen[$0] = InstructionSet.current }
                #expect(Array(seen) == [path, path, path])
            }
        }
        #expect(InstructionSet.current == InstructionSet.default)
        #expect(InstructionSet.available.contains(.generic))
        #expect(InstructionSet.available.contains(InstructionSet.detected))
    }
}
