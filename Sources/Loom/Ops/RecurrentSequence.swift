import Synchronization

// The fused recurrence: the directions of one recurrent layer over a whole batch as a
// single tape op, with a hand-written backward through time. Per step it does one matrix
// product for the active rows (`h W_hhᵀ`) and one fused pointwise kernel per row, which
// writes the row's hidden state straight into the layer output (padded or packed); the input
// projection of all steps is a separate `linear` op over the packed rows, or one product per
// chunk of steps just before them (`RecurrentDirectionInput.inputWeights`), whose gradients
// the op's backward then computes as that `linear` would.
// The composed cells (`CellWeights.step`) are the reference it is tested against.

/// The result of `recurrentSequence`.
package struct RecurrentSequenceResult<Scalar: TensorScalar> {
    /// The layer output in the requested layout: padded `[batch, time, D·H]` (batch-first)
    /// or `[time, batch, D·H]` with zeros past each sequence's length, or packed
    /// `[sum of lengths, D·H]`; the directions side by side (forward first).
    package var output: Tensor<Scalar>
    /// Per direction, each sequence's final hidden state (its initial one for a zero
    /// length), `[batch, H]`.
    package var hN: [Tensor<Scalar>]
    /// Per direction, each sequence's final LSTM cell state, `[batch, H]`; empty for RNN and GRU.
    package var cN: [Tensor<Scalar>]
}

/// The input weights of a recurrence that projects each step's input rows itself.
package struct RecurrentInputWeights<Scalar: TensorScalar> {
    /// `W_ih`, `[G·H, I]`.
    package var weight: Tensor<Scalar>
    /// `b_ih`, `[G·H]`, or `nil`.
    package var bias: Tensor<Scalar>?

    package init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?) {
        self.weight = weight
        self.bias = bias
    }
}

/// The inputs of one direction of a fused recurrence.
package struct RecurrentDirectionInput<Scalar: TensorScalar> {
    /// The input projection `x W_ihᵀ + b_ih` of every packed row, `[rowCount, G·H]`: in
    /// packed order, or in any order that `rowIndex` maps. With `inputWeights`, the input
    /// rows `x` themselves, `[rowCount, I]`.
    package var projected: Tensor<Scalar>
    /// When set, `projected` holds the unprojected input rows, multiplied by these weights a
    /// chunk of steps at a time just before those steps run, so each step's projection is read
    /// from cache rather than from a projection of the whole sequence in memory; the same
    /// products, so the same bits. The op then also records the weights, and its backward
    /// gives the gradients of the input rows, `W_ih` and `b_ih` with the products `linear`'s
    /// backward would run on the gate gradients (so those bits are the same too).
    package var inputWeights: RecurrentInputWeights<Scalar>?
    /// With `inputWeights` only: packed row `r`'s input is row `inputRows[r]` of `projected`
    /// (rows in any order, such as a padded batch's), copied into a small buffer a chunk of
    /// steps at a time just before they are projected, instead of gathered into a packed copy
    /// of the whole input first.
    package var inputRows: [Int]?
    /// When set, packed row `r` is row `rowIndex[r]` of `projected` (and its gradient goes
    /// there): a permutation of the rows in which each step's rows are evenly spaced, such
    /// as `StepPlan.paddedRows` of a batch whose sequences all have the full length. This lets
    /// a full-length batch be projected in its own layout, without gathering it first.
    package var rowIndex: [Int]?
    /// Initial hidden states in batch order, `[batch, H]`.
    package var h0: Tensor<Scalar>
    /// Initial LSTM cell states, `[batch, H]` (LSTM only, else `nil`).
    package var c0: Tensor<Scalar>?
    /// `[G·H, H]`.
    package var weightHH: Tensor<Scalar>
    /// `[G·H]` or `nil`.
    package var biasHH: Tensor<Scalar>?

    /// One direction's inputs.
    package init(projected: Tensor<Scalar>, inputWeights: RecurrentInputWeights<Scalar>? = nil, inputRows: [Int]? = nil,
                rowIndex: [Int]? = nil, h0: Tensor<Scalar>, c0: Tensor<Scalar>?, weightHH: Tensor<Scalar>, biasHH: Tensor<Scalar>?) {
        self.projected = projected
        self.inputWeights = inputWeights
        self.inputRows = inputRows
        self.rowIndex = rowIndex
        self.h0 = h0
        self.c0 = c0
        self.weightHH = weightHH
        self.biasHH = biasHH
    }

    /// The row of `projected` (and of the gate gradients, and of the saved previous
    /// states) that packed row `row` uses.
    @inline(__always)
    func gateRow(_ row: Int) -> Int { rowIndex?[row] ?? row }

    /// The distance in rows between consecutive rows of step `t` (1 in packed order).
    func rowStride(step t: Int, plan: StepPlan) -> Int {
        guard let rowIndex, plan.batchSizes[t] > 1 else { return 1 }
        return rowIndex[plan.offsets[t] + 1] - rowIndex[plan.offsets[t]]
    }

    /// The tensors in the order the op records them.
    var tensors: [Tensor<Scalar>] {
        [projected, h0] + (c0.map { [$0] } ?? []) + [weightHH] + (biasHH.map { [$0] } ?? [])
    }

    /// The input weights' tensors, recorded after `tensors` when the op projects the input.
    var inputWeightTensors: [Tensor<Scalar>] {
        inputWeights.map { [$0.weight] + ($0.bias.map { [$0] } ?? []) } ?? []
    }
}

/// Runs the directions of one recurrent layer over packed rows as a single tape op. The
/// directions are independent, so with more than one thread (`Threads.count`) they run
/// concurrently, forward and backward; each direction's arithmetic is the same either way,
/// so results are bitwise identical for any thread count.
///
/// Every direction follows the same step schedule `plan`; a reverse direction gets its
/// rows gathered in reverse per sequence (`layout.rows(plan, reversed: true)`), and every
/// direction writes its hidden states in `layout` (padded, or packed like its input).
///
/// Pre-specialized for `Float` and `Double`: called from generic layer code, an
/// unspecialized body would run every SIMD kernel through generic witnesses (two orders of
/// magnitude slower); the specialized bodies inline the kernels.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
package func recurrentSequence<Scalar>(
    _ mode: RecurrentMode, directions: [RecurrentDirectionInput<Scalar>], plan: StepPlan, layout: SequenceLayout
) -> RecurrentSequenceResult<Scalar> {
    let batch = plan.batch, rows = plan.rowCount
    if case .padded(let time, _) = layout {
        checkShape(time >= plan.batchSizes.count, "recurrentSequence: time \(time) is shorter than the longest sequence (\(plan.batchSizes.count))")
    }
    for direction in directions { checkDirection(mode, direction, plan: plan) }
    let hidden = directions[0].weightHH.shape[1]
    let lstm = mode == .lstm
    let stateCount = batch * hidden
    let width = directions.count * hidden
    let outputCount = layout.rowCount(plan) * width
    let stateBlock = stateCount * (lstm ? 2 : 1)
    // Where each packed row's hidden state goes in the output, per direction.
    let placements = directions.indices.map { d in
        (layout.rows(plan, reversed: d == 1) ?? Array(0..<rows)).map { $0 * width + d * hidden }
    }
    let inputs = directions.flatMap { $0.tensors + $0.inputWeightTensors }
    let recording = Tensor.shouldRecord(inputs)
    let saved = recording ? directions.map { _ in RecurrentSavedState<Scalar>(mode: mode, rows: rows, hidden: hidden) } : nil

    // The final states of every direction, `[hN | cN]` per direction, and the padded output,
    // written by the same pass.
    let statesValue = Tensor<Scalar>(shape: [stateBlock * directions.count]) { _ in }
    let outputValue = Tensor<Scalar>(shape: [outputCount]) { out in
        let output = out.baseAddress!
        // Every real step's row is written by every direction below; the padding rows (past
        // a sequence's length) are zero.
        if case .padded(let time, let batchFirst) = layout {
            for (b, length) in plan.lengths.enumerated() where length < time {
                for position in length..<time {
                    let row = plan.paddedRow(sequence: b, position: position, time: time, batchFirst: batchFirst)
                    (output + row * width).initialize(repeating: 0, count: width)
                }
            }
        }
        runDirections(directions.count) { d, threads in
            recurrentForward(mode, directions[d], plan: plan, saved: saved?[d], output: output, placement: placements[d],
                             states: statesValue.storage.base + d * stateBlock, threads: threads)
        }
    }

    // Two tape nodes, one backward: the states node runs backpropagation through time; the
    // output node, recorded after it (so the walk reaches it first), hands its gradient over
    // through `outputGradient` and passes zeros on to the states node, which therefore always
    // runs. Each result gets exactly its own gradient: no full-size zero gradient for the
    // output when only the final states are used, and no copies of the output.
    let outputGradient = PendingGradient<Scalar>()
    let states = statesValue.recorded("recurrentSequence(\(mode.layerName))", inputs: inputs) {
        let needs = directions.map { $0.tensors.map(\.requiresGrad) }
        let weights = directions.map { $0.weightHH.detached() }
        let hasBias = directions.map { $0.biasHH != nil }
        let output = outputValue.detached(), saved = saved!
        // Capture counts, not `directions`: holding it would keep every direction's input
        // projection alive until backward, for nothing. A direction that projects its input
        // itself keeps the input rows and `W_ih` instead.
        let directionCount = directions.count
        let rowIndices = directions.map(\.rowIndex)
        let projections = directions.map { d in
            d.inputWeights.map { RecurrentInputGradients(input: d.projected.detached(), inputRows: d.inputRows, weights: $0) }
        }
        return { g in
            let dOutput = outputGradient.take()
            var grads = [[Tensor<Scalar>?]](repeating: [], count: directionCount)
            var inputParameters = [(weight: Tensor<Scalar>?, bias: Tensor<Scalar>?)?](repeating: nil, count: directionCount)
            runDirections(directionCount) { d, threads in
                // The gate gradients are also needed for the gradients of a projection done here.
                var needsGates = needs[d]
                if let projection = projections[d] { needsGates[0] = needsGates[0] || projection.needsWeights }
                (grads[d], inputParameters[d]) = recurrentBackward(
                    mode, gradientOutput: dOutput.map { UnsafePointer($0.storage.base) }, gradientStates: g.storage.base + d * stateBlock,
                    output: output.storage.base, placement: placements[d], saved: saved[d], plan: plan, rowIndex: rowIndices[d],
                    weightHH: weights[d], hasBias: hasBias[d], needs: needsGates, projection: projections[d], threads: threads)
            }
            for d in 0..<directionCount {
                guard let projection = projections[d] else { continue }
                // The gate gradients in, the gradients of the input rows, W_ih and b_ih out
                // (recorded in that order: the input first, the weights last).
                let (input, weight, bias) = projection.gradients(gates: grads[d][0], inputNeedsGradient: needs[d][0],
                                                                 parameters: inputParameters[d])
                grads[d][0] = input
                grads[d] += projection.hasBias ? [weight, bias] : [weight]
            }
            return grads.flatMap { $0 }
        }
    }
    let output = outputValue.recorded("recurrentSequence(\(mode.layerName)).output", inputs: [states]) {
        let stateShape = statesValue.shape
        return { g in
            outputGradient.store(g)
            return [Tensor.zeros(stateShape)]
        }
    }
    let outputShape = layout.shape(plan, width: width)
    let starts = directions.indices.map { d in d * stateBlock }
    return RecurrentSequenceResult(
        output: output.reshaped(outputShape),
        hN: starts.map { states.narrow(dim: 0, start: $0, length: stateCount).reshaped([batch, hidden]) },
        cN: lstm ? starts.map { states.narrow(dim: 0, start: $0 + stateCount, length: stateCount).reshaped([batch, hidden]) } : [])
}

/// The gradient of `recurrentSequence`'s output, handed from the output's tape node to the
/// states' node, whose backward consumes it (nil when the output was not used).
final class PendingGradient<Scalar: TensorScalar>: Sendable {
    private let gradient = Mutex<Tensor<Scalar>?>(nil)

    func store(_ value: Tensor<Scalar>) { gradient.withLock { $0 = value } }

    func take() -> Tensor<Scalar>? { gradient.withLock { value in defer { value = nil }; return value } }
}

/// Runs `body(direction, threads)` for each direction: concurrently when Loom may use more
/// than one thread, each direction then getting its share of the threads for its matrix
/// products (which never changes their results).
private func runDirections(_ count: Int, _ body: (Int, Int) -> Void) {
    let threads = Threads.count
    if count > 1 && threads > 1 {
        Parallel.forEach(count) { d in body(d, max(1, threads / count)) }
    } else {
        for d in 0..<count { body(d, threads) }
    }
}

/// Runs the per-row pointwise work of one step, split over `threads` in fixed row ranges
/// when the step is large enough to pay for waking them (rows are independent, so the
/// split changes no result).
@inline(__always)
private func forEachRow(_ rows: Int, hidden: Int, threads: Int, _ body: (Int) -> Void) {
    if threads > 1 && rows > 1 && rows * hidden >= 8192 {
        let parts = Parallel.partition(count: rows, parts: threads)
        Parallel.forEach(parts.count) { part in
            for r in parts[part] { body(r) }
        }
    } else {
        for r in 0..<rows { body(r) }
    }
}

/// Whether `indices` holds each of `0..<indices.count` once.
private func isPermutation(_ indices: [Int]) -> Bool {
    var seen = [Bool](repeating: false, count: indices.count)
    for index in indices {
        guard index >= 0 && index < indices.count && !seen[index] else { return false }
        seen[index] = true
    }
    return true
}

/// Stops with a message naming the op if a direction's shapes do not fit `plan` and `mode`.
private func checkDirection<Scalar>(_ mode: RecurrentMode, _ d: RecurrentDirectionInput<Scalar>, plan: StepPlan) {
    let batch = plan.batch, rows = plan.rowCount
    let hidden = d.weightHH.shape[1], gates = d.weightHH.shape[0]
    checkShape(gates == mode.gateCount * hidden, "recurrentSequence: weightHH \(d.weightHH.shape) does not fit \(mode.layerName) with hidden \(hidden)")
    if let inputWeights = d.inputWeights {
        let weight = inputWeights.weight
        if let inputRows = d.inputRows {
            let count = d.projected.shape.first ?? 0
            checkShape(weight.rank == 2 && weight.shape[0] == gates && d.projected.rank == 2 && d.projected.shape[1] == weight.shape[1],
                       "recurrentSequence: input \(d.projected.shape) and weightIH \(weight.shape) should be [*, I] and [\(gates), I]")
            checkShape(d.rowIndex == nil && inputRows.count == rows && inputRows.allSatisfy { $0 >= 0 && $0 < count },
                       "recurrentSequence: inputRows must name \(rows) rows of the input, without a rowIndex")
        } else {
            checkShape(weight.rank == 2 && weight.shape[0] == gates && d.projected.shape == [rows, weight.shape[1]],
                       "recurrentSequence: input \(d.projected.shape) and weightIH \(weight.shape) should be [\(rows), I] and [\(gates), I]")
        }
        if let bias = inputWeights.bias { checkShape(bias.shape == [gates], "recurrentSequence: biasIH \(bias.shape) should be [\(gates)]") }
    } else {
        checkShape(d.inputRows == nil, "recurrentSequence: inputRows needs inputWeights")
        checkShape(d.projected.shape == [rows, gates], "recurrentSequence: projected \(d.projected.shape) should be [\(rows), \(gates)]")
    }
    if let rowIndex = d.rowIndex {
        checkShape(rowIndex.count == rows && isPermutation(rowIndex), "recurrentSequence: rowIndex must be a permutation of 0..<\(rows)")
        for t in plan.batchSizes.indices {
            let stride = d.rowStride(step: t, plan: plan), first = rowIndex[plan.offsets[t]]
            checkShape((0..<plan.batchSizes[t]).allSatisfy { rowIndex[plan.offsets[t] + $0] == first + $0 * stride },
                       "recurrentSequence: rowIndex must space the rows of each step evenly (step \(t) does not)")
        }
    }
    checkShape(d.h0.shape == [batch, hidden], "recurrentSequence: h0 \(d.h0.shape) should be [\(batch), \(hidden)]")
    checkShape((mode == .lstm) == (d.c0 != nil), "recurrentSequence: c0 is needed for an LSTM and only for it")
    if let c0 = d.c0 { checkShape(c0.shape == [batch, hidden], "recurrentSequence: c0 \(c0.shape) should be [\(batch), \(hidden)]") }
    if let biasHH = d.biasHH { checkShape(biasHH.shape == [gates], "recurrentSequence: biasHH \(biasHH.shape) should be [\(gates)]") }
}

/// The forward pass of one direction: packed row `row` writes its hidden state at
/// `output + placement[row]`; the final states go to `states` (`[hN | cN]`).
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
private func recurrentForward<Scalar>(
    _ mode: RecurrentMode, _ d: RecurrentDirectionInput<Scalar>, plan: StepPlan, saved: RecurrentSavedState<Scalar>?,
    output: UnsafeMutablePointer<Scalar>, placement: [Int], states: UnsafeMutablePointer<Scalar>, threads: Int
) {
    let batch = plan.batch
    let hidden = d.weightHH.shape[1], gates = d.weightHH.shape[0]
    let lstm = mode == .lstm
    let stateCount = batch * hidden
    let hOut = states, cOut = states + stateCount
    let h = UnsafeMutablePointer<Scalar>.allocate(capacity: max(stateCount, 1))
    let c = UnsafeMutablePointer<Scalar>.allocate(capacity: max(stateCount, 1))
    let hGates = UnsafeMutablePointer<Scalar>.allocate(capacity: max((plan.batchSizes.first ?? 0) * gates, 1))
    // With input weights, each chunk of steps has its rows projected into `stepGates` just
    // before its first step; `chunkEnd` is the step after it, `chunkBase` its first packed row.
    let stepProjection = d.inputWeights.map { StepProjection(weights: $0, plan: plan, gathers: d.inputRows != nil) }
    let stepGates = stepProjection?.gates
    defer { h.deallocate(); c.deallocate(); hGates.deallocate(); stepProjection?.deallocate() }
    for (rank, b) in plan.order.enumerated() {
        (h + rank * hidden).update(from: d.h0.storage.base + b * hidden, count: hidden)
        if let c0 = d.c0 { (c + rank * hidden).update(from: c0.storage.base + b * hidden, count: hidden) }
    }
    let x = d.projected.storage.base, w = d.weightHH.storage.base, bias = d.biasHH.map { UnsafePointer($0.storage.base) }
    // W_hhᵀ is packed once for all the steps, and kept with the weight's storage from its
    // second use on, so a cell run one step at a time packs it once per weight update.
    let packedW = d.weightHH.storage.packedRightOperand(transposed: true, k: hidden, n: gates)
        ?? GemmPackedB(w, ldb: hidden, transposed: true, k: hidden, n: gates)
    // The saved state's memory, read once here rather than through its storages at every row.
    let savedGates = saved?.gates.base, savedTanhC = saved?.tanhC?.base
    let savedHPrev = saved?.hPrev.base, savedCPrev = saved?.cPrev?.base
    var chunkEnd = 0, chunkBase = 0
    for (t, active) in plan.batchSizes.enumerated() {
        let base = plan.offsets[t]
        if let stepProjection, t == chunkEnd {
            chunkEnd = stepProjection.chunkEnd(from: t, d, plan: plan)
            chunkBase = base
            stepProjection.project(steps: t, to: chunkEnd, d, plan: plan, threads: threads)
        }
        let chunkRow = base - chunkBase
        Kernels.gemmPrepacked(transposeA: false, m: active, h, lda: hidden, packedW, hGates, ldc: gates,
                              accumulate: false, threads: threads)
        if let savedHPrev {
            for r in 0..<active { (savedHPrev + d.gateRow(base + r) * hidden).update(from: h + r * hidden, count: hidden) }
        }
        if lstm { savedCPrev?.advanced(by: base * hidden).update(from: c, count: active * hidden) }
        forEachRow(active, hidden: hidden, threads: threads) { r in
            let row = base + r
            let xRow = stepGates.map { $0 + (chunkRow + r) * gates } ?? x + d.gateRow(row) * gates
            // The new h goes to the output row and to the state rows the next step's product reads.
            let gRow = hGates + r * gates, yRow = output + placement[row], hRow = h + r * hidden
            switch mode {
            case .lstm:
                RecurrentKernels.lstmForward(hidden: hidden, xGates: xRow, hGates: gRow, biasHH: bias,
                                             cPrev: c + r * hidden, c: c + r * hidden, h: yRow, hState: hRow,
                                             savedGates: savedGates.map { $0 + row * gates },
                                             savedTanhC: savedTanhC.map { $0 + row * hidden })
            case .gru:
                RecurrentKernels.gruForward(hidden: hidden, xGates: xRow, hGates: gRow, biasHH: bias,
                                            hPrev: hRow, h: yRow, hState: hRow, saved: savedGates.map { $0 + row * 4 * hidden })
            case .rnnTanh, .rnnRelu:
                RecurrentKernels.rnnForward(hidden: hidden, relu: mode == .rnnRelu, xGates: xRow, hGates: gRow, biasHH: bias,
                                            h: yRow, hState: hRow)
            }
        }
    }
    for (rank, b) in plan.order.enumerated() {
        (hOut + b * hidden).update(from: h + rank * hidden, count: hidden)
        if lstm { (cOut + b * hidden).update(from: c + rank * hidden, count: hidden) }
    }
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

/// Backpropagation through time for one direction of `recurrentSequence`: walks the steps in reverse,
/// carrying the state gradients of the active rows, and finishes with one matrix product
/// for `dW_hh` and `db_hh` over all packed rows. When the op did the input projection
/// (`projection`) and both `W_ih` and `W_hh` need gradients from the same gate gradients (not
/// a GRU's, whose input side differs), that product also gives `dW_ih` and `db_ih` (returned
/// apart from the op's gradients); else `projection.gradients` computes them afterwards.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
private func recurrentBackward<Scalar>(
    _ mode: RecurrentMode, gradientOutput dy: UnsafePointer<Scalar>?, gradientStates: UnsafePointer<Scalar>,
    output y: UnsafePointer<Scalar>, placement: [Int], saved: RecurrentSavedState<Scalar>,
    plan: StepPlan, rowIndex: [Int]?, weightHH: Tensor<Scalar>, hasBias: Bool, needs: [Bool],
    projection: RecurrentInputGradients<Scalar>?, threads: Int
) -> (gradients: [Tensor<Scalar>?], inputParameters: (weight: Tensor<Scalar>?, bias: Tensor<Scalar>?)?) {
    // Gate gradients and saved previous states live in the rows of `projected` (see
    // `RecurrentDirectionInput.rowIndex`); each step's rows are evenly spaced there.
    @inline(__always) func gateRow(_ row: Int) -> Int { rowIndex?[row] ?? row }
    let batch = plan.batch, rows = plan.rowCount
    let hidden = weightHH.shape[1], gates = weightHH.shape[0]
    let lstm = mode == .lstm, gru = mode == .gru
    let stateCount = batch * hidden
    let dhN = gradientStates, dcN = gradientStates + stateCount
    let w = weightHH.storage.base

    // Gradients of the hidden-side gate pre-activations. For LSTM and RNN they are also the
    // input side's (= of `projected`); a GRU's input side differs in the n block only, kept
    // apart in `dNInput` and copied in once `dW_hh` and `db_hh` are done.
    let dX = Tensor<Scalar>(shape: [rows, gates]) { _ in }
    let dHGates = dX.storage.base
    let dNInput = gru ? UnsafeMutablePointer<Scalar>.allocate(capacity: max(rows * hidden, 1)) : nil
    defer { dNInput?.deallocate() }
    let dh = UnsafeMutablePointer<Scalar>.allocate(capacity: max(stateCount, 1))
    let dc = UnsafeMutablePointer<Scalar>.allocate(capacity: max(stateCount, 1))
    defer { dh.deallocate(); dc.deallocate() }
    for (rank, b) in plan.order.enumerated() {
        (dh + rank * hidden).update(from: dhN + b * hidden, count: hidden)
        if lstm { (dc + rank * hidden).update(from: dcN + b * hidden, count: hidden) }
    }
    // W_hh is packed once for all the steps (and kept with the storage, as in forward).
    let packedW = weightHH.storage.packedRightOperand(transposed: false, k: gates, n: hidden)
        ?? GemmPackedB(w, ldb: hidden, transposed: false, k: gates, n: hidden)
    // The saved state's memory, read once here rather than through its storages at every row.
    let savedGates = saved.gates.base, savedHPrev = saved.hPrev.base
    let savedTanhC = saved.tanhC?.base, savedCPrev = saved.cPrev?.base
    for t in plan.batchSizes.indices.reversed() {
        let active = plan.batchSizes[t], base = plan.offsets[t]
        forEachRow(active, hidden: hidden, threads: threads) { r in
            let row = base + r
            let dhRow = dh + r * hidden, dyRow = dy.map { $0 + placement[row] }
            switch mode {
            case .lstm:
                RecurrentKernels.lstmBackward(hidden: hidden, dh: dhRow, dy: dyRow, dc: dc + r * hidden,
                                              savedGates: savedGates + row * gates, savedTanhC: savedTanhC! + row * hidden,
                                              cPrev: savedCPrev! + row * hidden, dGates: dHGates + gateRow(row) * gates)
            case .gru:
                RecurrentKernels.gruBackward(hidden: hidden, dh: dhRow, dy: dyRow, saved: savedGates + row * 4 * hidden,
                                             hPrev: savedHPrev + gateRow(row) * hidden, dNInput: dNInput! + row * hidden,
                                             dHGates: dHGates + gateRow(row) * gates, dhPrev: dhRow)
            case .rnnTanh, .rnnRelu:
                RecurrentKernels.rnnBackward(hidden: hidden, relu: mode == .rnnRelu, dh: dhRow, dy: dyRow, h: y + placement[row],
                                             dGates: dHGates + gateRow(row) * gates)
            }
        }
        // dh_prev = dGates_h · W_hh (plus the direct z ⊙ dh term a GRU already wrote).
        let stride = active > 1 ? gateRow(base + 1) - gateRow(base) : 1
        Kernels.gemmPrepacked(transposeA: false, m: active, dHGates + gateRow(base) * gates, lda: stride * gates, packedW, dh, ldc: hidden,
                              accumulate: gru, threads: threads)
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
    var inputParameters: (weight: Tensor<Scalar>?, bias: Tensor<Scalar>?)?
    if let projection, !gru, projection.needsWeight, needs[weightIndex] {
        let x = projection.rowsInGateOrder()
        let shared = withExtendedLifetime(x) {
            linearParameterGradients(UnsafePointer(dHGates), sharedBy: saved.hPrev.base, inFeatures1: hidden,
                                     UnsafePointer(x.storage.base), inFeatures2: x.shape[1], rows: rows, outFeatures: gates,
                                     bias1: hasBias && needs[weightIndex + 1], bias2: projection.hasBias && projection.needsBias)
        }
        grads.append(shared.weight1)
        if hasBias { grads.append(shared.bias1) }
        inputParameters = (shared.weight2, shared.bias2)
    } else {
        let (dW, dB) = linearParameterGradients(UnsafePointer(dHGates), saved.hPrev.base, rows: rows, outFeatures: gates,
                                                inFeatures: hidden, weight: needs[weightIndex], bias: hasBias && needs[weightIndex + 1])
        grads.append(dW)
        if hasBias { grads.append(dB) }
    }
    if let dNInput {
        // The hidden-side gradients have served; turn them into the input side's.
        for row in 0..<rows {
            (dHGates + gateRow(row) * gates + 2 * hidden).update(from: dNInput + row * hidden, count: hidden)
        }
    }
    return (grads, inputParameters)
}
