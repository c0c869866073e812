/// The element types a safetensors file can declare that Loom reads, by their names in the
/// header. Every one converts to `Float` or `Double` when loaded; Loom writes `F32` for
/// `Float` tensors and `F64` for `Double` tensors.
public enum SafeTensorsDType: String, CaseIterable, Sendable {
    /// IEEE 754 double precision (PyTorch `float64`).
    case float64 = "F64"
    /// IEEE 754 single precision (PyTorch `float32`).
    case float32 = "F32"
    /// IEEE 754 half precision (PyTorch `float16`).
    case float16 = "F16"
    /// bfloat16: the upper 16 bits of a `Float` (PyTorch `bfloat16`).
    case bfloat16 = "BF16"
    /// Signed 64-bit integers (PyTorch `int64`); converted to the nearest floating-point value.
    case int64 = "I64"
    /// Signed 32-bit integers (PyTorch `int32`).
    case int32 = "I32"
    /// Signed 16-bit integers (PyTorch `int16`).
    case int16 = "I16"
    /// Signed 8-bit integers (PyTorch `int8`).
    case int8 = "I8"
    /// Unsigned 8-bit integers (PyTorch `uint8`).
    case uint8 = "U8"
    /// Booleans, one byte each, read as 0 or 1.
    case bool = "BOOL"

    /// The number of bytes of one element.
    public var byteSize: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// The dtype Loom writes for tensors of `Scalar`: `F32` for `Float`, `F64` for `Double`.
    public static func native<Scalar: TensorScalar>(for _: Scalar.Type) -> SafeTensorsDType {
        MemoryLayout<Scalar>.size == 4 ? .float32 : .float64
    }

    /// Converts `count` little-endian elements of this dtype starting at `source` into
    /// `destination` (which must hold `count` elements). `source` need not be aligned.
    func convert<Scalar: TensorScalar>(_ source: UnsafeRawPointer, count: Int,
                                       into destination: UnsafeMutableBufferPointer<Scalar>) {
        func load<T: FixedWidthInteger>(_ index: Int, _: T.Type) -> T {
            T(littleEndian: source.loadUnaligned(fromByteOffset: index * MemoryLayout<T>.size, as: T.self))
        }
        switch self {
        case .float64:
            for i in 0..<count { destination[i] = Scalar(Double(bitPattern: load(i, UInt64.self))) }
        case .float32:
            for i in 0..<count { destination[i] = Scalar(Float(bitPattern: load(i, UInt32.self))) }
        case .float16:
            for i in 0..<count { destination[i] = Scalar(SafeTensorsDType.floatFromHalf(load(i, UInt16.self))) }
        case .bfloat16:
            for i in 0..<count { destination[i] = Scalar(Float(bitPattern: UInt32(load(i, UInt16.self)) << 16)) }
        case .int64:
            for i in 0..<count { destination[i] = Scalar(load(i, Int64.self)) }
        case .int32:
            for i in 0..<count { destination[i] = Scalar(load(i, Int32.self)) }
        case .int16:
            for i in 0..<count { destination[i] = Scalar(load(i, Int16.self)) }
        case .int8:
            for i in 0..<count { destination[i] = Scalar(load(i, Int8.self)) }
        case .uint8:
            for i in 0..<count { destination[i] = Scalar(load(i, UInt8.self)) }
        case .bool:
            for i in 0..<count { destination[i] = load(i, UInt8.self) != 0 ? 1 : 0 }
        }
    }

    /// The `Float` value of IEEE 754 half-precision bits (exact: every half is a float).
    static func floatFromHalf(_ bits: UInt16) -> Float {
        let sign: UInt32 = UInt32(bits & 0x8000) << 16
        let exponent = Int(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa × 2^-24.
            let magnitude = Float(mantissa) * 0x1p-24
            return sign != 0 ? -magnitude : magnitude
        case 0x1F:
            // Infinity or NaN (the payload moves to the top of the float mantissa).
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | mantissa << 13)
        }
    }
}
