/// The fused pointwise work of one recurrent step for one batch row: everything between the
/// two matrix products, forward and backward, in one pass over SIMD vectors.
///
/// Row layouts follow PyTorch's gate order: LSTM `[i | f | g | o]`, GRU `[r | z | n]`,
/// RNN `[h]`, each block `hidden` wide. `xGates` is the row of the input projection
/// (`x W_ihᵀ + b_ih`), `hGates` the row of `h W_hhᵀ` (bias not yet added).
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
        @inline(__always) func pre(_ gate: Int, _ j: Int) -> V {
            let k = gate * hidden + j
            var value = Kernels.load(V.self, xGates + k) + Kernels.load(V.self, hGates + k)
            if let biasHH { value += Kernels.load(V.self, biasHH + k) }
            return value
        }
        @inline(__always) func preScalar(_ gate: Int, _ j: Int) -> S {
            let k = gate * hidden + j
            return xGates[k] + hGates[k] + (biasHH?[k] ?? 0)
        }
        var j = 0
        while j + w <= hidden {
            let i = VectorMath.sigmoid(pre(0, j)), f = VectorMath.sigmoid(pre(1, j))
            let g = VectorMath.tanh(pre(2, j)), o = VectorMath.sigmoid(pre(3, j))
            var cNew = f * Kernels.load(V.self, cPrev + j)
            cNew.addProduct(i, g)
            let tc = VectorMath.tanh(cNew)
            cNew.store(to: c + j)
            (o * tc).store(to: h + j)
            if let savedGates, let savedTanhC {
                i.store(to: savedGates + j)
                f.store(to: savedGates + hidden + j)
                g.store(to: savedGates + 2 * hidden + j)
                o.store(to: savedGates + 3 * hidden + j)
                tc.store(to: savedTanhC + j)
            }
            j += w
        }
        while j < hidden {
            let i = SigmoidKernel.apply(preScalar(0, j)), f = SigmoidKernel.apply(preScalar(1, j))
            let g = S.tanh(preScalar(2, j)), o = SigmoidKernel.apply(preScalar(3, j))
            let cNew = f * cPrev[j] + i * g
            let tc = S.tanh(cNew)
            c[j] = cNew
            h[j] = o * tc
            if let savedGates, let savedTanhC {
                savedGates[j] = i; savedGates[hidden + j] = f
                savedGates[2 * hidden + j] = g; savedGates[3 * hidden + j] = o
                savedTanhC[j] = tc
            }
            j += 1
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
        while j + w <= hidden {
            let i = Kernels.load(V.self, savedGates + j), f = Kernels.load(V.self, savedGates + hidden + j)
            let g = Kernels.load(V.self, savedGates + 2 * hidden + j), o = Kernels.load(V.self, savedGates + 3 * hidden + j)
            let tc = Kernels.load(V.self, savedTanhC + j)
            let dhv = Kernels.load(V.self, dh + j)
            var dcTotal = Kernels.load(V.self, dc + j)
            dcTotal.addProduct(dhv * o, one - tc * tc)
            (dcTotal * g * i * (one - i)).store(to: dGates + j)
            (dcTotal * Kernels.load(V.self, cPrev + j) * f * (one - f)).store(to: dGates + hidden + j)
            (dcTotal * i * (one - g * g)).store(to: dGates + 2 * hidden + j)
            (dhv * tc * o * (one - o)).store(to: dGates + 3 * hidden + j)
            (dcTotal * f).store(to: dc + j)
            j += w
        }
        while j < hidden {
            let i = savedGates[j], f = savedGates[hidden + j], g = savedGates[2 * hidden + j], o = savedGates[3 * hidden + j]
            let tc = savedTanhC[j]
            let dcTotal = dc[j] + dh[j] * o * (1 - tc * tc)
            dGates[j] = dcTotal * g * i * (1 - i)
            dGates[hidden + j] = dcTotal * cPrev[j] * f * (1 - f)
            dGates[2 * hidden + j] = dcTotal * i * (1 - g * g)
            dGates[3 * hidden + j] = dh[j] * tc * o * (1 - o)
            dc[j] = dcTotal * f
            j += 1
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
        @inline(__always) func hiddenPart(_ gate: Int, _ j: Int) -> V {
            let k = gate * hidden + j
            var value = Kernels.load(V.self, hGates + k)
            if let biasHH { value += Kernels.load(V.self, biasHH + k) }
            return value
        }
        var j = 0
        while j + w <= hidden {
            let r = VectorMath.sigmoid(Kernels.load(V.self, xGates + j) + hiddenPart(0, j))
            let z = VectorMath.sigmoid(Kernels.load(V.self, xGates + hidden + j) + hiddenPart(1, j))
            let hn = hiddenPart(2, j)
            var nPre = Kernels.load(V.self, xGates + 2 * hidden + j)
            nPre.addProduct(r, hn)
            let n = VectorMath.tanh(nPre)
            let hp = Kernels.load(V.self, hPrev + j)
            var hNew = n
            hNew.addProduct(z, hp - n)
            hNew.store(to: h + j)
            if let saved {
                r.store(to: saved + j); z.store(to: saved + hidden + j)
                n.store(to: saved + 2 * hidden + j); hn.store(to: saved + 3 * hidden + j)
            }
            j += w
        }
        while j < hidden {
            let b = { (k: Int) -> S in biasHH?[k] ?? 0 }
            let r = SigmoidKernel.apply(xGates[j] + hGates[j] + b(j))
            let z = SigmoidKernel.apply(xGates[hidden + j] + hGates[hidden + j] + b(hidden + j))
            let hn = hGates[2 * hidden + j] + b(2 * hidden + j)
            let n = S.tanh(xGates[2 * hidden + j] + r * hn)
            h[j] = n + z * (hPrev[j] - n)
            if let saved {
                saved[j] = r; saved[hidden + j] = z; saved[2 * hidden + j] = n; saved[3 * hidden + j] = hn
            }
            j += 1
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
        while j + w <= hidden {
            let r = Kernels.load(V.self, saved + j), z = Kernels.load(V.self, saved + hidden + j)
            let n = Kernels.load(V.self, saved + 2 * hidden + j), hn = Kernels.load(V.self, saved + 3 * hidden + j)
            let dhv = Kernels.load(V.self, dh + j)
            let dnPre = dhv * (one - z) * (one - n * n)
            let drPre = dnPre * hn * r * (one - r)
            let dzPre = dhv * (Kernels.load(V.self, hPrev + j) - n) * z * (one - z)
            dnPre.store(to: dNInput + j)
            drPre.store(to: dHGates + j); dzPre.store(to: dHGates + hidden + j); (dnPre * r).store(to: dHGates + 2 * hidden + j)
            (dhv * z).store(to: dhPrev + j)
            j += w
        }
        while j < hidden {
            let r = saved[j], z = saved[hidden + j], n = saved[2 * hidden + j], hn = saved[3 * hidden + j]
            let dnPre = dh[j] * (1 - z) * (1 - n * n)
            let drPre = dnPre * hn * r * (1 - r)
            let dzPre = dh[j] * (hPrev[j] - n) * z * (1 - z)
            dNInput[j] = dnPre
            dHGates[j] = drPre; dHGates[hidden + j] = dzPre; dHGates[2 * hidden + j] = dnPre * r
            dhPrev[j] = dh[j] * z
            j += 1
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
        while j + w <= hidden {
            var pre = Kernels.load(V.self, xGates + j) + Kernels.load(V.self, hGates + j)
            if let biasHH { pre += Kernels.load(V.self, biasHH + j) }
            (relu ? pointwiseMax(pre, V(repeating: 0)) : VectorMath.tanh(pre)).store(to: h + j)
            j += w
        }
        while j < hidden {
            let pre = xGates[j] + hGates[j] + (biasHH?[j] ?? 0)
            h[j] = relu ? (pre > 0 ? pre : 0) : S.tanh(pre)
            j += 1
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
