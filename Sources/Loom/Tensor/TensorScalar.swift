import Foundation

/// The element types a `Tensor` can hold: `Float` (for speed) and `Double` (for gradient
/// checks). Every op and kernel is written once, generically over this protocol, and
/// specialized by the compiler for each of the two types.
public protocol TensorScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable, LosslessStringConvertible
where Vector.Scalar == Self {
    /// The SIMD vector the elementwise, reduction, softmax, optimizer and recurrent kernels
    /// work on: 512 bits (`SIMD16<Float>`, `SIMD8<Double>`) on every path, so their lane
    /// layout, and with it the order of every sum, is the same whatever the CPU. An AVX-512
    /// build runs each as one instruction; a build for 256-bit AVX2 as a pair.
    associatedtype Vector: SIMD

    /// A short name of the type as PyTorch spells it (`"float32"`, `"float64"`), used to pick
    /// per-precision tolerances and in printing.
    static var dtypeName: String { get }

    /// e^x.
    static func exp(_ x: Self) -> Self
    /// The natural logarithm of x.
    static func log(_ x: Self) -> Self
    /// log(1 + x), accurate for small x.
    static func log1p(_ x: Self) -> Self
    /// The hyperbolic tangent of x.
    static func tanh(_ x: Self) -> Self
    /// x raised to the power y.
    static func pow(_ x: Self, _ y: Self) -> Self
}

extension Float: TensorScalar {
    public typealias Vector = SIMD16<Float>
    public static var dtypeName: String { "float32" }
    @inlinable public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    @inlinable public static func log(_ x: Float) -> Float { Foundation.log(x) }
    @inlinable public static func log1p(_ x: Float) -> Float { Foundation.log1p(x) }
    @inlinable public static func tanh(_ x: Float) -> Float { Foundation.tanh(x) }
    @inlinable public static func pow(_ x: Float, _ y: Float) -> Float { Foundation.pow(x, y) }
}

extension Double: TensorScalar {
    public typealias Vector = SIMD8<Double>
    public static var dtypeName: String { "float64" }
    @inlinable public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inlinable public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inlinable public static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
    @inlinable public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    @inlinable public static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
}
