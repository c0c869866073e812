extension Kernels {
    /// One Adam/AdamW update over `count` scalars, streaming each array once:
    /// `g = grad + l2·p`; `m = β1·m + (1-β1)·g`; `v = β2·v + (1-β2)·g²`;
    /// `p = p·decay - stepSize · m / (√v / √bc2 + eps)`.
    /// `l2` is Adam's (coupled) weight decay, `decay` AdamW's multiplicative `1 - lr·wd`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func adamStep<S: TensorScalar>(
        parameter p: UnsafeMutablePointer<S>, gradient g: UnsafePointer<S>,
        firstMoment m: UnsafeMutablePointer<S>, secondMoment v: UnsafeMutablePointer<S>, count: Int,
        beta1: S, beta2: S, epsilon: S, stepSize: S, biasCorrection2Root: S, l2: S, decay: S
    ) {
        typealias V = S.Vector
        let width = V.scalarCount
        let vb1 = V(repeating: beta1), vb2 = V(repeating: beta2)
        let vc1 = V(repeating: 1 - beta1), vc2 = V(repeating: 1 - beta2)
        let veps = V(repeating: epsilon), vstep = V(repeating: stepSize), vroot = V(repeating: biasCorrection2Root)
        let vl2 = V(repeating: l2), vdecay = V(repeating: decay)
        var i = 0
        while i + width <= count {
            var grad = load(V.self, g + i)
            var param = load(V.self, p + i)
            grad.multiplyAdd(vl2, param)
            var mi = load(V.self, m + i) * vb1
            mi.multiplyAdd(vc1, grad)
            var vi = load(V.self, v + i) * vb2
            vi.multiplyAdd(vc2, grad * grad)
            let denominator = squareRootOfNonNegative(vi) / vroot + veps
            param = param * vdecay - vstep * (mi / denominator)
            mi.store(to: m + i)
            vi.store(to: v + i)
            param.store(to: p + i)
            i += width
        }
        // The tail with the same fused multiply-adds, so each scalar's update does not depend
        // on where it falls relative to the vector width.
        while i < count {
            let grad = g[i].addingMultiplied(l2, p[i])
            let mi = (m[i] * beta1).addingMultiplied(1 - beta1, grad)
            let vi = (v[i] * beta2).addingMultiplied(1 - beta2, grad * grad)
            let denominator = vi.squareRoot() / biasCorrection2Root + epsilon
            p[i] = p[i] * decay - stepSize * (mi / denominator)
            m[i] = mi
            v[i] = vi
            i += 1
        }
    }

    /// `√v` lane by lane for `v ≥ 0` (Adam's second moment); a negative lane gives 0, NaN
    /// stays NaN. The generic `SIMD.squareRoot()` compiles to one `sqrtf` call per lane with
    /// an errno check; with the lanes known non-negative the compiler emits one vector square
    /// root (`vsqrtps`), with the same correctly rounded result per lane.
    @inlinable @inline(__always)
    static func squareRootOfNonNegative<V: SIMD>(_ v: V) -> V where V.Scalar: TensorScalar {
        var result = v
        for lane in v.indices {
            let value = v[lane]
            result[lane] = (value < 0 ? 0 : value).squareRoot()
        }
        return result
    }

    /// One SGD update over `count` scalars: `g = grad + wd·p`; with momentum,
    /// `buf = momentum·buf + (1-dampening)·g` (or `buf = g` on the first step), then
    /// `g = g + momentum·buf` (Nesterov) or `g = buf`; finally `p -= lr·g`. `buffer` is
    /// `nil` without momentum.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func sgdStep<S: TensorScalar>(
        parameter p: UnsafeMutablePointer<S>, gradient g: UnsafePointer<S>, buffer: UnsafeMutablePointer<S>?,
        count: Int, learningRate: S, momentum: S, dampening: S, weightDecay: S, nesterov: Bool, firstStep: Bool
    ) {
        for i in 0..<count {
            var grad = g[i] + weightDecay * p[i]
            if let buffer {
                let value = firstStep ? grad : momentum * buffer[i] + (1 - dampening) * grad
                buffer[i] = value
                grad = nesterov ? grad + momentum * value : value
            }
            p[i] = p[i] - learningRate * grad
        }
    }
}
