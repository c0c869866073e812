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
    @_transparent
    package static func exp<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar {
        if V.Scalar.self == Float.self {
            // Type checks that fold away once specialized (a dynamic cast would not).
            switch V.scalarCount {
            case 16: return unsafeBitCast(floatExp(unsafeBitCast(x, to: SIMD16<Float>.self)), to: V.self)
            case 8: return unsafeBitCast(floatExp(unsafeBitCast(x, to: SIMD8<Float>.self)), to: V.self)
            case 4: return unsafeBitCast(floatExp(unsafeBitCast(x, to: SIMD4<Float>.self)), to: V.self)
            default: break
            }
        }
        var result = x
        for lane in 0..<V.scalarCount { result[lane] = V.Scalar.exp(x[lane]) }
        return result
    }

    /// 1 / (1 + e^-x) per lane, without overflow for large |x|.
    @_transparent
    package static func sigmoid<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar {
        if V.Scalar.self == Float.self {
            // Type checks that fold away once specialized (a dynamic cast would not).
            switch V.scalarCount {
            case 16: return unsafeBitCast(floatSigmoid(unsafeBitCast(x, to: SIMD16<Float>.self)), to: V.self)
            case 8: return unsafeBitCast(floatSigmoid(unsafeBitCast(x, to: SIMD8<Float>.self)), to: V.self)
            case 4: return unsafeBitCast(floatSigmoid(unsafeBitCast(x, to: SIMD4<Float>.self)), to: V.self)
            default: break
            }
        }
        var result = x
        for lane in 0..<V.scalarCount { result[lane] = SigmoidKernel.apply(x[lane]) }
        return result
    }

    /// tanh(x) per lane.
    @_transparent
    package static func tanh<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar {
        if V.Scalar.self == Float.self {
            // Type checks that fold away once specialized (a dynamic cast would not).
            switch V.scalarCount {
            case 16: return unsafeBitCast(floatTanh(unsafeBitCast(x, to: SIMD16<Float>.self)), to: V.self)
            case 8: return unsafeBitCast(floatTanh(unsafeBitCast(x, to: SIMD8<Float>.self)), to: V.self)
            case 4: return unsafeBitCast(floatTanh(unsafeBitCast(x, to: SIMD4<Float>.self)), to: V.self)
            default: break
            }
        }
        var result = x
        for lane in 0..<V.scalarCount { result[lane] = V.Scalar.tanh(x[lane]) }
        return result
    }

    /// The natural logarithm per lane.
    @_transparent
    package static func log<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar {
        if V.Scalar.self == Float.self {
            // Type checks that fold away once specialized (a dynamic cast would not).
            switch V.scalarCount {
            case 16: return unsafeBitCast(floatLog(unsafeBitCast(x, to: SIMD16<Float>.self)), to: V.self)
            case 8: return unsafeBitCast(floatLog(unsafeBitCast(x, to: SIMD8<Float>.self)), to: V.self)
            case 4: return unsafeBitCast(floatLog(unsafeBitCast(x, to: SIMD4<Float>.self)), to: V.self)
            default: break
            }
        }
        var result = x
        for lane in 0..<V.scalarCount { result[lane] = V.Scalar.log(x[lane]) }
        return result
    }

    /// `chosen` in the lanes where `x > 0`, else `otherwise` (a NaN lane of `x` takes
    /// `otherwise`): the gradient mask of ReLU. `Float` lanes compare with one vector compare;
    /// the generic `.>` builds its mask lane by lane.
    @_transparent
    package static func select<V: SIMD>(_ chosen: V, wherePositive x: V, otherwise: V) -> V where V.Scalar: TensorScalar {
        if V.Scalar.self == Float.self {
            // Type checks that fold away once specialized (a dynamic cast would not).
            switch V.scalarCount {
            case 16: return unsafeBitCast(positiveSelect(unsafeBitCast(chosen, to: SIMD16<Float>.self),
                                                         unsafeBitCast(x, to: SIMD16<Float>.self),
                                                         unsafeBitCast(otherwise, to: SIMD16<Float>.self)), to: V.self)
            case 8: return unsafeBitCast(positiveSelect(unsafeBitCast(chosen, to: SIMD8<Float>.self),
                                                        unsafeBitCast(x, to: SIMD8<Float>.self),
                                                        unsafeBitCast(otherwise, to: SIMD8<Float>.self)), to: V.self)
            case 4: return unsafeBitCast(positiveSelect(unsafeBitCast(chosen, to: SIMD4<Float>.self),
                                                        unsafeBitCast(x, to: SIMD4<Float>.self),
                                                        unsafeBitCast(otherwise, to: SIMD4<Float>.self)), to: V.self)
            default: break
            }
        }
        return otherwise.replacing(with: chosen, where: x .> V(repeating: 0))
    }

    /// ``select(_:wherePositive:otherwise:)`` on a concrete `Float` vector: 0 < x.
    @inlinable @inline(__always)
    static func positiveSelect<V: SIMD>(_ chosen: V, _ x: V, _ otherwise: V) -> V where V: FloatLanes {
        V.select(chosen, where: V(repeating: 0), isBelow: x, otherwise: otherwise)
    }

    /// log x for `Float` lanes: x = 2^e · m with m in [√½, √2), log x = e·ln2 + log m, and
    /// log(1 + f) = f - f²/2 + f³·P(f) by a degree-8 minimax polynomial (within 2 ulp over the
    /// whole range). Subnormal inputs are scaled by 2²³ first; log 0 = -inf, log of a negative
    /// number or NaN is NaN, log inf = inf.
    @inlinable @inline(__always)
    static func floatLog<V: SIMD>(_ input: V) -> V where V: FloatLanes {
        typealias Bits = V.MaskStorage
        let smallest = V(repeating: Float.leastNormalMagnitude)
        // Subnormals: multiply into the normal range, and take 23 off the exponent.
        let x = V.select(input * 8_388_608, where: input, isBelow: smallest, otherwise: input)
        let adjust = V.select(V(repeating: -23), where: input, isBelow: smallest, otherwise: V(repeating: 0))
        let bits = unsafeBitCast(x, to: Bits.self)
        // The exponent as a Float without an int-to-float conversion: add it to the bits of 2²³.
        let biased = (bits &>> Bits(repeating: 23)) & Bits(repeating: 0xFF)
        let exponentBits = (biased &- Bits(repeating: 126)) &+ Bits(repeating: 0x4B40_0000)
        var e = unsafeBitCast(exponentBits, to: V.self) - 12_582_912 + adjust
        // m in [0.5, 1): the mantissa with the exponent of 0.5.
        var m = unsafeBitCast((bits & Bits(repeating: Bits.Scalar(truncatingIfNeeded: 0x807F_FFFF))) | Bits(repeating: 0x3F00_0000),
                              to: V.self)
        // Move m into [√½, √2): below √½ use 2m and one less in the exponent.
        let low = V(repeating: 0.707_106_781_186_547_524)
        e = V.select(e - 1, where: m, isBelow: low, otherwise: e)
        m = V.select(m + m, where: m, isBelow: low, otherwise: m)
        let f = m - 1
        let f2 = f * f
        var p = V(repeating: 7.037_683_629_2e-2)
        p = V(repeating: -1.151_461_031_0e-1).addingMultiplied(p, f)
        p = V(repeating: 1.167_699_874_0e-1).addingMultiplied(p, f)
        p = V(repeating: -1.242_014_084_6e-1).addingMultiplied(p, f)
        p = V(repeating: 1.424_932_278_7e-1).addingMultiplied(p, f)
        p = V(repeating: -1.666_805_766_5e-1).addingMultiplied(p, f)
        p = V(repeating: 2.000_071_476_5e-1).addingMultiplied(p, f)
        p = V(repeating: -2.499_999_399_3e-1).addingMultiplied(p, f)
        p = V(repeating: 3.333_333_117_4e-1).addingMultiplied(p, f)
        // ln2 in two parts (0.693359375 exact in few bits, plus a small correction).
        var y = (p * f) * f2
        y.multiplyAdd(e, V(repeating: -2.121_944_40e-4))
        y.multiplyAdd(f2, V(repeating: -0.5))
        var result = (f + y).addingMultiplied(e, V(repeating: 0.693_359_375))
        // Special values: 0 → -inf, negative → NaN, inf → inf, NaN → NaN.
        result = V.select(V(repeating: -.infinity), where: input, isBelow: V(repeating: .leastNonzeroMagnitude),
                          otherwise: result)
        result = V.select(V(repeating: .nan), where: input, isBelow: V(repeating: 0), otherwise: result)
        result = V.select(input, where: V(repeating: .greatestFiniteMagnitude), isBelow: input, otherwise: result)
        result = V.select(input, where: input, isBelow: input, orNaN: true, otherwise: result)
        return result
    }

    /// σ(x) for `Float` lanes: with e = e^-|x| (never overflows), σ(x) = 1/(1+e) for x ≥ 0 and
    /// e/(1+e) for x < 0.
    @_transparent
    static func floatSigmoid<V: SIMD>(_ x: V) -> V where V: FloatLanes {
        let (scale, q) = expPartsNonPositive(-absoluteValue(x))
        let e = scale.addingMultiplied(scale, q)
        let reciprocal = 1 / (1 + e)
        return V.select(e * reciprocal, whereNegative: x, otherwise: reciprocal)
    }

    /// tanh for `Float` lanes: with m = e^-2|x| - 1 (accurate even for tiny |x|, where it is
    /// ≈ -2|x|), tanh|x| = (1 - e^-2|x|) / (1 + e^-2|x|) = -m / (2 + m), with no cancellation.
    @_transparent
    static func floatTanh<V: SIMD>(_ x: V) -> V where V: FloatLanes {
        let (scale, q) = expPartsNonPositive(-2 * absoluteValue(x))
        let m = (scale - 1).addingMultiplied(scale, q)
        let magnitude = -m / (2 + m)
        return V.select(-magnitude, whereNegative: x, otherwise: magnitude)
    }

    /// The parts of e^y for `Float` lanes with y ≤ 0 (NaN passes through): y = n·ln2 + r with
    /// |r| ≤ ln2/2, `scale` = 2^n and `q` = e^r - 1 = r + r²·P(r) by a degree-5 polynomial.
    /// Then e^y = scale + scale·q (accurate relative to the result), and
    /// e^y - 1 = (scale - 1) + scale·q (accurate even as y → 0, where scale = 1).
    /// Below -87.3 the input is clamped (e^y is then 2⁻¹²⁶ instead of smaller).
    @_transparent
    static func expPartsNonPositive<V: SIMD>(_ y: V) -> (scale: V, q: V) where V: FloatLanes {
        let x = V.select(V(repeating: -87.3), where: y, isBelow: V(repeating: -87.3), otherwise: y)
        let (_, r, shifted) = reduce(x)
        var p = V(repeating: 1.987_569_15e-4)
        p = V(repeating: 1.398_199_95e-3).addingMultiplied(p, r)
        p = V(repeating: 8.333_451_9e-3).addingMultiplied(p, r)
        p = V(repeating: 4.166_579_6e-2).addingMultiplied(p, r)
        p = V(repeating: 1.666_666_55e-1).addingMultiplied(p, r)
        p = V(repeating: 5.000_000_1e-1).addingMultiplied(p, r)
        let q = r.addingMultiplied(p, r * r)                      // e^r - 1
        return (powerOfTwo(shifted), q)
    }

    /// e^x for `Float` lanes: x = n·ln2 + r with |r| ≤ ln2/2, e^r by polynomial, 2^n by
    /// exponent bits.
    @_transparent
    static func floatExp<V: SIMD>(_ input: V) -> V where V: FloatLanes {
        // Clamp with compare-and-blend (`clamped` goes lane by lane through the stdlib's
        // `pointwiseMin`/`pointwiseMax`); NaN lanes pass through and are restored below.
        let low = V(repeating: -87.3), high = V(repeating: 88.3)
        let x = V.select(high, where: high, isBelow: input,
                         otherwise: V.select(low, where: input, isBelow: low, otherwise: input))
        let (_, r, shifted) = reduce(x)
        var p = V(repeating: 1.987_569_15e-4)
        p = V(repeating: 1.398_199_95e-3).addingMultiplied(p, r)
        p = V(repeating: 8.333_451_9e-3).addingMultiplied(p, r)
        p = V(repeating: 4.166_579_6e-2).addingMultiplied(p, r)
        p = V(repeating: 1.666_666_55e-1).addingMultiplied(p, r)
        p = V(repeating: 5.000_000_1e-1).addingMultiplied(p, r)
        p = (r + 1).addingMultiplied(p, r * r)
        var result = p * powerOfTwo(shifted)
        // Below the clamp the true value underflows to 0; keep NaN as NaN.
        result = V.select(V(repeating: 0), where: input, isBelow: low, otherwise: result)
        result = V.select(V(repeating: .infinity), where: high, isBelow: input, otherwise: result)
        result = V.select(input, where: input, isBelow: input, orNaN: true, otherwise: result)
        return result
    }

    /// Cody–Waite reduction of clamped x: n = round(x·log2 e), r = x - n·ln2 (in two parts).
    /// n is rounded by adding 1.5·2²³ + 127: the sum is an integer (its ulp is 1), so its low
    /// mantissa bits hold n + 127, the biased exponent of 2^n, which ``powerOfTwo(_:)`` shifts
    /// into place without a float-to-int conversion (the generic SIMD conversion goes lane by
    /// lane through library code). |x·log2 e| < 128, so n + 127 stays within 1...254, and
    /// x·log2 e (exact inside the fused multiply-add) is never half an integer in that range
    /// (log2 e's odd mantissa would have to divide a number below 256), so no tie arises
    /// and n is the nearest integer whatever the rounding rule for ties.
    @inlinable @inline(__always)
    static func reduce<V: SIMD>(_ x: V) -> (n: V, r: V, shifted: V) where V: FloatLanes {
        let magic = V(repeating: 12_583_039)  // 1.5·2²³ + 127
        let shifted = magic.addingMultiplied(x, V(repeating: 1.442_695_04))
        let n = shifted - magic
        var r = x.addingMultiplied(n, V(repeating: -0.693_145_751_953_125))
        r.multiplyAdd(n, V(repeating: -1.428_606_765_330_187_045e-06))
        return (n, r, shifted)
    }

    /// 2^n from the shifted sum of ``reduce(_:)``: its low mantissa bits, n + 127, shifted
    /// into the exponent field (the bits above them, and the sum's own exponent, shift out).
    @inlinable @inline(__always)
    static func powerOfTwo<V: SIMD>(_ shifted: V) -> V where V: FloatLanes {
        typealias Bits = V.MaskStorage
        return unsafeBitCast(unsafeBitCast(shifted, to: Bits.self) &<< Bits(repeating: 23), to: V.self)
    }

    /// |x| per `Float` lane, by clearing the sign bit.
    @inlinable @inline(__always)
    static func absoluteValue<V: SIMD>(_ x: V) -> V where V: FloatLanes {
        typealias Bits = V.MaskStorage
        return unsafeBitCast(unsafeBitCast(x, to: Bits.self) & Bits(repeating: Bits.Scalar(0x7FFF_FFFF)), to: V.self)
    }
}

/// The `Float` vectors the vector math runs on (4, 8 and 16 lanes), with compare-and-blend
/// written for each concrete type: there the comparisons compile to single vector compares,
/// where the generic `SIMD` versions would build masks lane by lane.
@usableFromInline
protocol FloatLanes: SIMD where Scalar == Float {
    /// `chosen` in the lanes where `x` is negative (sign bit set, -0 excepted: x < 0), else `otherwise`.
    static func select(_ chosen: Self, whereNegative x: Self, otherwise: Self) -> Self
    /// `chosen` in the lanes where `a < b` (or, with `orNaN`, where either is NaN), else `otherwise`.
    static func select(_ chosen: Self, where a: Self, isBelow b: Self, orNaN: Bool, otherwise: Self) -> Self
}

extension FloatLanes {
    @inlinable @inline(__always)
    static func select(_ chosen: Self, where a: Self, isBelow b: Self, otherwise: Self) -> Self {
        select(chosen, where: a, isBelow: b, orNaN: false, otherwise: otherwise)
    }
}

extension SIMD4: FloatLanes where Scalar == Float {
    @inlinable @inline(__always)
    static func select(_ chosen: Self, whereNegative x: Self, otherwise: Self) -> Self {
        otherwise.replacing(with: chosen, where: x .< 0)
    }
    @inlinable @inline(__always)
    static func select(_ chosen: Self, where a: Self, isBelow b: Self, orNaN: Bool, otherwise: Self) -> Self {
        orNaN ? otherwise.replacing(with: chosen, where: a .!= a) : otherwise.replacing(with: chosen, where: a .< b)
    }
}

extension SIMD8: FloatLanes where Scalar == Float {
    @inlinable @inline(__always)
    static func select(_ chosen: Self, whereNegative x: Self, otherwise: Self) -> Self {
        otherwise.replacing(with: chosen, where: x .< 0)
    }
    @inlinable @inline(__always)
    static func select(_ chosen: Self, where a: Self, isBelow b: Self, orNaN: Bool, otherwise: Self) -> Self {
        orNaN ? otherwise.replacing(with: chosen, where: a .!= a) : otherwise.replacing(with: chosen, where: a .< b)
    }
}

extension SIMD16: FloatLanes where Scalar == Float {
    @inlinable @inline(__always)
    static func select(_ chosen: Self, whereNegative x: Self, otherwise: Self) -> Self {
        otherwise.replacing(with: chosen, where: x .< 0)
    }
    @inlinable @inline(__always)
    static func select(_ chosen: Self, where a: Self, isBelow b: Self, orNaN: Bool, otherwise: Self) -> Self {
        orNaN ? otherwise.replacing(with: chosen, where: a .!= a) : otherwise.replacing(with: chosen, where: a .< b)
    }
}
