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
            // e = e^-|x| never overflows; σ(x) = 1/(1+e) for x ≥ 0 and e/(1+e) for x < 0.
            let (scale, q) = expPartsNonPositive(-abs8(vector))
            let e = scale.addingProduct(scale, q)
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
            // With m = e^-2|x| - 1 (accurate even for tiny |x|, where it is ≈ -2|x|),
            // tanh|x| = (1 - e^-2|x|) / (1 + e^-2|x|) = -m / (2 + m): no cancellation.
            let (scale, q) = expPartsNonPositive(-2 * abs8(vector))
            let m = (scale - 1).addingProduct(scale, q)
            let magnitude = -m / (2 + m)
            return unsafeBitCast(magnitude.replacing(with: -magnitude, where: vector .< 0), to: V.self)
        }
        var result = x
        for lane in 0..<V.scalarCount { result[lane] = V.Scalar.tanh(x[lane]) }
        return result
    }

    /// The parts of e^y for 8 floats with y ≤ 0 (NaN passes through): y = n·ln2 + r with
    /// |r| ≤ ln2/2, `scale` = 2^n and `q` = e^r - 1 = r + r²·P(r) by a degree-5 polynomial.
    /// Then e^y = scale + scale·q (accurate relative to the result), and
    /// e^y - 1 = (scale - 1) + scale·q (accurate even as y → 0, where scale = 1).
    /// Below -87.3 the input is clamped (e^y is then 2⁻¹²⁶ instead of smaller).
    @inlinable @inline(__always)
    static func expPartsNonPositive(_ y: SIMD8<Float>) -> (scale: SIMD8<Float>, q: SIMD8<Float>) {
        let x = y.replacing(with: SIMD8(repeating: -87.3), where: y .< -87.3)
        // Round x·log2(e) to the nearest integer by adding 1.5·2²³: the sum's low mantissa
        // bits then hold n, read back without a float-to-int conversion.
        let magic = SIMD8<Float>(repeating: 12_582_912)
        let shifted = magic.addingProduct(x, SIMD8(repeating: 1.442_695_04))
        let n = shifted - magic
        var r = x.addingProduct(n, SIMD8(repeating: -0.693_145_751_953_125))
        r.addProduct(n, SIMD8(repeating: -1.428_606_765_330_187_045e-06))
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = SIMD8(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = SIMD8(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = SIMD8(repeating: 4.166_579_6e-2).addingProduct(p, r)
        p = SIMD8(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = SIMD8(repeating: 5.000_000_1e-1).addingProduct(p, r)
        let q = r.addingProduct(p, r * r)                      // e^r - 1
        let integerN = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        let scale = unsafeBitCast((integerN &+ 127) &<< 23, to: SIMD8<Float>.self)   // 2^n
        return (scale, q)
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
        let shifted = magic.addingProduct(x, SIMD8(repeating: 1.442_695_04))
        let n = shifted - magic
        var r = x
        r.addProduct(n, SIMD8(repeating: -0.693_145_751_953_125))
        r.addProduct(n, SIMD8(repeating: -1.428_606_765_330_187_045e-06))
        var p = SIMD8<Float>(repeating: 1.987_569_15e-4)
        p = SIMD8(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = SIMD8(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = SIMD8(repeating: 4.166_579_6e-2).addingProduct(p, r)
        p = SIMD8(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = SIMD8(repeating: 5.000_000_1e-1).addingProduct(p, r)
        p = (r + 1).addingProduct(p, r * r)
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
