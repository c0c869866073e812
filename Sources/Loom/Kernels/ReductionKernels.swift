extension Kernels {
    /// Sums a `[outer, length, inner]` block along its middle axis into `[outer, inner]`. Each
    /// element accumulates in the order of the middle index (`columnSums`); with `inner` 1 the
    /// run is contiguous and summed as ``sum(_:count:)`` sums, in vector lanes then folded.
    /// Both orders are fixed, whatever the SIMD path.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func sumMiddleAxis<S: TensorScalar>(
        _ x: UnsafePointer<S>, outer: Int, length: Int, inner: Int, _ out: UnsafeMutablePointer<S>
    ) {
        for o in 0..<outer {
            let dst = out + o * inner
            let src = x + o * length * inner
            if inner == 1 {
                out[o] = sum(src, count: length)
                continue
            }
            columnSums(src, rows: length, columns: inner, rowStride: inner, into: dst)
        }
    }

    /// The sum of each column of a `[rows, columns]` block whose rows start `rowStride` apart,
    /// written to `sums` (`columns` values). Four vectors of columns at a time (then one) are
    /// summed down all rows in registers; each sum is `0 + x[0, c] + x[1, c] + ...` in row order,
    /// whatever the vector width.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func columnSums<S: TensorScalar>(_ x: UnsafePointer<S>, rows: Int, columns: Int, rowStride: Int,
                                                    into sums: UnsafeMutablePointer<S>) {
        typealias V = S.Vector
        let width = V.scalarCount
        var c = 0
        while c + 4 * width <= columns {
            var a0 = V(repeating: 0), a1 = V(repeating: 0), a2 = V(repeating: 0), a3 = V(repeating: 0)
            var row = x + c
            for _ in 0..<rows {
                a0 += load(V.self, row); a1 += load(V.self, row + width)
                a2 += load(V.self, row + 2 * width); a3 += load(V.self, row + 3 * width)
                row += rowStride
            }
            a0.store(to: sums + c); a1.store(to: sums + c + width)
            a2.store(to: sums + c + 2 * width); a3.store(to: sums + c + 3 * width)
            c += 4 * width
        }
        while c + width <= columns {
            var a0 = V(repeating: 0)
            var row = x + c
            for _ in 0..<rows { a0 += load(V.self, row); row += rowStride }
            a0.store(to: sums + c)
            c += width
        }
        if c < columns {
            (sums + c).initialize(repeating: 0, count: columns - c)
            for r in 0..<rows {
                accumulate(x + r * rowStride + c, into: sums + c, count: columns - c)
            }
        }
    }

    /// The sum of `count` contiguous scalars, accumulated in SIMD lanes then folded.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func sum<S: TensorScalar>(_ x: UnsafePointer<S>, count: Int) -> S {
        typealias V = S.Vector
        let width = V.scalarCount
        var acc0 = V(repeating: 0), acc1 = V(repeating: 0)
        var i = 0
        while i + 2 * width <= count {
            acc0 += load(V.self, x + i)
            acc1 += load(V.self, x + i + width)
            i += 2 * width
        }
        if i + width <= count {
            acc0 += load(V.self, x + i)
            i += width
        }
        var total = (acc0 + acc1).sum()
        while i < count { total += x[i]; i += 1 }
        return total
    }

    /// `Σ x[i]²` over `count` contiguous scalars, accumulated in `Double` (each scalar is
    /// widened before it is squared) in 16 fixed lanes, folded in a fixed order at the end:
    /// the result depends only on the values and `count`. A streaming read (what
    /// `clipGradNorm` needs): the lanes are independent FMA chains, so it runs at memory speed
    /// rather than at the latency of one serial addition per element.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func sumOfSquares<S: TensorScalar>(_ x: UnsafePointer<S>, count: Int) -> Double {
        @inline(__always) func widened(_ p: UnsafePointer<S>) -> SIMD4<Double> {
            SIMD4(Double(p[0]), Double(p[1]), Double(p[2]), Double(p[3]))
        }
        var s0 = SIMD4<Double>(), s1 = SIMD4<Double>(), s2 = SIMD4<Double>(), s3 = SIMD4<Double>()
        var i = 0
        while i + 16 <= count {
            let a = widened(x + i), b = widened(x + i + 4), c = widened(x + i + 8), d = widened(x + i + 12)
            s0.multiplyAdd(a, a)
            s1.multiplyAdd(b, b)
            s2.multiplyAdd(c, c)
            s3.multiplyAdd(d, d)
            i += 16
        }
        var total = ((s0 + s1) + (s2 + s3)).sum()
        while i < count {
            let value = Double(x[i])
            total += value * value
            i += 1
        }
        return total
    }

    /// The maximum of a `[outer, length, inner]` block along its middle axis into
    /// `[outer, inner]`, with the index of the first maximum in `argmax`. NaN wins, as in
    /// PyTorch.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func maxMiddleAxis<S: TensorScalar>(
        _ x: UnsafePointer<S>, outer: Int, length: Int, inner: Int,
        _ out: UnsafeMutablePointer<S>, argmax: UnsafeMutablePointer<Int>
    ) {
        for o in 0..<outer {
            for i in 0..<inner {
                let src = x + o * length * inner + i
                var best = src[0], bestIndex = 0
                if !best.isNaN {
                    for l in 1..<max(length, 1) {
                        let value = src[l * inner]
                        if value > best || value.isNaN {
                            best = value; bestIndex = l
                            if value.isNaN { break }
                        }
                    }
                }
                out[o * inner + i] = best
                argmax[o * inner + i] = bestIndex
            }
        }
    }
}
