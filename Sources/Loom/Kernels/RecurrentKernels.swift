/// The fused pointwise work of one recurrent step for one batch row: everything between the
/// two matrix products, forward and backward, in one pass over SIMD vectors.
///
/// Row layouts follow PyTorch's gate order: LSTM `[i | f | g | o]`, GRU `[r | z | n]`,
/// RNN `[h]`, each block `hidden` wide. `xGates` is the row of the input projection
/// (`x W_ihᵀ + b_ih`), `hGates` the row of `h W_hhᵀ` (bias not yet added).
///
/// A row whose width is not a multiple of the vector's ends with its last units copied,
/// zero-padded, into a row one vector wide, run through the same vector code (the same
/// polynomial, the same fused multiply-adds) and copied back; the RNN backward, plain
/// multiplies and adds, runs its last units one at a time with the same operations. Either
/// way a unit's result does not depend on where it falls relative to the vector width.
///
/// The loops index with wrapping arithmetic (`&+`, `&*`): every index stays below the row's
/// `4 · hidden` elements, and checked arithmetic would add an overflow branch to every load.
package enum RecurrentKernels {
    // MARK: LSTM

    /// LSTM forward for one row. Writes the new `c` and `h`, and `h` again to `hState` when
    /// given (the recurrence keeps its state rows, which the next step's product reads, apart
    /// from the layer's output rows); when `saved` is non-nil also the activated gates
    /// `[i | f | g | o]` (4·hidden) and `tanh(c)` (hidden) for backward.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func lstmForward<S: TensorScalar>(
        hidden: Int, xGates: UnsafePointer<S>, hGates: UnsafePointer<S>, biasHH: UnsafePointer<S>?,
        cPrev: UnsafePointer<S>, c: UnsafeMutablePointer<S>, h: UnsafeMutablePointer<S>, hState: UnsafeMutablePointer<S>? = nil,
        savedGates: UnsafeMutablePointer<S>?, savedTanhC: UnsafeMutablePointer<S>?
    ) {
        typealias V = S.Vector
        let w = V.scalarCount
        @inline(__always) func pre(_ gate: Int, _ j: Int) -> V {
            let k = gate &* hidden &+ j
            var value = Kernels.load(V.self, xGates + k) + Kernels.load(V.self, hGates + k)
            if let biasHH { value += Kernels.load(V.self, biasHH + k) }
            return value
        }
        var j = 0
        // Two vectors per iteration, so their long dependency chains (the exponentials, the
        // divisions, the tanh of the new cell) overlap.
        while j &+ 2 &* w <= hidden {
            let k = j &+ w
            let i0 = VectorMath.sigmoid(pre(0, j)), i1 = VectorMath.sigmoid(pre(0, k))
            let f0 = VectorMath.sigmoid(pre(1, j)), f1 = VectorMath.sigmoid(pre(1, k))
            let g0 = VectorMath.tanh(pre(2, j)), g1 = VectorMath.tanh(pre(2, k))
            let o0 = VectorMath.sigmoid(pre(3, j)), o1 = VectorMath.sigmoid(pre(3, k))
            var c0 = f0 * Kernels.load(V.self, cPrev + j), c1 = f1 * Kernels.load(V.self, cPrev + k)
            c0.multiplyAdd(i0, g0)
            c1.multiplyAdd(i1, g1)
            let t0 = VectorMath.tanh(c0), t1 = VectorMath.tanh(c1)
            c0.store(to: c + j); c1.store(to: c + k)
            let h0 = o0 * t0, h1 = o1 * t1
            h0.store(to: h + j); h1.store(to: h + k)
            if let hState { h0.store(to: hState + j); h1.store(to: hState + k) }
            if let savedGates, let savedTanhC {
                i0.store(to: savedGates + j); i1.store(to: savedGates + k)
                f0.store(to: savedGates + hidden + j); f1.store(to: savedGates + hidden + k)
                g0.store(to: savedGates + 2 * hidden + j); g1.store(to: savedGates + 2 * hidden + k)
                o0.store(to: savedGates + 3 * hidden + j); o1.store(to: savedGates + 3 * hidden + k)
                t0.store(to: savedTanhC + j); t1.store(to: savedTanhC + k)
            }
            j &+= 2 &* w
        }
        while j &+ w <= hidden {
            let i = VectorMath.sigmoid(pre(0, j)), f = VectorMath.sigmoid(pre(1, j))
            let g = VectorMath.tanh(pre(2, j)), o = VectorMath.sigmoid(pre(3, j))
            var cNew = f * Kernels.load(V.self, cPrev + j)
            cNew.multiplyAdd(i, g)
            let tc = VectorMath.tanh(cNew)
            cNew.store(to: c + j)
            let hNew = o * tc
            hNew.store(to: h + j)
            if let hState { hNew.store(to: hState + j) }
            if let savedGates, let savedTanhC {
                i.store(to: savedGates + j)
                f.store(to: savedGates + hidden + j)
                g.store(to: savedGates + 2 * hidden + j)
                o.store(to: savedGates + 3 * hidden + j)
                tc.store(to: savedTanhC + j)
            }
            j &+= w
        }
        if j < hidden {
            let tail = hidden - j
            withUnsafeTemporaryAllocation(of: S.self, capacity: 20 * w) { buffer in
                let t = buffer.baseAddress!
                let (px, ph, pb, pc) = (t, t + 4 * w, t + 8 * w, t + 12 * w)
                let (oc, oh, og, ot) = (t + 13 * w, t + 14 * w, t + 15 * w, t + 19 * w)
                Kernels.padTail(xGates, blocks: 4, hidden: hidden, from: j, width: w, into: px)
                Kernels.padTail(hGates, blocks: 4, hidden: hidden, from: j, width: w, into: ph)
                if let biasHH { Kernels.padTail(biasHH, blocks: 4, hidden: hidden, from: j, width: w, into: pb) }
                Kernels.padTail(cPrev, blocks: 1, hidden: hidden, from: j, width: w, into: pc)
                lstmForward(hidden: w, xGates: px, hGates: ph, biasHH: biasHH == nil ? nil : UnsafePointer(pb), cPrev: pc,
                            c: oc, h: oh, savedGates: savedGates == nil ? nil : og, savedTanhC: savedTanhC == nil ? nil : ot)
                (c + j).update(from: oc, count: tail)
                (h + j).update(from: oh, count: tail)
                if let hState { (hState + j).update(from: oh, count: tail) }
                if let savedGates, let savedTanhC {
                    Kernels.unpadTail(og, blocks: 4, hidden: hidden, from: j, width: w, into: savedGates)
                    (savedTanhC + j).update(from: ot, count: tail)
                }
            }
        }
    }

    /// LSTM backward for one row. `dh + dy` is the total gradient reaching this step's `h`
    /// (`dh` from the later steps, `dy`, when given, from the layer's output), `dc` (in/out)
    /// the gradient reaching its `c` on entry and the gradient for `cPrev` on exit.
    /// Writes the gradient of the gate pre-activations `[di | df | dg | do]` to `dGates`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func lstmBackward<S: TensorScalar>(
        hidden: Int, dh: UnsafePointer<S>, dy: UnsafePointer<S>? = nil, dc: UnsafeMutablePointer<S>, savedGates: UnsafePointer<S>,
        savedTanhC: UnsafePointer<S>, cPrev: UnsafePointer<S>, dGates: UnsafeMutablePointer<S>
    ) {
        typealias V = S.Vector
        let w = V.scalarCount
        let one = V(repeating: 1)
        var j = 0
        while j &+ w <= hidden {
            let i = Kernels.load(V.self, savedGates + j), f = Kernels.load(V.self, savedGates + hidden + j)
            let g = Kernels.load(V.self, savedGates + 2 * hidden + j), o = Kernels.load(V.self, savedGates + 3 * hidden + j)
            let tc = Kernels.load(V.self, savedTanhC + j)
            var dhv = Kernels.load(V.self, dh + j)
            if let dy { dhv += Kernels.load(V.self, dy + j) }
            var dcTotal = Kernels.load(V.self, dc + j)
            dcTotal.multiplyAdd(dhv * o, one - tc * tc)
            (dcTotal * g * i * (one - i)).store(to: dGates + j)
            (dcTotal * Kernels.load(V.self, cPrev + j) * f * (one - f)).store(to: dGates + hidden + j)
            (dcTotal * i * (one - g * g)).store(to: dGates + 2 * hidden + j)
            (dhv * tc * o * (one - o)).store(to: dGates + 3 * hidden + j)
            (dcTotal * f).store(to: dc + j)
            j &+= w
        }
        if j < hidden {
            let tail = hidden - j
            withUnsafeTemporaryAllocation(of: S.self, capacity: 13 * w) { buffer in
                let t = buffer.baseAddress!
                let (pdh, pdc, pg, ptc, pc, og) = (t, t + w, t + 2 * w, t + 6 * w, t + 7 * w, t + 8 * w)
                Kernels.padTail(dh, blocks: 1, hidden: hidden, from: j, width: w, into: pdh)
                if let dy { for u in 0..<(hidden - j) { pdh[u] += dy[j + u] } }
                Kernels.padTail(dc, blocks: 1, hidden: hidden, from: j, width: w, into: pdc)
                Kernels.padTail(savedGates, blocks: 4, hidden: hidden, from: j, width: w, into: pg)
                Kernels.padTail(savedTanhC, blocks: 1, hidden: hidden, from: j, width: w, into: ptc)
                Kernels.padTail(cPrev, blocks: 1, hidden: hidden, from: j, width: w, into: pc)
                lstmBackward(hidden: w, dh: pdh, dc: pdc, savedGates: pg, savedTanhC: ptc, cPrev: pc, dGates: og)
                (dc + j).update(from: pdc, count: tail)
                Kernels.unpadTail(og, blocks: 4, hidden: hidden, from: j, width: w, into: dGates)
            }
        }
    }

    // MARK: GRU

    /// GRU forward for one row: `r = σ(x_r + h_r + b_hr)`, `z = σ(x_z + h_z + b_hz)`,
    /// `n = tanh(x_n + r ⊙ (h_n + b_hn))`, `h = (1 - z) ⊙ n + z ⊙ hPrev`, also stored to
    /// `hState` when given (which may be `hPrev`: each unit is read before it is written).
    /// When `saved` is non-nil writes `[r | z | n | h_n + b_hn]` (4·hidden) for backward.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func gruForward<S: TensorScalar>(
        hidden: Int, xGates: UnsafePointer<S>, hGates: UnsafePointer<S>, biasHH: UnsafePointer<S>?,
        hPrev: UnsafePointer<S>, h: UnsafeMutablePointer<S>, hState: UnsafeMutablePointer<S>? = nil,
        saved: UnsafeMutablePointer<S>?
    ) {
        typealias V = S.Vector
        let w = V.scalarCount
        @inline(__always) func hiddenPart(_ gate: Int, _ j: Int) -> V {
            let k = gate &* hidden &+ j
            var value = Kernels.load(V.self, hGates + k)
            if let biasHH { value += Kernels.load(V.self, biasHH + k) }
            return value
        }
        var j = 0
        while j &+ w <= hidden {
            let r = VectorMath.sigmoid(Kernels.load(V.self, xGates + j) + hiddenPart(0, j))
            let z = VectorMath.sigmoid(Kernels.load(V.self, xGates + hidden + j) + hiddenPart(1, j))
            let hn = hiddenPart(2, j)
            var nPre = Kernels.load(V.self, xGates + 2 * hidden + j)
            nPre.multiplyAdd(r, hn)
            let n = VectorMath.tanh(nPre)
            let hp = Kernels.load(V.self, hPrev + j)
            var hNew = n
            hNew.multiplyAdd(z, hp - n)
            hNew.store(to: h + j)
            if let hState { hNew.store(to: hState + j) }
            if let saved {
                r.store(to: saved + j); z.store(to: saved + hidden + j)
                n.store(to: saved + 2 * hidden + j); hn.store(to: saved + 3 * hidden + j)
            }
            j &+= w
        }
        if j < hidden {
            let tail = hidden - j
            withUnsafeTemporaryAllocation(of: S.self, capacity: 15 * w) { buffer in
                let t = buffer.baseAddress!
                let (px, ph, pb, php, oh, os) = (t, t + 3 * w, t + 6 * w, t + 9 * w, t + 10 * w, t + 11 * w)
                Kernels.padTail(xGates, blocks: 3, hidden: hidden, from: j, width: w, into: px)
                Kernels.padTail(hGates, blocks: 3, hidden: hidden, from: j, width: w, into: ph)
                if let biasHH { Kernels.padTail(biasHH, blocks: 3, hidden: hidden, from: j, width: w, into: pb) }
                Kernels.padTail(hPrev, blocks: 1, hidden: hidden, from: j, width: w, into: php)
                gruForward(hidden: w, xGates: px, hGates: ph, biasHH: biasHH == nil ? nil : UnsafePointer(pb), hPrev: php,
                           h: oh, saved: saved == nil ? nil : os)
                (h + j).update(from: oh, count: tail)
                if let hState { (hState + j).update(from: oh, count: tail) }
                if let saved { Kernels.unpadTail(os, blocks: 4, hidden: hidden, from: j, width: w, into: saved) }
            }
        }
    }

    /// GRU backward for one row, for the gradient `dh + dy` reaching its `h` (`dy`, when given,
    /// from the layer's output). Writes the gradients of the hidden-side pre-activations
    /// `[dr | dz | r ⊙ dn]` to `dHGates` and the input side's `dn` to `dNInput` (the
    /// input side's `dr`, `dz` equal the hidden side's), and the direct part `z ⊙ dh` of the
    /// gradient for `hPrev` to `dhPrev`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func gruBackward<S: TensorScalar>(
        hidden: Int, dh: UnsafePointer<S>, dy: UnsafePointer<S>? = nil, saved: UnsafePointer<S>, hPrev: UnsafePointer<S>,
        dNInput: UnsafeMutablePointer<S>, dHGates: UnsafeMutablePointer<S>, dhPrev: UnsafeMutablePointer<S>
    ) {
        typealias V = S.Vector
        let w = V.scalarCount
        let one = V(repeating: 1)
        var j = 0
        while j &+ w <= hidden {
            let r = Kernels.load(V.self, saved + j), z = Kernels.load(V.self, saved + hidden + j)
            let n = Kernels.load(V.self, saved + 2 * hidden + j), hn = Kernels.load(V.self, saved + 3 * hidden + j)
            var dhv = Kernels.load(V.self, dh + j)
            if let dy { dhv += Kernels.load(V.self, dy + j) }
            let dnPre = dhv * (one - z) * (one - n * n)
            let drPre = dnPre * hn * r * (one - r)
            let dzPre = dhv * (Kernels.load(V.self, hPrev + j) - n) * z * (one - z)
            dnPre.store(to: dNInput + j)
            drPre.store(to: dHGates + j); dzPre.store(to: dHGates + hidden + j); (dnPre * r).store(to: dHGates + 2 * hidden + j)
            (dhv * z).store(to: dhPrev + j)
            j &+= w
        }
        if j < hidden {
            let tail = hidden - j
            withUnsafeTemporaryAllocation(of: S.self, capacity: 11 * w) { buffer in
                let t = buffer.baseAddress!
                let (pdh, ps, php, on, og, odh) = (t, t + w, t + 5 * w, t + 6 * w, t + 7 * w, t + 10 * w)
                Kernels.padTail(dh, blocks: 1, hidden: hidden, from: j, width: w, into: pdh)
                if let dy { for u in 0..<(hidden - j) { pdh[u] += dy[j + u] } }
                Kernels.padTail(saved, blocks: 4, hidden: hidden, from: j, width: w, into: ps)
                Kernels.padTail(hPrev, blocks: 1, hidden: hidden, from: j, width: w, into: php)
                gruBackward(hidden: w, dh: pdh, saved: ps, hPrev: php, dNInput: on, dHGates: og, dhPrev: odh)
                (dNInput + j).update(from: on, count: tail)
                Kernels.unpadTail(og, blocks: 3, hidden: hidden, from: j, width: w, into: dHGates)
                (dhPrev + j).update(from: odh, count: tail)
            }
        }
    }

    // MARK: Elman RNN

    /// RNN forward for one row: `h = act(x + h W_hhᵀ + b_hh)` with tanh, or ReLU when `relu`,
    /// also stored to `hState` when given.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func rnnForward<S: TensorScalar>(
        hidden: Int, relu: Bool, xGates: UnsafePointer<S>, hGates: UnsafePointer<S>, biasHH: UnsafePointer<S>?,
        h: UnsafeMutablePointer<S>, hState: UnsafeMutablePointer<S>? = nil
    ) {
        typealias V = S.Vector
        let w = V.scalarCount
        var j = 0
        while j &+ w <= hidden {
            var pre = Kernels.load(V.self, xGates + j) + Kernels.load(V.self, hGates + j)
            if let biasHH { pre += Kernels.load(V.self, biasHH + j) }
            let hNew = relu ? pointwiseMax(pre, V(repeating: 0)) : VectorMath.tanh(pre)
            hNew.store(to: h + j)
            if let hState { hNew.store(to: hState + j) }
            j &+= w
        }
        if j < hidden {
            let tail = hidden - j
            withUnsafeTemporaryAllocation(of: S.self, capacity: 4 * w) { buffer in
                let t = buffer.baseAddress!
                let (px, ph, pb, oh) = (t, t + w, t + 2 * w, t + 3 * w)
                Kernels.padTail(xGates, blocks: 1, hidden: hidden, from: j, width: w, into: px)
                Kernels.padTail(hGates, blocks: 1, hidden: hidden, from: j, width: w, into: ph)
                if let biasHH { Kernels.padTail(biasHH, blocks: 1, hidden: hidden, from: j, width: w, into: pb) }
                rnnForward(hidden: w, relu: relu, xGates: px, hGates: ph, biasHH: biasHH == nil ? nil : UnsafePointer(pb), h: oh)
                (h + j).update(from: oh, count: tail)
                if let hState { (hState + j).update(from: oh, count: tail) }
            }
        }
    }

    /// RNN backward for one row from the step's output `h`: the pre-activation gradient
    /// `g ⊙ (1 - h²)` (tanh) or `g ⊙ [h > 0]` (ReLU) for `g = dh + dy` (`dy`, when given, from
    /// the layer's output).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    @inlinable
    package static func rnnBackward<S: TensorScalar>(
        hidden: Int, relu: Bool, dh: UnsafePointer<S>, dy: UnsafePointer<S>? = nil, h: UnsafePointer<S>,
        dGates: UnsafeMutablePointer<S>
    ) {
        typealias V = S.Vector
        let w = V.scalarCount
        let zero = V(repeating: 0), one = V(repeating: 1)
        var j = 0
        while j &+ w <= hidden {
            var total = Kernels.load(V.self, dh + j)
            if let dy { total += Kernels.load(V.self, dy + j) }
            let hv = Kernels.load(V.self, h + j)
            (relu ? VectorMath.select(total, wherePositive: hv, otherwise: zero) : total * (one - hv * hv)).store(to: dGates + j)
            j &+= w
        }
        // The tail unit by unit: the same operations per lane (no fused multiply-add here).
        while j < hidden {
            let total = dy.map { dh[j] + $0[j] } ?? dh[j]
            dGates[j] = relu ? (h[j] > 0 ? total : 0) : total * (1 - h[j] * h[j])
            j += 1
        }
    }
}

extension Kernels {
    /// Copies units `j..<hidden` of each of the `blocks` gate blocks of a row (blocks of
    /// `hidden`) into `target` as blocks of `width` units, the rest of each block zero.
    @inlinable @inline(__always)
    package static func padTail<S: TensorScalar>(_ source: UnsafePointer<S>, blocks: Int, hidden: Int, from j: Int,
                                                 width: Int, into target: UnsafeMutablePointer<S>) {
        let tail = hidden - j
        for block in 0..<blocks {
            let destination = target + block * width
            destination.update(from: source + block * hidden + j, count: tail)
            (destination + tail).update(repeating: 0, count: width - tail)
        }
    }

    /// The inverse of `padTail`: writes the first `hidden - j` units of each block of `width`
    /// units in `source` to units `j..<hidden` of the blocks of `target`.
    @inlinable @inline(__always)
    package static func unpadTail<S: TensorScalar>(_ source: UnsafePointer<S>, blocks: Int, hidden: Int, from j: Int,
                                                   width: Int, into target: UnsafeMutablePointer<S>) {
        for block in 0..<blocks {
            (target + block * hidden + j).update(from: source + block * width, count: hidden - j)
        }
    }
}
