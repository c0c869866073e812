// The fused recurrence: one direction of one recurrent layer over a whole packed batch as
// a single tape op, with a hand-written backward through time. Per step it does one
// matrix product for the active rows (`h W_hhᵀ`) and one fused pointwise kernel per row;
// the input projection of all steps is a separate `linear` op over the packed rows. The
// composed cells (`CellWeights.step`) are the reference it is tested against.

/// The result of `recurrentSequence`.
public struct RecurrentSequenceResult<Scalar: TensorScalar> {
    /// The hidden state of every packed row, `[rowCount, hidden]`.
    public var output: Tensor<Scalar>
    /// Each sequence's final hidden state (its initial one for a zero length), `[batch, hidden]`.
    public var hN: Tensor<Scalar>
    /// Each sequence's final LSTM cell state, `[batch, hidden]`; `nil` for RNN and GRU.
    public var cN: Tensor<Scalar>?
}

/// Runs a recurrence over packed rows in one op.
///
/// - Parameters:
///   - mode: the recurrence (LSTM without projection, GRU, or RNN).
///   - projected: the input projection `x W_ihᵀ + b_ih` of every packed row, `[rowCount, G·H]`.
///   - plan: the step schedule the rows follow.
///   - h0: initial hidden states in batch order, `[batch, H]`.
///   - c0: initial LSTM cell states, `[batch, H]` (LSTM only).
///   - weightHH: `[G·H, H]`; `biasHH`: `[G·H]` or `nil`.
@_specialize(where Scalar == Float)
public func recurrentSequence<Scalar>(
    _ mode: RecurrentMode, projected: Tensor<Scalar>, plan: StepPlan, h0: Tensor<Scalar>, c0: Tensor<Scalar>?,
    weightHH: Tensor<Scalar>, biasHH: Tensor<Scalar>?
) -> RecurrentSequenceResult<Scalar> {
    let batch = plan.batch, rows = plan.rowCount
    let hidden = weightHH.shape[1], gates = weightHH.shape[0]
    checkShape(gates == mode.gateCount * hidden, "recurrentSequence: weightHH \(weightHH.shape) does not fit \(mode.layerName) with hidden \(hidden)")
    checkShape(projected.shape == [rows, gates], "recurrentSequence: projected \(projected.shape) should be [\(rows), \(gates)]")
    checkShape(h0.shape == [batch, hidden], "recurrentSequence: h0 \(h0.shape) should be [\(batch), \(hidden)]")
    checkShape((mode == .lstm) == (c0 != nil), "recurrentSequence: c0 is needed for an LSTM and only for it")
    if let c0 { checkShape(c0.shape == [batch, hidden], "recurrentSequence: c0 \(c0.shape) should be [\(batch), \(hidden)]") }
    if let biasHH { checkShape(biasHH.shape == [gates], "recurrentSequence: biasHH \(biasHH.shape) should be [\(gates)]") }

    var inputs = [projected, h0]
    if let c0 { inputs.append(c0) }
    inputs.append(weightHH)
    if let biasHH { inputs.append(biasHH) }
    let recording = Tensor.shouldRecord(inputs)
    let lstm = mode == .lstm
    let stateCount = batch * hidden
    // One result tensor: [output rows | hN | cN]; the three results are views into it.
    let combinedCount = rows * hidden + stateCount * (lstm ? 2 : 1)
    let saved = recording ? RecurrentSavedState<Scalar>(mode: mode, rows: rows, hidden: hidden) : nil

    let combined = Tensor<Scalar>(shape: [combinedCount]) { out in
        let y = out.baseAddress!, hOut = y + rows * hidden, cOut = hOut + stateCount
        let h = UnsafeMutablePointer<Scalar>.allocate(capacity: max(stateCount, 1))
        let c = UnsafeMutablePointer<Scalar>.allocate(capacity: max(stateCount, 1))
        let hGates = UnsafeMutablePointer<Scalar>.allocate(capacity: max((plan.batchSizes.first ?? 0) * gates, 1))
        defer { h.deallocate(); c.deallocate(); hGates.deallocate() }
        for (rank, b) in plan.order.enumerated() {
            (h + rank * hidden).update(from: h0.storage.base + b * hidden, count: hidden)
            if let c0 { (c + rank * hidden).update(from: c0.storage.base + b * hidden, count: hidden) }
        }
        let x = projected.storage.base, w = weightHH.storage.base, bias = biasHH.map { UnsafePointer($0.storage.base) }
        for (t, active) in plan.batchSizes.enumerated() {
            let base = plan.offsets[t]
            Kernels.gemm(transposeA: false, transposeB: true, m: active, n: gates, k: hidden,
                         h, lda: hidden, w, ldb: hidden, hGates, ldc: gates, accumulate: false)
            saved?.hPrev.base.advanced(by: base * hidden).update(from: h, count: active * hidden)
            if lstm { saved?.cPrev?.base.advanced(by: base * hidden).update(from: c, count: active * hidden) }
            for r in 0..<active {
                let row = base + r
                let xRow = x + row * gates, gRow = hGates + r * gates, yRow = y + row * hidden
                switch mode {
                case .lstm:
                    RecurrentKernels.lstmForward(hidden: hidden, xGates: xRow, hGates: gRow, biasHH: bias,
                                                 cPrev: c + r * hidden, c: c + r * hidden, h: yRow,
                                                 savedGates: saved.map { $0.gates.base + row * gates },
                                                 savedTanhC: saved?.tanhC.map { $0.base + row * hidden })
                case .gru:
                    RecurrentKernels.gruForward(hidden: hidden, xGates: xRow, hGates: gRow, biasHH: bias,
                                                hPrev: h + r * hidden, h: yRow, saved: saved.map { $0.gates.base + row * 4 * hidden })
                case .rnnTanh, .rnnRelu:
                    RecurrentKernels.rnnForward(hidden: hidden, relu: mode == .rnnRelu, xGates: xRow, hGates: gRow, biasHH: bias, h: yRow)
                }
                (h + r * hidden).update(from: yRow, count: hidden)
            }
        }
        for (rank, b) in plan.order.enumerated() {
            (hOut + b * hidden).update(from: h + rank * hidden, count: hidden)
            if lstm { (cOut + b * hidden).update(from: c + rank * hidden, count: hidden) }
        }
    }

    let recorded = combined.recorded("recurrentSequence(\(mode.layerName))", inputs: inputs) {
        let needs = inputs.map(\.requiresGrad)
        let w = weightHH.detached(), result = combined.detached()
        let saved = saved!
        return { g in
            recurrentSequenceBackward(mode, gradient: g, result: result, saved: saved, plan: plan, weightHH: w,
                                      hasBias: biasHH != nil, needs: needs)
        }
    }
    let output = recorded.narrow(dim: 0, start: 0, length: rows * hidden).reshaped([rows, hidden])
    let hN = recorded.narrow(dim: 0, start: rows * hidden, length: stateCount).reshaped([batch, hidden])
    let cN = lstm ? recorded.narrow(dim: 0, start: rows * hidden + stateCount, length: stateCount).reshaped([batch, hidden]) : nil
    return RecurrentSequenceResult(output: output, hN: hN, cN: cN)
}

/// What the forward pass keeps for backward, per packed row.
final class RecurrentSavedState<Scalar: TensorScalar>: @unchecked Sendable {
    /// LSTM: activated gates (4H); GRU: `[r | z | n | h_n + b_hn]` (4H); RNN: unused.
    let gates: TensorStorage<Scalar>
    /// The hidden state each row started from (H).
    let hPrev: TensorStorage<Scalar>
    /// LSTM: the cell state each row started from (H).
    let cPrev: TensorStorage<Scalar>?
    /// LSTM: tanh of the new cell state (H).
    let tanhC: TensorStorage<Scalar>?

    init(mode: RecurrentMode, rows: Int, hidden: Int) {
        let gateWidth = mode == .lstm || mode == .gru ? 4 * hidden : 0
        gates = TensorStorage(uninitializedCount: rows * gateWidth)
        hPrev = TensorStorage(uninitializedCount: rows * hidden)
        cPrev = mode == .lstm ? TensorStorage(uninitializedCount: rows * hidden) : nil
        tanhC = mode == .lstm ? TensorStorage(uninitializedCount: rows * hidden) : nil
    }
}

/// Backpropagation through time for `recurrentSequence`: walks the steps in reverse,
/// carrying the state gradients of the active rows, and finishes with one matrix product
/// each for `dW_hh` and `db_hh` over all packed rows.
// A client module calling `LSTM<Float>` generically reaches this function unspecialized;
// the attribute makes the generic entry jump to the Float specialization (about 3x faster
// training for the `loom` tool's tagger).
@_specialize(where Scalar == Float)
private func recurrentSequenceBackward<Scalar>(
    _ mode: RecurrentMode, gradient g: Tensor<Scalar>, result: Tensor<Scalar>, saved: RecurrentSavedState<Scalar>,
    plan: StepPlan, weightHH: Tensor<Scalar>, hasBias: Bool, needs: [Bool]
) -> [Tensor<Scalar>?] {
    let batch = plan.batch, rows = plan.rowCount
    let hidden = weightHH.shape[1], gates = weightHH.shape[0]
    let lstm = mode == .lstm, gru = mode == .gru
    let stateCount = batch * hidden
    let dy = g.storage.base, dhN = dy + rows * hidden, dcN = dhN + stateCount
    let w = weightHH.storage.base
    let y = result.storage.base

    // Gradients of the input-side gate pre-activations (= of `projected`), and for a GRU
    // the hidden-side ones, which differ in the n block.
    let dX = Tensor<Scalar>(shape: [rows, gates]) { _ in }
    let dHStorage = gru ? TensorStorage<Scalar>(uninitializedCount: rows * gates) : dX.storage
    let dHGates = dHStorage.base
    let dh = UnsafeMutablePointer<Scalar>.allocate(capacity: max(stateCount, 1))
    let dc = UnsafeMutablePointer<Scalar>.allocate(capacity: max(stateCount, 1))
    defer { dh.deallocate(); dc.deallocate() }
    for (rank, b) in plan.order.enumerated() {
        (dh + rank * hidden).update(from: dhN + b * hidden, count: hidden)
        if lstm { (dc + rank * hidden).update(from: dcN + b * hidden, count: hidden) }
    }
    for t in plan.batchSizes.indices.reversed() {
        let active = plan.batchSizes[t], base = plan.offsets[t]
        for r in 0..<active {
            let row = base + r
            let dhRow = dh + r * hidden
            Kernels.accumulate(dy + row * hidden, into: dhRow, count: hidden)
            switch mode {
            case .lstm:
                RecurrentKernels.lstmBackward(hidden: hidden, dh: dhRow, dc: dc + r * hidden,
                                              savedGates: saved.gates.base + row * gates, savedTanhC: saved.tanhC!.base + row * hidden,
                                              cPrev: saved.cPrev!.base + row * hidden, dGates: dX.storage.base + row * gates)
            case .gru:
                RecurrentKernels.gruBackward(hidden: hidden, dh: dhRow, saved: saved.gates.base + row * 4 * hidden,
                                             hPrev: saved.hPrev.base + row * hidden, dXGates: dX.storage.base + row * gates,
                                             dHGates: dHGates + row * gates, dhPrev: dhRow)
            case .rnnTanh, .rnnRelu:
                RecurrentKernels.rnnBackward(hidden: hidden, relu: mode == .rnnRelu, dh: dhRow, h: y + row * hidden,
                                             dGates: dX.storage.base + row * gates)
            }
        }
        // dh_prev = dGates_h · W_hh (plus the direct z ⊙ dh term a GRU already wrote).
        Kernels.gemm(transposeA: false, transposeB: false, m: active, n: hidden, k: gates,
                     dHGates + base * gates, lda: gates, w, ldb: hidden, dh, ldc: hidden, accumulate: gru)
    }

    var grads: [Tensor<Scalar>?] = [needs[0] ? dX : nil]
    grads.append(needs[1] ? Tensor(shape: [batch, hidden]) { out in
        for (rank, b) in plan.order.enumerated() { (out.baseAddress! + b * hidden).update(from: dh + rank * hidden, count: hidden) }
    } : nil)
    if lstm {
        grads.append(needs[2] ? Tensor(shape: [batch, hidden]) { out in
            for (rank, b) in plan.order.enumerated() { (out.baseAddress! + b * hidden).update(from: dc + rank * hidden, count: hidden) }
        } : nil)
    }
    let weightIndex = lstm ? 3 : 2
    grads.append(needs[weightIndex] ? Tensor(shape: [gates, hidden]) { out in
        Kernels.gemm(transposeA: true, transposeB: false, m: gates, n: hidden, k: rows,
                     dHGates, lda: gates, saved.hPrev.base, ldb: hidden, out.baseAddress!, ldc: hidden, accumulate: false)
    } : nil)
    if hasBias {
        grads.append(needs[weightIndex + 1] ? Tensor(shape: [gates]) { out in
            Kernels.sumMiddleAxis(dHGates, outer: 1, length: rows, inner: gates, out.baseAddress!)
        } : nil)
    }
    return grads
}
