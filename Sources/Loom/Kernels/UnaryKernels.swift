/// A pointwise unary function, given as a SIMD-vector function and a scalar one.
package protocol UnaryKernel {
    /// Applies the function lane by lane.
    static func apply<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar
    /// Applies the function to one scalar.
    static func apply<S: TensorScalar>(_ x: S) -> S
}

/// e^x.
package enum ExpKernel: UnaryKernel {
    @inlinable @inline(__always) package static func apply<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar { VectorMath.exp(x) }
    @inlinable @inline(__always) package static func apply<S: TensorScalar>(_ x: S) -> S { S.exp(x) }
}
/// The natural logarithm.
package enum LogKernel: UnaryKernel {
    @inlinable @inline(__always) package static func apply<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar { VectorMath.log(x) }
    @inlinable @inline(__always) package static func apply<S: TensorScalar>(_ x: S) -> S { S.log(x) }
}
/// The hyperbolic tangent.
package enum TanhKernel: UnaryKernel {
    @inlinable @inline(__always) package static func apply<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar { VectorMath.tanh(x) }
    @inlinable @inline(__always) package static func apply<S: TensorScalar>(_ x: S) -> S { S.tanh(x) }
}
/// The logistic sigmoid 1 / (1 + e^-x), computed without overflow for large |x|.
package enum SigmoidKernel: UnaryKernel {
    @inlinable @inline(__always) package static func apply<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar { VectorMath.sigmoid(x) }
    @inlinable @inline(__always) package static func apply<S: TensorScalar>(_ x: S) -> S {
        if x >= 0 {
            return 1 / (1 + S.exp(-x))
        }
        let e = S.exp(x)
        return e / (1 + e)
    }
}
/// max(x, 0).
package enum ReluKernel: UnaryKernel {
    @inlinable @inline(__always) package static func apply<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar {
        pointwiseMax(x, V(repeating: 0))
    }
    @inlinable @inline(__always) package static func apply<S: TensorScalar>(_ x: S) -> S { x > 0 ? x : 0 }
}
/// -x.
package enum NegateKernel: UnaryKernel {
    @inlinable @inline(__always) package static func apply<V: SIMD>(_ x: V) -> V where V.Scalar: TensorScalar { V(repeating: 0) - x }
    @inlinable @inline(__always) package static func apply<S: TensorScalar>(_ x: S) -> S { -x }
}

extension Kernels {
    /// `out[i] = Op(x[i])` for `i < count`; `out` may alias `x`.
    @inlinable @inline(__always)
    package static func unary<Op: UnaryKernel, S: TensorScalar>(
        _ op: Op.Type, _ x: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>, count: Int
    ) {
        unaryRows(Op.self, x, rowStride: count, out, rowStride: count, rows: 1, width: count)
    }

    /// `unary` over `rows` rows of `width` elements, the rows of `x` and of `out` `xRowStride`
    /// and `outRowStride` elements apart; each row gets exactly the arithmetic of `unary`. The
    /// SIMD path is looked up once for all rows.
    @_specialize(where Op == ExpKernel, S == Float)
    @_specialize(where Op == ExpKernel, S == Double)
    @_specialize(where Op == LogKernel, S == Float)
    @_specialize(where Op == LogKernel, S == Double)
    @_specialize(where Op == TanhKernel, S == Float)
    @_specialize(where Op == TanhKernel, S == Double)
    @_specialize(where Op == SigmoidKernel, S == Float)
    @_specialize(where Op == SigmoidKernel, S == Double)
    @_specialize(where Op == ReluKernel, S == Float)
    @_specialize(where Op == ReluKernel, S == Double)
    @_specialize(where Op == NegateKernel, S == Float)
    @_specialize(where Op == NegateKernel, S == Double)
    @inlinable
    package static func unaryRows<Op: UnaryKernel, S: TensorScalar>(
        _ op: Op.Type, _ x: UnsafePointer<S>, rowStride xRowStride: Int, _ out: UnsafeMutablePointer<S>, rowStride outRowStride: Int,
        rows: Int, width: Int
    ) {
        // Contiguous rows are one long row.
        let (rows, width) = xRowStride == width && outRowStride == width ? (1, rows * width) : (rows, width)
        let isFloat = S.self == Float.self
        switch InstructionSet.current {
        case .avx512:
            isFloat ? unaryRows(Op.self, SIMD16<Float>.self, rebound(x, Float.self), xRowStride, rebound(out, Float.self), outRowStride, rows, width)
                    : unaryRows(Op.self, SIMD8<Double>.self, rebound(x, Double.self), xRowStride, rebound(out, Double.self), outRowStride, rows, width)
        case .avx2:
            // 16 `Float` lanes, each operation a pair of 256-bit instructions, as in the fused
            // kernels: the compiler interleaves the two halves' long dependency chains, where
            // an 8-lane loop, unrolled or not, leaves them to the out-of-order window.
            isFloat ? unaryRows(Op.self, SIMD16<Float>.self, rebound(x, Float.self), xRowStride, rebound(out, Float.self), outRowStride, rows, width)
                    : unaryRows(Op.self, SIMD4<Double>.self, rebound(x, Double.self), xRowStride, rebound(out, Double.self), outRowStride, rows, width)
        case .neon, .generic:
            isFloat ? unaryRows(Op.self, SIMD4<Float>.self, rebound(x, Float.self), xRowStride, rebound(out, Float.self), outRowStride, rows, width)
                    : unaryRows(Op.self, SIMD2<Double>.self, rebound(x, Double.self), xRowStride, rebound(out, Double.self), outRowStride, rows, width)
        }
    }

    /// `unaryRows` on vectors of type `V`.
    @inlinable @inline(__always)
    package static func unaryRows<Op: UnaryKernel, V: SIMD>(
        _ op: Op.Type, _: V.Type, _ x: UnsafePointer<V.Scalar>, _ xRowStride: Int, _ out: UnsafeMutablePointer<V.Scalar>,
        _ outRowStride: Int, _ rows: Int, _ width: Int
    ) where V.Scalar: TensorScalar {
        for row in 0..<rows { unaryRow(Op.self, V.self, x + row * xRowStride, out + row * outRowStride, count: width) }
    }

    /// `unary` on vectors of type `V`. The last partial vector goes through the same vector
    /// function (zero-padded), so every element gets the same arithmetic whatever the width.
    @inlinable @inline(__always)
    package static func unaryRow<Op: UnaryKernel, V: SIMD>(
        _ op: Op.Type, _: V.Type, _ x: UnsafePointer<V.Scalar>, _ out: UnsafeMutablePointer<V.Scalar>, count: Int
    ) where V.Scalar: TensorScalar {
        let width = V.scalarCount
        var i = 0
        while i + width <= count {
            Op.apply(load(V.self, x + i)).store(to: out + i)
            i += width
        }
        if i < count {
            var tail = V()
            for lane in 0..<(count - i) { tail[lane] = x[i + lane] }
            let result = Op.apply(tail)
            for lane in 0..<(count - i) { out[i + lane] = result[lane] }
        }
    }

    /// `out[i] = x[i] * scale` for `i < count`; `out` may alias `x`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func scale<S: TensorScalar>(_ x: UnsafePointer<S>, by scale: S, _ out: UnsafeMutablePointer<S>, count: Int) {
        typealias V = S.Vector
        let width = V.scalarCount
        let vs = V(repeating: scale)
        var i = 0
        while i + width <= count {
            (load(V.self, x + i) * vs).store(to: out + i)
            i += width
        }
        while i < count { out[i] = x[i] * scale; i += 1 }
    }

    /// `y[i] += alpha * x[i]` for `i < count`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func axpy<S: TensorScalar>(_ alpha: S, _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, count: Int) {
        typealias V = S.Vector
        let width = V.scalarCount
        let va = V(repeating: alpha)
        var i = 0
        while i + width <= count {
            var acc = load(V.self, y + i)
            acc.multiplyAdd(va, load(V.self, x + i))
            acc.store(to: y + i)
            i += width
        }
        while i < count { y[i] = y[i] + alpha * x[i]; i += 1 }
    }

    /// `y[i] += x[i]` for `i < count`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func accumulate<S: TensorScalar>(_ x: UnsafePointer<S>, into y: UnsafeMutablePointer<S>, count: Int) {
        binaryRow(AddKernel.self, UnsafePointer(y), aStride: 1, x, bStride: 1, y, count: count)
    }
}
