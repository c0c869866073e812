/// The 64-bit FNV-1a hash (Fowler–Noll–Vo), fed byte by byte. Small, dependency-free and
/// the same on every machine, which is all a reproducibility check needs (it is not a
/// cryptographic hash).
package struct FNV1a64: Sendable, Equatable {
    /// The FNV-1a 64-bit offset basis.
    package static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    /// The FNV-1a 64-bit prime.
    package static let prime: UInt64 = 0x0000_0100_0000_01B3

    /// The hash of everything fed so far.
    package private(set) var value: UInt64 = FNV1a64.offsetBasis

    /// A hash of no bytes (the offset basis).
    package init() {}

    /// Feeds `bytes` in order.
    package mutating func combine(_ bytes: UnsafeRawBufferPointer) {
        var hash = value
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* FNV1a64.prime
        }
        value = hash
    }

    /// Feeds the bytes of `bytes` in order.
    package mutating func combine(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { combine($0) }
    }

    /// The hash as 16 lower-case hexadecimal digits (leading zeros kept).
    package var hexDigits: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// The weights checksum the `loom` tool prints as its last line (`weights-checksum: HEX`):
/// FNV-1a 64 over the raw bytes of every parameter (the machine's little-endian `Float` or
/// `Double` representation), in `state_dict` order. Two models have the same checksum when
/// their parameters are bitwise identical (up to the 2⁻⁶⁴ chance of a collision), so the
/// same seed must give the same checksum run after run and for any thread count.
package func weightsChecksum<M: Module>(_ model: M) -> String {
    var hash = FNV1a64()
    for (_, tensor) in model.namedParameters() {
        tensor.withUnsafeBufferPointer { hash.combine(UnsafeRawBufferPointer($0)) }
    }
    return hash.hexDigits
}
