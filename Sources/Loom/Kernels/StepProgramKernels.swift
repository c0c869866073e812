// The gradient loops of a captured recurrent step: each adds one elementwise op's input
// gradient into an accumulating buffer, in SIMD vectors with a scalar tail.

extension Kernels {
    /// `y[i] += a[i] · b[i]` for `i < count`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func accumulateProduct<S: TensorScalar>(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>,
                                                           into y: UnsafeMutablePointer<S>, count: Int) {
        typealias V = S.Vector
        let width = V.scalarCount
        var i = 0
        while i + width <= count {
            var acc = load(V.self, y + i)
            acc.multiplyAdd(load(V.self, a + i), load(V.self, b + i))
            acc.store(to: y + i)
            i += width
        }
        while i < count { y[i] = y[i].addingMultiplied(a[i], b[i]); i += 1 }
    }

    /// The gradient of an elementwise function from its output `v` (or input, for `log`):
    /// `y[i] += g[i] · f'(…)`, with `f'` per `function`, or `y[i] = g[i] · f'(…)` when
    /// `overwrite` (what `y` held is not read).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func accumulateUnaryGradient<S: TensorScalar>(_ function: StepUnaryOp, _ g: UnsafePointer<S>,
                                                                 output v: UnsafePointer<S>, input x: UnsafePointer<S>,
                                                                 into y: UnsafeMutablePointer<S>, count: Int, overwrite: Bool = false) {
        typealias V = S.Vector
        let width = V.scalarCount
        let one = V(repeating: 1), zero = V(repeating: 0)
        @inline(__always) func vector(_ g: V, _ v: V, _ x: V) -> V {
            switch function {
            case .negate: return zero - g
            case .exp: return g * v
            case .log: return g / x
            case .tanh: return g * (one - v * v)
            case .sigmoid: return g * (v * (one - v))
            case .relu: return VectorMath.select(g, wherePositive: v, otherwise: zero)
            }
        }
        @inline(__always) func scalar(_ g: S, _ v: S, _ x: S) -> S {
            switch function {
            case .negate: return -g
            case .exp: return g * v
            case .log: return g / x
            case .tanh: return g * (1 - v * v)
            case .sigmoid: return g * (v * (1 - v))
            case .relu: return v > 0 ? g : 0
            }
        }
        var i = 0
        if overwrite {
            while i + width <= count {
                vector(load(V.self, g + i), load(V.self, v + i), load(V.self, x + i)).store(to: y + i)
                i += width
            }
            while i < count { y[i] = scalar(g[i], v[i], x[i]); i += 1 }
            return
        }
        while i + width <= count {
            (load(V.self, y + i) + vector(load(V.self, g + i), load(V.self, v + i), load(V.self, x + i))).store(to: y + i)
            i += width
        }
        while i < count { y[i] += scalar(g[i], v[i], x[i]); i += 1 }
    }

    /// The gradient of `a / b` with respect to `b`: `y[i] -= g[i] · a[i] / b[i]²`, where `a` and
    /// `b` advance by `aStride` and `bStride` (0 for a broadcast scalar, else 1).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func accumulateDivisorGradient<S: TensorScalar>(_ g: UnsafePointer<S>, _ a: UnsafePointer<S>, aStride: Int,
                                                                   _ b: UnsafePointer<S>, bStride: Int,
                                                                   into y: UnsafeMutablePointer<S>, count: Int) {
        for i in 0..<count {
            let divisor = b[i * bStride]
            y[i] -= g[i] * a[i * aStride] / divisor / divisor
        }
    }

    /// `y[i] += g[i] / b[i · bStride]`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func accumulateQuotient<S: TensorScalar>(_ g: UnsafePointer<S>, _ b: UnsafePointer<S>, bStride: Int,
                                                            into y: UnsafeMutablePointer<S>, count: Int) {
        if bStride == 1 {
            accumulateUnaryGradient(.log, g, output: b, input: b, into: y, count: count)
        } else {
            axpy(1 / b[0], g, y, count: count)
        }
    }
}
