// Softmax and log-softmax over the middle axis of a `[outer, length, inner]` block, and
// their backward passes. Stable: the maximum along the axis is subtracted before `exp`.

extension Kernels {
    /// The largest of `count` contiguous scalars (`-infinity` for none).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func maximum<S: TensorScalar>(_ x: UnsafePointer<S>, count: Int) -> S {
        typealias V = S.Vector
        let width = V.scalarCount
        var i = 0
        var best = -S.infinity
        if count >= width {
            var acc = load(V.self, x)
            i = width
            while i + width <= count {
                acc = pointwiseMax(acc, load(V.self, x + i))
                i += width
            }
            best = acc.max()
        }
        while i < count { best = Swift.max(best, x[i]); i += 1 }
        return best
    }

    /// The maximum `m` of `count` contiguous scalars and `log(sum(exp(x - m)))`, so that
    /// `logsumexp(x) = m + logSum` and `log_softmax(x) = (x - m) - logSum` are finite
    /// whenever the maximum is (and exact for equal logits, whatever their size).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func shiftedLogSumExp<S: TensorScalar>(_ x: UnsafePointer<S>, count: Int) -> (max: S, logSum: S) {
        let m = maximum(x, count: count)
        if !m.isFinite { return (m, 0) }
        typealias V = S.Vector
        let width = V.scalarCount
        let vm = V(repeating: m)
        var acc = V(repeating: 0)
        var i = 0
        while i + width <= count {
            acc += ExpKernel.apply(load(V.self, x + i) - vm)
            i += width
        }
        var total = acc.sum()
        while i < count { total += S.exp(x[i] - m); i += 1 }
        return (m, S.log(total))
    }

    /// Softmax (or log-softmax when `logarithm`) of one contiguous row of `count` scalars.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func softmaxRow<S: TensorScalar>(_ x: UnsafePointer<S>, count: Int, _ out: UnsafeMutablePointer<S>, logarithm: Bool) {
        typealias V = S.Vector
        let width = V.scalarCount
        if logarithm {
            let (m, logSum) = shiftedLogSumExp(x, count: count)
            let vm = V(repeating: m), vl = V(repeating: logSum)
            var i = 0
            while i + width <= count {
                ((load(V.self, x + i) - vm) - vl).store(to: out + i)
                i += width
            }
            while i < count { out[i] = (x[i] - m) - logSum; i += 1 }
            return
        }
        let m = maximum(x, count: count)
        let vm = V(repeating: m)
        var acc = V(repeating: 0)
        var i = 0
        while i + width <= count {
            let e = ExpKernel.apply(load(V.self, x + i) - vm)
            e.store(to: out + i)
            acc += e
            i += width
        }
        var total = acc.sum()
        while i < count { out[i] = S.exp(x[i] - m); total += out[i]; i += 1 }
        scale(out, by: 1 / total, out, count: count)
    }

    /// Softmax (or log-softmax) of a `[outer, length, inner]` block along its middle axis.
    /// Rows (inner == 1) use `softmaxRow`; otherwise the work runs across `inner`
    /// contiguous columns at a time.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func softmaxMiddleAxis<S: TensorScalar>(
        _ x: UnsafePointer<S>, outer: Int, length: Int, inner: Int, _ out: UnsafeMutablePointer<S>, logarithm: Bool
    ) {
        if length == 0 || outer == 0 || inner == 0 { return }
        if inner == 1 {
            for o in 0..<outer {
                softmaxRow(x + o * length, count: length, out + o * length, logarithm: logarithm)
            }
            return
        }
        let best = UnsafeMutablePointer<S>.allocate(capacity: inner)
        let total = UnsafeMutablePointer<S>.allocate(capacity: inner)
        defer { best.deallocate(); total.deallocate() }
        for o in 0..<outer {
            let src = x + o * length * inner
            let dst = out + o * length * inner
            best.initialize(from: src, count: inner)
            for l in 1..<length {
                binaryRow(MaximumKernel.self, UnsafePointer(best), aStride: 1, src + l * inner, bStride: 1, best, count: inner)
            }
            total.initialize(repeating: 0, count: inner)
            for l in 0..<length {
                let row = dst + l * inner
                binaryRow(SubtractKernel.self, src + l * inner, aStride: 1, UnsafePointer(best), bStride: 1, row, count: inner)
                unary(ExpKernel.self, UnsafePointer(row), row, count: inner)
                accumulate(UnsafePointer(row), into: total, count: inner)
            }
            if logarithm {
                // log_softmax = (x - max) - log(sum).
                for i in 0..<inner { total[i] = best[i].isFinite ? S.log(total[i]) : 0 }
                for l in 0..<length {
                    let row = dst + l * inner
                    binaryRow(SubtractKernel.self, src + l * inner, aStride: 1, UnsafePointer(best), bStride: 1, row, count: inner)
                    binaryRow(SubtractKernel.self, UnsafePointer(row), aStride: 1, UnsafePointer(total), bStride: 1, row, count: inner)
                }
            } else {
                for i in 0..<inner { total[i] = 1 / total[i] }
                for l in 0..<length {
                    let row = dst + l * inner
                    binaryRow(MultiplyKernel.self, UnsafePointer(row), aStride: 1, UnsafePointer(total), bStride: 1, row, count: inner)
                }
            }
        }
    }

    /// The backward of softmax (or log-softmax) along the middle axis, from the forward
    /// output `y` and the upstream gradient `g`:
    /// softmax: `out = y * (g - sum(g * y))`; log-softmax: `out = g - exp(y) * sum(g)`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func softmaxBackwardMiddleAxis<S: TensorScalar>(
        _ g: UnsafePointer<S>, _ y: UnsafePointer<S>, outer: Int, length: Int, inner: Int,
        _ out: UnsafeMutablePointer<S>, logarithm: Bool
    ) {
        if length == 0 || outer == 0 || inner == 0 { return }
        let total = UnsafeMutablePointer<S>.allocate(capacity: inner)
        defer { total.deallocate() }
        for o in 0..<outer {
            let base = o * length * inner
            total.initialize(repeating: 0, count: inner)
            for l in 0..<length {
                let at = base + l * inner
                for i in 0..<inner { total[i] += logarithm ? g[at + i] : g[at + i] * y[at + i] }
            }
            for l in 0..<length {
                let at = base + l * inner
                if logarithm {
                    for i in 0..<inner { out[at + i] = g[at + i] - S.exp(y[at + i]) * total[i] }
                } else {
                    for i in 0..<inner { out[at + i] = y[at + i] * (g[at + i] - total[i]) }
                }
            }
        }
    }
}
