import Testing
@testable import Loom

/// The cache of freed large buffers: size classes, reuse, the capacity bound, and tensors
/// that stay correct when their memory is recycled.
@Suite struct LargeBlockCacheTests {
    @Test func sizeClassesCoverTheRequestWithAtMostAQuarterMore() {
        for bytes in [20_000, 65_536, 100_000, 131_072, 131_073, 200_000, 1 << 20, (1 << 20) + 1, 3_000_001, 77_777_777] {
            let size = LargeBlockCache.sizeClass(for: bytes)
            #expect(size >= bytes, "\(bytes) -> \(size)")
            #expect(Double(size) <= Double(bytes) * 1.25, "\(bytes) -> \(size)")
            #expect(LargeBlockCache.sizeClass(for: size) == size, "a class is its own class: \(size)")
        }
    }

    @Test func aFreedBlockServesTheNextRequestOfItsClass() {
        let cache = LargeBlockCache(minimumBytes: 1 << 16, capacityBytes: 1 << 22)
        let first = cache.allocate(bytes: 300_000)
        cache.deallocate(first, bytes: 300_000)
        #expect(cache.cachedBytes == LargeBlockCache.sizeClass(for: 300_000))
        let second = cache.allocate(bytes: 290_000)     // the same class
        #expect(second == first)
        #expect(cache.cachedBytes == 0)
        let other = cache.allocate(bytes: 600_000)      // another class: a new block
        #expect(other != first)
        cache.deallocate(second, bytes: 290_000)
        cache.deallocate(other, bytes: 600_000)
        cache.clear()
        #expect(cache.cachedBytes == 0)
    }

    @Test func smallBlocksAreNotCachedAndTheCapacityIsNeverExceeded() {
        let cache = LargeBlockCache(minimumBytes: 1 << 16, capacityBytes: 1 << 21)
        let small = cache.allocate(bytes: 1000)
        cache.deallocate(small, bytes: 1000)
        #expect(cache.cachedBytes == 0)
        let blocks = (0..<12).map { i in (cache.allocate(bytes: 200_000 + i * 50_000), 200_000 + i * 50_000) }
        for (pointer, bytes) in blocks {
            cache.deallocate(pointer, bytes: bytes)
            #expect(cache.cachedBytes <= 1 << 21)
        }
        #expect(cache.cachedBytes > 0)
        // The newest blocks are the ones kept: the last freed serves a request of its class.
        let last = blocks.last!
        #expect(cache.allocate(bytes: last.1) == last.0)
        cache.deallocate(last.0, bytes: last.1)
    }

    @Test func tensorsOnRecycledMemoryHoldTheirOwnValues() {
        // Large tensors made and dropped in a loop reuse blocks; each must see only its values.
        var generator = RandomGenerator(seed: 3)
        for round in 0..<6 {
            let a = Tensor<Float>.randn([256, 300], using: &generator)
            let b = a * 2
            let expected = a.scalars.map { $0 * 2 }
            #expect(b.scalars == expected, "round \(round)")
            let zeros = Tensor<Float>.zeros([256, 300])
            #expect(zeros.scalars.allSatisfy { $0 == 0 }, "round \(round): zeros on a recycled block")
        }
    }
}
