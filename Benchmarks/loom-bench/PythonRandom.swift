// Python's `random.Random(seed)` for an integer seed, reduced to what the benchmark needs:
// `randint(low, high)`. The PyTorch side (`tools/pytorch_bench.py`) draws its sequence
// lengths with it, so reproducing the generator bit for bit gives Loom the very same
// lengths. Written from the published MT19937 algorithm (Matsumoto & Nishimura) and the
// documented behaviour of Python's seeding (`init_by_array` over the seed's 32-bit words)
// and of `randrange` (rejection sampling of `bit_length(n)` random bits).

/// The 32-bit Mersenne Twister (MT19937) seeded like Python's `random.Random(n)`.
struct PythonRandom {
    private static let stateSize = 624
    private static let shift = 397
    private var state = [UInt32](repeating: 0, count: 624)
    private var position = 624

    /// The generator of `random.Random(seed)` for `0 ≤ seed < 2³²`.
    init(seed: UInt32) {
        // Python seeds with the array of the integer's 32-bit words, [0] for zero.
        seedByArray([seed])
    }

    private mutating func seedWithInteger(_ seed: UInt32) {
        state[0] = seed
        for i in 1..<Self.stateSize {
            let previous = state[i - 1]
            state[i] = 1_812_433_253 &* (previous ^ (previous >> 30)) &+ UInt32(i)
        }
        position = Self.stateSize
    }

    private mutating func seedByArray(_ key: [UInt32]) {
        let n = Self.stateSize
        seedWithInteger(19_650_218)
        var i = 1, j = 0
        for _ in 0..<max(n, key.count) {
            let previous = state[i - 1]
            state[i] = (state[i] ^ ((previous ^ (previous >> 30)) &* 1_664_525)) &+ key[j] &+ UInt32(j)
            i += 1; j += 1
            if i >= n { state[0] = state[n - 1]; i = 1 }
            if j >= key.count { j = 0 }
        }
        for _ in 0..<(n - 1) {
            let previous = state[i - 1]
            state[i] = (state[i] ^ ((previous ^ (previous >> 30)) &* 1_566_083_941)) &- UInt32(i)
            i += 1
            if i >= n { state[0] = state[n - 1]; i = 1 }
        }
        state[0] = 0x8000_0000
        position = n
    }

    /// Regenerates the 624 words of state.
    private mutating func twist() {
        let n = Self.stateSize, m = Self.shift
        let upper: UInt32 = 0x8000_0000, lower: UInt32 = 0x7fff_ffff
        for k in 0..<n {
            let y = (state[k] & upper) | (state[(k + 1) % n] & lower)
            state[k] = state[(k + m) % n] ^ (y >> 1) ^ ((y & 1) == 0 ? 0 : 0x9908_b0df)
        }
        position = 0
    }

    /// The next tempered 32-bit output (`genrand_uint32`).
    mutating func nextUInt32() -> UInt32 {
        if position >= Self.stateSize { twist() }
        var y = state[position]
        position += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// `getrandbits(bits)` for `1 ≤ bits ≤ 32`.
    mutating func randomBits(_ bits: Int) -> Int {
        precondition(bits >= 1 && bits <= 32, "PythonRandom.randomBits: 1...32 bits, got \(bits)")
        return Int(nextUInt32() >> UInt32(32 - bits))
    }

    /// `randbelow(n)`: a uniform integer in `0..<n` by rejection over `bit_length(n)` bits.
    mutating func below(_ n: Int) -> Int {
        precondition(n > 0 && n <= Int(UInt32.max), "PythonRandom.below: bound must be in 1...2³²-1, got \(n)")
        let bits = Int.bitWidth - n.leadingZeroBitCount
        var r = randomBits(bits)
        while r >= n { r = randomBits(bits) }
        return r
    }

    /// `randint(low, high)`: a uniform integer in `low...high`.
    mutating func randint(_ low: Int, _ high: Int) -> Int {
        low + below(high - low + 1)
    }
}
