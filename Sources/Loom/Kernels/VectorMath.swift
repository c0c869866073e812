/// Vectorized transcendental functions shared by every kernel that needs them.
///
/// `Float` lanes, at any vector width, use a Cody–Waite range reduction and a degree-7
/// polynomial for `exp` (about 1 ulp), from which sigmoid and tanh follow. Every lane goes
/// through the same sequence of operations (explicit fused multiply-adds, no reassociation),
/// so a value computed in a 4-, 8- or 16-lane vector is bitwise the same. `Double` lanes call
/// libm per lane, so the `Double` path stays exact to the last bits for gradient checks and
/// parity.
package enum VectorMath {
    /// e^x per lane.
    @inlinable @inline(__always)
    package static func exp<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar {
        if let v = x as? SIMD16<Float> { return unsafeBitCast(floatExp(v), to: V.self) }
        if let v = x as? SIMD8<Float> { return unsafeBitCast(floatExp(v), to: V.self) }
        if let v = x as? SIMD4<Float> { return unsafeBitCast(floatExp(v), to: V.self) }
        var result = x
        for lane in 0..<V.scalarCount { result[lane] = V.Scalar.exp(x[lane]) }
        return result
    }

    /// 1 / (1 + e^-x) per lane, without overflow for large |x|.
    @inlinable @inline(__always)
    package static func sigmoid<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar {
        if let v = x as? SIMD16<Float> { return unsafeBitCast(floatSigmoid(v), to: V.self) }
        if let v = x as? SIMD8<Float> { return unsafeBitCast(floatSigmoid(v), to: V.self) }
        if let v = x as? SIMD4<Float> { return unsafeBitCast(floatSigmoid(v), to: V.self) }
        var result = x
        for lane in 0..<V.scalarCount { result[lane] = SigmoidKernel.apply(x[lane]) }
        return result
    }

    /// tanh(x) per lane.
    @inlinable @inline(__always)
    package static func tanh<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar {
        if let v = x as? SIMD16<Float> { return unsafeBitCast(floatTanh(v), to: V.self) }
        if let v = x as? SIMD8<Float> { return unsafeBitCast(floatTanh(v), to: V.self) }
        if let v = x as? SIMD4<Float> { return unsafeBitCast(floatTanh(v), to: V.self) }
        var result = x
        for lane in 0..<V.scalarCount { result[lane] = V.Scalar.tanh(x[lane]) }
        return result
    }

    /// σ(x) for `Float` lanes: with e = e^-|x| (never overflows), σ(x) = 1/(1+e) for x ≥ 0 and
    /// e/(1+e) for x < 0.
    @inlinable @inline(__always)
    static func floatSigmoid<V: SIMD>(_ x: V) -> V where V.Scalar == Float {
        let (scale, q) = expPartsNonPositive(-absoluteValue(x))
        let e = scale.addingProduct(scale, q)
        let reciprocal = 1 / (1 + e)
        return reciprocal.replacing(with: e * reciprocal, where: x .< 0)
    }

    /// tanh for `Float` lanes: with m = e^-2|x| - 1 (accurate even for tiny |x|, where it is
    /// ≈ -2|x|), tanh|x| = (1 - e^-2|x|) / (1 + e^-2|x|) = -m / (2 + m), with no cancellation.
    @inlinable @inline(__always)
    static func floatTanh<V: SIMD>(_ x: V) -> V where V.Scalar == Float {
        let (scale, q) = expPartsNonPositive(-2 * absoluteValue(x))
        let m = (scale - 1).addingProduct(scale, q)
        let magnitude = -m / (2 + m)
        return magnitude.replacing(with: -magnitude, where: x .< 0)
    }

    /// The parts of e^y for `Float` lanes with y ≤ 0 (NaN passes through): y = n·ln2 + r with
    /// |r| ≤ ln2/2, `scale` = 2^n and `q` = e^r - 1 = r + r²·P(r) by a degree-5 polynomial.
    /// Then e^y = scale + scale·q (accurate relative to the result), and
    /// e^y - 1 = (scale - 1) + scale·q (accurate even as y → 0, where scale = 1).
    /// Below -87.3 the input is clamped (e^y is then 2⁻¹²⁶ instead of smaller).
    @inlinable @inline(__always)
    static func expPartsNonPositive<V: SIMD>(_ y: V) -> (scale: V, q: V) where V.Scalar == Float {
        let x = y.replacing(with: V(repeating: -87.3), where: y .< -87.3)
        let (_, r, shifted) = reduce(x)
        var p = V(repeating: 1.987_569_15e-4)
        p = V(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = V(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = V(repeating: 4.166_579_6e-2).addingProduct(p, r)
        p = V(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = V(repeating: 5.000_000_1e-1).addingProduct(p, r)
        let q = r.addingProduct(p, r * r)                      // e^r - 1
        return (powerOfTwo(shifted), q)
    }

    /// e^x for `Float` lanes: x = n·ln2 + r with |r| ≤ ln2/2, e^r by polynomial, 2^n by
    /// exponent bits.
    @inlinable @inline(__always)
    static func floatExp<V: SIMD>(_ input: V) -> V where V.Scalar == Float {
        // Clamp with compare-and-blend (`clamped` goes lane by lane through the stdlib's
        // `pointwiseMin`/`pointwiseMax`); NaN lanes pass through and are restored below.
        let low = V(repeating: -87.3), high = V(repeating: 88.3)
        let x = input.replacing(with: low, where: input .< low).replacing(with: high, where: input .> high)
        let (_, r, shifted) = reduce(x)
        var p = V(repeating: 1.987_569_15e-4)
        p = V(repeating: 1.398_199_95e-3).addingProduct(p, r)
        p = V(repeating: 8.333_451_9e-3).addingProduct(p, r)
        p = V(repeating: 4.166_579_6e-2).addingProduct(p, r)
        p = V(repeating: 1.666_666_55e-1).addingProduct(p, r)
        p = V(repeating: 5.000_000_1e-1).addingProduct(p, r)
        p = (r + 1).addingProduct(p, r * r)
        var result = p * powerOfTwo(shifted)
        // Below the clamp the true value underflows to 0; keep NaN as NaN.
        result.replace(with: V(repeating: 0), where: input .< -87.3)
        result.replace(with: V(repeating: .infinity), where: input .> 88.3)
        result.replace(with: input, where: input .!= input)
        return result
    }

    /// Cody–Waite reduction of clamped x: n = round(x·log2 e), r = x - n·ln2 (in two parts).
    /// n is rounded (ties to even) by adding 1.5·2²³: the sum's low mantissa bits then hold n,
    /// read back by ``powerOfTwo(_:)`` without a float-to-int conversion (the generic SIMD
    /// conversion goes lane by lane through library code). |x·log2 e| < 128, far inside 2²².
    @inlinable @inline(__always)
    static func reduce<V: SIMD>(_ x: V) -> (n: V, r: V, shifted: V) where V.Scalar == Float {
        let magic = V(repeating: 12_582_912)
        let shifted = magic.addingProduct(x, V(repeating: 1.442_695_04))
        let n = shifted - magic
        var r = x.addingProduct(n, V(repeating: -0.693_145_751_953_125))
        r.addProduct(n, V(repeating: -1.428_606_765_330_187_045e-06))
        return (n, r, shifted)
    }

    /// 2^n from the shifted sum of ``reduce(_:)``, built directly in the exponent bits.
    @inlinable @inline(__always)
    static func powerOfTwo<V: SIMD>(_ shifted: V) -> V where V.Scalar == Float {
        typealias Bits = V.MaskStorage
        let integerN = unsafeBitCast(shifted, to: Bits.self) &- Bits(repeating: Bits.Scalar(0x4B40_0000))
        return unsafeBitCast((integerN &+ Bits(repeating: 127)) &<< Bits(repeating: 23), to: V.self)
    }

    /// |x| per `Float` lane, by clearing the sign bit.
    @inlinable @inline(__always)
    static func absoluteValue<V: SIMD>(_ x: V) -> V where V.Scalar == Float {
        typealias Bits = V.MaskStorage
        return unsafeBitCast(unsafeBitCast(x, to: Bits.self) & Bits(repeating: Bits.Scalar(0x7FFF_FFFF)), to: V.self)
    }
}
