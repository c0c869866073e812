// Layer normalization of contiguous rows: mean and variance per row in SIMD lanes (folded in
// a fixed order, so the result does not depend on the thread count or the CPU's vector
// width), then the normalized row with its affine map, and the matching backward row.

extension Kernels {
    /// Normalizes each of `rows` rows of `width` scalars: `y = (x - mean) · rstd · weight + bias`
    /// with `rstd = 1/√(variance + epsilon)` (the biased variance). Writes `xHat` (the
    /// normalized row before the affine map) and `rstd` per row for the backward pass;
    /// `weight`/`bias` may be nil (1 and 0).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func layerNormForward<S: TensorScalar>(
        _ x: UnsafePointer<S>, rows: Int, width: Int, epsilon: S,
        weight: UnsafePointer<S>?, bias: UnsafePointer<S>?,
        y: UnsafeMutablePointer<S>, xHat: UnsafeMutablePointer<S>, rstd: UnsafeMutablePointer<S>
    ) {
        let count = S(width)
        for r in 0..<rows {
            let row = x + r * width, normalized = xHat + r * width, out = y + r * width
            let mean = sum(row, count: width) / count
            for i in 0..<width { normalized[i] = row[i] - mean }
            let variance = sumOfProducts(UnsafePointer(normalized), UnsafePointer(normalized), count: width) / count
            let scale = 1 / (variance + epsilon).squareRoot()
            rstd[r] = scale
            for i in 0..<width {
                let value = normalized[i] * scale
                normalized[i] = value
                out[i] = value * (weight?[i] ?? 1) + (bias?[i] ?? 0)
            }
        }
    }

    /// The gradient of `layerNormForward` with respect to its input, row by row:
    /// `dx = rstd · (dxHat - mean(dxHat) - xHat · mean(dxHat · xHat))` with
    /// `dxHat = dy · weight`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    package static func layerNormBackward<S: TensorScalar>(
        _ dy: UnsafePointer<S>, xHat: UnsafePointer<S>, rstd: UnsafePointer<S>, weight: UnsafePointer<S>?,
        rows: Int, width: Int, dx: UnsafeMutablePointer<S>
    ) {
        let count = S(width)
        for r in 0..<rows {
            let g = dy + r * width, normalized = xHat + r * width, out = dx + r * width
            for i in 0..<width { out[i] = g[i] * (weight?[i] ?? 1) }
            let meanGradient = sum(UnsafePointer(out), count: width) / count
            let meanProjection = sumOfProducts(UnsafePointer(out), normalized, count: width) / count
            let scale = rstd[r]
            for i in 0..<width {
                out[i] = scale * (out[i] - meanGradient - normalized[i] * meanProjection)
            }
        }
    }

    /// `Σ a[i]·b[i]` over `count` contiguous scalars, accumulated in SIMD lanes and folded in a
    /// fixed order.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func sumOfProducts<S: TensorScalar>(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>, count: Int) -> S {
        typealias V = S.Vector
        let width = V.scalarCount
        var acc0 = V(repeating: 0), acc1 = V(repeating: 0)
        var i = 0
        while i + 2 * width <= count {
            acc0 = acc0.addingMultiplied(load(V.self, a + i), load(V.self, b + i))
            acc1 = acc1.addingMultiplied(load(V.self, a + i + width), load(V.self, b + i + width))
            i += 2 * width
        }
        if i + width <= count {
            acc0 = acc0.addingMultiplied(load(V.self, a + i), load(V.self, b + i))
            i += width
        }
        var total = (acc0 + acc1).sum()
        while i < count { total += a[i] * b[i]; i += 1 }
        return total
    }
}
