import Synchronization

/// Loom's deterministic pseudo-random generator (xoshiro256**, seeded through SplitMix64).
/// The same seed gives the same stream on every machine and run; the system generator is
/// never used. A value type: copy it to fork a stream, pass it `inout` to draw from it.
public struct RandomGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    /// A generator whose whole stream is fixed by `seed`.
    public init(seed: UInt64) {
        var mixer = seed
        func splitMix() -> UInt64 {
            mixer &+= 0x9E37_79B9_7F4A_7C15
            var z = mixer
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    /// The generator's whole state: four 64-bit words. A generator rebuilt from them with
    /// ``init(stateWords:)`` continues the same stream (to checkpoint and resume training).
    public var stateWords: [UInt64] { [state.0, state.1, state.2, state.3] }

    /// A generator continuing the stream whose state ``stateWords`` returned; nil unless
    /// `words` holds four words, not all zero.
    public init?(stateWords words: [UInt64]) {
        guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
        state = (words[0], words[1], words[2], words[3])
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotate(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotate(state.3, 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform double in [0, 1) with 53 random bits.
    public mutating func nextUnit() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// A standard normal double (Box–Muller, one value per call; deterministic).
    public mutating func nextNormal() -> Double {
        var u1 = nextUnit()
        while u1 == 0 { u1 = nextUnit() }
        let u2 = nextUnit()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// A uniform integer in `0..<bound`, without modulo bias.
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0, "nextInt(below:) needs a positive bound")
        return Int(next(upperBound: UInt64(bound)))
    }

    /// A new generator derived from this one's stream (for a sub-task that must not disturb
    /// the caller's sequence length), advancing this one by one draw.
    public mutating func fork() -> RandomGenerator {
        RandomGenerator(seed: next())
    }

    /// Shuffles `array` in place with the Fisher–Yates algorithm (stable across Swift
    /// versions, unlike `shuffle(using:)`).
    public mutating func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        for i in stride(from: array.count - 1, to: 0, by: -1) {
            array.swapAt(i, nextInt(below: i + 1))
        }
    }

    /// The global generator behind `manualSeed`, used when no generator is passed.
    static let global = Mutex(RandomGenerator(seed: 0))

    /// Runs `body` with the global generator.
    public static func withGlobal<R>(_ body: (inout RandomGenerator) throws -> R) rethrows -> R {
        try global.withLock { try body(&$0) }
    }

    /// A fresh random tensor op reads its generator here: the one passed, or the global one.
    static func using<R>(_ generator: UnsafeMutablePointer<RandomGenerator>?, _ body: (inout RandomGenerator) -> R) -> R {
        if let generator { return body(&generator.pointee) }
        return withGlobal(body)
    }
}

import Foundation

/// Reseeds Loom's global generator (PyTorch's `torch.manual_seed`): parameter
/// initialization, dropout masks and shuffling that use the global generator are then
/// fixed by `seed`.
public func manualSeed(_ seed: UInt64) {
    RandomGenerator.withGlobal { $0 = RandomGenerator(seed: seed) }
}

extension Tensor {
    /// Standard normal samples of the given shape from `generator` (PyTorch's `randn`).
    public static func randn(_ shape: [Int], using generator: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = Scalar(generator.nextNormal()) }
        }
    }

    /// Standard normal samples from the global generator.
    public static func randn(_ shape: [Int]) -> Tensor {
        RandomGenerator.withGlobal { randn(shape, using: &$0) }
    }

    /// Uniform samples in [low, high) from `generator` (PyTorch's `uniform_`).
    public static func uniform(_ shape: [Int], low: Scalar = 0, high: Scalar = 1, using generator: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = low + (high - low) * Scalar(generator.nextUnit()) }
        }
    }

    /// Uniform samples in [low, high) from the global generator.
    public static func uniform(_ shape: [Int], low: Scalar = 0, high: Scalar = 1) -> Tensor {
        RandomGenerator.withGlobal { uniform(shape, low: low, high: high, using: &$0) }
    }

    /// Samples that are 1 with probability `p` and 0 otherwise (PyTorch's `bernoulli`).
    public static func bernoulli(_ shape: [Int], p: Double, using generator: inout RandomGenerator) -> Tensor {
        Tensor(shape: shape) { out in
            for i in 0..<out.count { out[i] = generator.nextUnit() < p ? 1 : 0 }
        }
    }

    /// Bernoulli samples from the global generator.
    public static func bernoulli(_ shape: [Int], p: Double) -> Tensor {
        RandomGenerator.withGlobal { bernoulli(shape, p: p, using: &$0) }
    }
}
