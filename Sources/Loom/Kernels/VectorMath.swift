/// Vectorized transcendental functions for the fused recurrent kernels.
///
/// `Float` lanes use a Cody–Waite range reduction and a degree-7 polynomial for `exp`
/// (about 1 ulp), from which sigmoid and tanh follow; `Double` lanes call libm per lane,
/// so the `Double` path stays exact to the last bits for gradient checks and parity.
public enum VectorMath {
    /// e^x per lane.
    @inlinable @inline(__always)
    public static func exp<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar {
        if V.Scalar.self == Float.self, let vector = x as? SIMD8<Float> {
            return unsafeBitCast(exp8(vector), to: V.self)
        }
        var result = x
        for lane in 0..<V.scalarCount { result[lane] = V.Scalar.exp(x[lane]) }
        return result
    }

    /// 1 / (1 + e^-x) per lane, without overflow for large |x|.
    @inlinable @inline(__always)
    public static func sigmoid<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar {
        if V.Scalar.self == Float.self, let vector = x as? SIMD8<Float> {
            // e^-|x| never overflows; σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0.
            let e = exp8(-abs8(vector))
            let reciprocal = 1 / (1 + e)
            return unsafeBitCast(reciprocal.replacing(with: e * reciprocal, where: vector .< 0), to: V.self)
        }
        var result = x
        for lane in 0..<V.scalarCount { result[lane] = SigmoidKernel.apply(x[lane]) }
        return result
    }

    /// tanh(x) per lane.
    @inlinable @inline(__always)
    public static func tanh<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar {
        if V.Scalar.self == Float.self, let vector = x as? SIMD8<Float> {
            // tanh|x| = (1 - e^-2|x|) / (1 + e^-2|x|); for small |x| an odd polynomial avoids
            // the cancellation of 1 - e.
            let a = abs8(vector)
            let e = exp8(-2 * a)
            var large = (1 - e) / (1 + e)
            let x2 = vector * vector
            var small = SIMD8<Float>(repeating: -0.0002986)    // odd Taylor-like series on |x| < 0.125
            small = small * x2 + 0.0021869
            small = small * x2 - 0.0539682
            small = small * x2 + 0.1333333
            small = small * x2 - 0.3333333
            small = a + a * x2 * small
            large.replace(with: small, where: a .< 0.125)
            let signed = large.replacing(with: -large, where: vector .< 0)
            return unsafeBitCast(signed, to: V.self)
        }
        var result = x
        for lane in 0..<V.scalarCount { result[lane] = V.Scalar.tanh(x[lane]) }
        return result
    }

    @inlinable @inline(__always)
    static func abs8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt32>.self) & SIMD8<UInt32>(repeating: 0x7FFF_FFFF), to: SIMD8<Float>.self)
    }

    /// e^x for 8 floats: x = n·ln2 + r with |r| ≤ ln2/2, e^r by polynomial, 2^n by exponent bits.
    @inlinable @inline(__always)
    static func exp8(_ input: SIMD8<Float>) -> SIMD8<Float> {
        // Clamp with compare-and-blend (`clamped` calls the stdlib's lane-by-lane
        // `pointwiseMin`/`pointwiseMax`); NaN lanes pass through and are restored below.
        let low = SIMD8<Float>(repeating: -87.3), high = SIMD8<Float>(repeating: 88.3)
        let x = input.replacing(with: low, where: input .< low).replacing(with: high, where: input .> high)
        // Round x·log2(e) to the nearest integer (ties to even) by adding 1.5·2²³: the sum's
        // low mantissa bits then hold the integer n, read back without a float-to-int
        // conversion (the generic SIMD conversion goes lane by lane through slow library
        // code; this stays in vector registers). |x·log2 e| < 128, far inside the 2²² range.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = x * 1.442_695_04 + magic
        let n = shifted - magic
        var r = x
        r.addProduct(n, SIMD8(repeating: -0.693_145_751_953_125))
        r.addProduct(n, SIMD8(repeating: -1.428_606_765_330_187_045e-06))
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_6e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_1e-1
        p = p * (r * r) + r + 1
        let integerN = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let exponent = (integerN &+ 127) &<< 23
        var result = p * unsafeBitCast(exponent, to: SIMD8<Float>.self)
        // Below the clamp the true value underflows to 0; keep NaN as NaN.
        result.replace(with: SIMD8<Float>(repeating: 0), where: input .< -87.3)
        result.replace(with: SIMD8<Float>(repeating: .infinity), where: input .> 88.3)
        result.replace(with: input, where: input .!= input)
        return result
    }
}
