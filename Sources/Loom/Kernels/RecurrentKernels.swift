/// The fused pointwise work of one recurrent step for one batch row: everything between the
/// two matrix products, forward and backward, in one pass over SIMD vectors.
///
/// Row layouts follow PyTorch's gate order: LSTM `[i | f | g | o]`, GRU `[r | z | n]`,
/// RNN `[h]`, each block `hidden` wide. `xGates` is the row of the input projection
/// (`x W_ihᵀ + b_ih`), `hGates` the row of `h W_hhᵀ` (bias not yet added).
///
/// A row's last partial vector is loaded zero-padded and goes through the same vector code
/// (the same polynomial, the same fused multiply-adds) as the full ones, so a unit's result
/// does not depend on where it falls relative to the vector width.
package enum RecurrentKernels {
    // MARK: LSTM

    /// LSTM forward for one row. Writes the new `c` and `h`; when `saved` is non-nil also
    /// the activated gates `[i | f | g | o]` (4·hidden) and `tanh(c)` (hidden) for backward.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func lstmForward<S: TensorScalar>(
        hidden: Int, xGates: UnsafePointer<S>, hGates: UnsafePointer<S>, biasHH: UnsafePointer<S>?,
        cPrev: UnsafePointer<S>, c: UnsafeMutablePointer<S>, h: UnsafeMutablePointer<S>,
        savedGates: UnsafeMutablePointer<S>?, savedTanhC: UnsafeMutablePointer<S>?
    ) {
        typealias V = S.Vector
        let w = V.scalarCount
        @inline(__always) func pre(_ gate: Int, _ j: Int, _ n: Int) -> V {
            let k = gate * hidden + j
            var value = Kernels.load(V.self, xGates + k, count: n) + Kernels.load(V.self, hGates + k, count: n)
            if let biasHH { value += Kernels.load(V.self, biasHH + k, count: n) }
            return value
        }
        var j = 0
        while j < hidden {
            let n = min(w, hidden - j)
            let i = VectorMath.sigmoid(pre(0, j, n)), f = VectorMath.sigmoid(pre(1, j, n))
            let g = VectorMath.tanh(pre(2, j, n)), o = VectorMath.sigmoid(pre(3, j, n))
            var cNew = f * Kernels.load(V.self, cPrev + j, count: n)
            cNew.addProduct(i, g)
            let tc = VectorMath.tanh(cNew)
            cNew.store(to: c + j, count: n)
            (o * tc).store(to: h + j, count: n)
            if let savedGates, let savedTanhC {
                i.store(to: savedGates + j, count: n)
                f.store(to: savedGates + hidden + j, count: n)
                g.store(to: savedGates + 2 * hidden + j, count: n)
                o.store(to: savedGates + 3 * hidden + j, count: n)
                tc.store(to: savedTanhC + j, count: n)
            }
            j += w
        }
    }

    /// LSTM backward for one row. `dh` is the total gradient reaching this step's `h`, `dc`
    /// (in/out) the gradient reaching its `c` on entry and the gradient for `cPrev` on exit.
    /// Writes the gradient of the gate pre-activations `[di | df | dg | do]` to `dGates`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func lstmBackward<S: TensorScalar>(
        hidden: Int, dh: UnsafePointer<S>, dc: UnsafeMutablePointer<S>, savedGates: UnsafePointer<S>,
        savedTanhC: UnsafePointer<S>, cPrev: UnsafePointer<S>, dGates: UnsafeMutablePointer<S>
    ) {
        typealias V = S.Vector
        let w = V.scalarCount
        let one = V(repeating: 1)
        var j = 0
        while j < hidden {
            let n = min(w, hidden - j)
            let i = Kernels.load(V.self, savedGates + j, count: n), f = Kernels.load(V.self, savedGates + hidden + j, count: n)
            let g = Kernels.load(V.self, savedGates + 2 * hidden + j, count: n)
            let o = Kernels.load(V.self, savedGates + 3 * hidden + j, count: n)
            let tc = Kernels.load(V.self, savedTanhC + j, count: n)
            let dhv = Kernels.load(V.self, dh + j, count: n)
            var dcTotal = Kernels.load(V.self, dc + j, count: n)
            dcTotal.addProduct(dhv * o, one - tc * tc)
            (dcTotal * g * i * (one - i)).store(to: dGates + j, count: n)
            (dcTotal * Kernels.load(V.self, cPrev + j, count: n) * f * (one - f)).store(to: dGates + hidden + j, count: n)
            (dcTotal * i * (one - g * g)).store(to: dGates + 2 * hidden + j, count: n)
            (dhv * tc * o * (one - o)).store(to: dGates + 3 * hidden + j, count: n)
            (dcTotal * f).store(to: dc + j, count: n)
            j += w
        }
    }

    // MARK: GRU

    /// GRU forward for one row: `r = σ(x_r + h_r + b_hr)`, `z = σ(x_z + h_z + b_hz)`,
    /// `n = tanh(x_n + r ⊙ (h_n + b_hn))`, `h = (1 - z) ⊙ n + z ⊙ hPrev`. When `saved` is
    /// non-nil writes `[r | z | n | h_n + b_hn]` (4·hidden) for backward.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func gruForward<S: TensorScalar>(
        hidden: Int, xGates: UnsafePointer<S>, hGates: UnsafePointer<S>, biasHH: UnsafePointer<S>?,
        hPrev: UnsafePointer<S>, h: UnsafeMutablePointer<S>, saved: UnsafeMutablePointer<S>?
    ) {
        typealias V = S.Vector
        let w = V.scalarCount
        @inline(__always) func hiddenPart(_ gate: Int, _ j: Int, _ n: Int) -> V {
            let k = gate * hidden + j
            var value = Kernels.load(V.self, hGates + k, count: n)
            if let biasHH { value += Kernels.load(V.self, biasHH + k, count: n) }
            return value
        }
        var j = 0
        while j < hidden {
            let n = min(w, hidden - j)
            let r = VectorMath.sigmoid(Kernels.load(V.self, xGates + j, count: n) + hiddenPart(0, j, n))
            let z = VectorMath.sigmoid(Kernels.load(V.self, xGates + hidden + j, count: n) + hiddenPart(1, j, n))
            let hn = hiddenPart(2, j, n)
            var nPre = Kernels.load(V.self, xGates + 2 * hidden + j, count: n)
            nPre.addProduct(r, hn)
            let candidate = VectorMath.tanh(nPre)
            let hp = Kernels.load(V.self, hPrev + j, count: n)
            var hNew = candidate
            hNew.addProduct(z, hp - candidate)
            hNew.store(to: h + j, count: n)
            if let saved {
                r.store(to: saved + j, count: n); z.store(to: saved + hidden + j, count: n)
                candidate.store(to: saved + 2 * hidden + j, count: n); hn.store(to: saved + 3 * hidden + j, count: n)
            }
            j += w
        }
    }

    /// GRU backward for one row. Writes the gradients of the hidden-side pre-activations
    /// `[dr | dz | r ⊙ dn]` to `dHGates` and the input side's `dn` to `dNInput` (the
    /// input side's `dr`, `dz` equal the hidden side's), and the direct part `z ⊙ dh` of the
    /// gradient for `hPrev` to `dhPrev`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func gruBackward<S: TensorScalar>(
        hidden: Int, dh: UnsafePointer<S>, saved: UnsafePointer<S>, hPrev: UnsafePointer<S>,
        dNInput: UnsafeMutablePointer<S>, dHGates: UnsafeMutablePointer<S>, dhPrev: UnsafeMutablePointer<S>
    ) {
        typealias V = S.Vector
        let w = V.scalarCount
        let one = V(repeating: 1)
        var j = 0
        while j < hidden {
            let count = min(w, hidden - j)
            let r = Kernels.load(V.self, saved + j, count: count), z = Kernels.load(V.self, saved + hidden + j, count: count)
            let n = Kernels.load(V.self, saved + 2 * hidden + j, count: count)
            let hn = Kernels.load(V.self, saved + 3 * hidden + j, count: count)
            let dhv = Kernels.load(V.self, dh + j, count: count)
            let dnPre = dhv * (one - z) * (one - n * n)
            let drPre = dnPre * hn * r * (one - r)
            let dzPre = dhv * (Kernels.load(V.self, hPrev + j, count: count) - n) * z * (one - z)
            dnPre.store(to: dNInput + j, count: count)
            drPre.store(to: dHGates + j, count: count)
            dzPre.store(to: dHGates + hidden + j, count: count)
            (dnPre * r).store(to: dHGates + 2 * hidden + j, count: count)
            (dhv * z).store(to: dhPrev + j, count: count)
            j += w
        }
    }

    // MARK: Elman RNN

    /// RNN forward for one row: `h = act(x + h W_hhᵀ + b_hh)` with tanh, or ReLU when `relu`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func rnnForward<S: TensorScalar>(
        hidden: Int, relu: Bool, xGates: UnsafePointer<S>, hGates: UnsafePointer<S>, biasHH: UnsafePointer<S>?,
        h: UnsafeMutablePointer<S>
    ) {
        typealias V = S.Vector
        let w = V.scalarCount
        var j = 0
        while j < hidden {
            let n = min(w, hidden - j)
            var pre = Kernels.load(V.self, xGates + j, count: n) + Kernels.load(V.self, hGates + j, count: n)
            if let biasHH { pre += Kernels.load(V.self, biasHH + j, count: n) }
            (relu ? pointwiseMax(pre, V(repeating: 0)) : VectorMath.tanh(pre)).store(to: h + j, count: n)
            j += w
        }
    }

    /// RNN backward for one row from the step's output `h`: the pre-activation gradient
    /// `dh ⊙ (1 - h²)` (tanh) or `dh ⊙ [h > 0]` (ReLU).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func rnnBackward<S: TensorScalar>(
        hidden: Int, relu: Bool, dh: UnsafePointer<S>, h: UnsafePointer<S>, dGates: UnsafeMutablePointer<S>
    ) {
        for j in 0..<hidden {
            dGates[j] = relu ? (h[j] > 0 ? dh[j] : 0) : dh[j] * (1 - h[j] * h[j])
        }
    }
}
