// How `Recurrence` runs its layers. The batch is described by its step schedule
// (`StepPlan`) and lives in one of two layouts: the caller's padded tensor or packed rows.
// Each layer runs all its directions one of three ways:
//
// - built-in cells with their fused implementation (`RNNCell`, `LSTMCell`, `GRUCell`
//   without projection): one fused recurrence op for the whole layer, which reads and
//   writes the layout the batch is in, so a padded batch is never packed and a packed one
//   never padded;
// - any other cell whose step can be captured: a captured step program replayed over the
//   packed rows, one tape op per direction;
// - otherwise: the cell's ops step by step over the packed rows, each on the tape.
//
// Dropout between layers draws its mask over the caller's layout, so every way of running a
// layer sees the same mask for the same generator.

extension Recurrence {
    /// Runs every layer over `input` (in `layout`, with `plan`'s lengths). Returns the
    /// output in `layout` and the final states per layer and direction, in batch order.
    func run(_ input: Tensor<Scalar>, layout: SequenceLayout, plan: StepPlan, initialStates: [[Tensor<Scalar>]]?,
             using generator: inout RandomGenerator) -> (output: Tensor<Scalar>, states: [[Tensor<Scalar>]]) {
        if let initialStates {
            checkShape(initialStates.count == numLayers * directions,
                       "Recurrence: \(initialStates.count) initial states for \(numLayers) layers × \(directions) directions")
        }
        // `data` is in `layout` or, once a layer has run on packed rows, packed.
        var data = input, isPacked = layout == .packed
        var finalStates: [[Tensor<Scalar>]] = []
        for layer in cells.indices {
            let starts = cells[layer].indices.map { direction in
                initialStates?[layer * directions + direction] ?? cells[layer][direction].zeroState(batchSize: plan.batch)
            }
            if let fused = fusedLayer(layer) {
                let result = runFused(fused.mode, weights: fused.weights, data, layout: isPacked ? .packed : layout, plan: plan,
                                      starts: starts)
                data = result.output
                finalStates += result.states
            } else {
                if !isPacked {
                    data = Self.pack(data, layout: layout, plan: plan)
                    isPacked = true
                }
                let result = runPacked(layer, data, plan: plan, starts: starts)
                data = result.output
                finalStates += result.states
            }
            if layer < numLayers - 1 && dropout > 0 && training {
                if isPacked && layout != .packed {
                    data = Self.pack(Self.pad(data, layout: layout, plan: plan).dropout(p: dropout, using: &generator),
                                     layout: layout, plan: plan)
                } else {
                    data = data.dropout(p: dropout, using: &generator)
                }
            }
        }
        return (isPacked && layout != .packed ? Self.pad(data, layout: layout, plan: plan) : data, finalStates)
    }

    /// The packed rows of `data`, a padded batch in `layout`.
    static func pack(_ data: Tensor<Scalar>, layout: SequenceLayout, plan: StepPlan) -> Tensor<Scalar> {
        guard case .padded(_, let batchFirst) = layout else { return data }
        return PackedSequence(padded: data, plan: plan, batchFirst: batchFirst).data
    }

    /// Packed rows `data` written out in the padded `layout`, zeros past each length.
    static func pad(_ data: Tensor<Scalar>, layout: SequenceLayout, plan: StepPlan) -> Tensor<Scalar> {
        guard case .padded(let time, let batchFirst) = layout else { return data }
        return padPackedSequence(PackedSequence(data: data, plan: plan), batchFirst: batchFirst, totalLength: time).padded
    }

    /// The recurrence and weights of every direction of `layer` when all its cells run the
    /// fused recurrence, else `nil`.
    func fusedLayer(_ layer: Int) -> (mode: RecurrentMode, weights: [CellWeights<Scalar>])? {
        var mode = RecurrentMode.lstm, weights: [CellWeights<Scalar>] = []
        for cell in cells[layer] {
            // The cast to the unconstrained existential is answered from the runtime's
            // conformance cache; one to `any FusedStepCell<Scalar>` checks the constraint anew
            // on every call, which costs a small model a percent of its step.
            guard let fused = cell as? any FusedStepCell, fused.runsFused, let cellWeights = fused.weights(of: Scalar.self)
            else { return nil }
            mode = fused.recurrentMode
            weights.append(cellWeights)
        }
        return (mode, weights)
    }

    /// One layer through the fused recurrence op: each direction's input projection is one
    /// product over its rows (read in place through a row index when every sequence has the
    /// full length, else gathered first), or one per chunk of steps inside the op (rows read
    /// in place, or copied chunk by chunk); then one op runs every direction and writes the
    /// output in `layout`.
    private func runFused(_ mode: RecurrentMode, weights: [CellWeights<Scalar>], _ data: Tensor<Scalar>, layout: SequenceLayout,
                          plan: StepPlan, starts: [[Tensor<Scalar>]]) -> (output: Tensor<Scalar>, states: [[Tensor<Scalar>]]) {
        // Every row of the layout is a real step, and every step has the whole batch.
        let isFullLength = layout.rowCount(plan) == plan.rowCount && plan.batchSizes.allSatisfy { $0 == plan.batch }
        let flat = data.reshaped([layout.rowCount(plan), data.shape[data.rank - 1]])
        let stepwise = Self.projectsStepwise(weights: weights, plan: plan)
        let inputs = weights.indices.map { direction in
            let rows = layout.rows(plan, reversed: direction == 1)
            let input: Tensor<Scalar>, rowIndex: [Int]?, inputRows: [Int]?
            if let rows, !isFullLength {
                // Projected a chunk at a time, the rows are copied chunk by chunk; else gathered now.
                (input, rowIndex, inputRows) = stepwise ? (flat, nil, rows) : (flat.indexSelect(dim: 0, index: IntTensor(rows)), nil, nil)
            } else {
                (input, rowIndex, inputRows) = (flat, rows, nil)
            }
            let projected = stepwise ? input : weights[direction].projectInput(input)
            let inputWeights = stepwise ? RecurrentInputWeights(weight: weights[direction].weightIH, bias: weights[direction].biasIH) : nil
            return RecurrentDirectionInput(projected: projected, inputWeights: inputWeights, inputRows: inputRows, rowIndex: rowIndex,
                                           h0: starts[direction][0],
                                           c0: mode == .lstm ? starts[direction][1] : nil,
                                           weightHH: weights[direction].weightHH, biasHH: weights[direction].biasHH)
        }
        let result = recurrentSequence(mode, directions: inputs, plan: plan, layout: layout)
        let states = weights.indices.map { d in mode == .lstm ? [result.hN[d], result.cN[d]] : [result.hN[d]] }
        return (result.output, states)
    }

    /// Whether the fused recurrence projects the input rows a chunk of steps at a time, just
    /// before those steps, rather than all rows up front (with gradient, the op's backward
    /// then runs the projection's): `StepwiseProjection.chunks` for the whole projection
    /// (`plan.rowCount` x G·H per direction) and `W_ih` (lstm-large's 4 MB `W_ih` at 32 rows a
    /// step keeps one product: 4% slower by chunks). Either way the products and their bits
    /// are the same.
    static func projectsStepwise(weights: [CellWeights<Scalar>], plan: StepPlan) -> Bool {
        let gates = weights[0].weightIH.shape[0], inputSize = weights[0].weightIH.shape[1]
        let size = MemoryLayout<Scalar>.size
        return StepwiseProjection.chunks(bytes: plan.rowCount * gates * size, rows: plan.rowCount, steps: plan.batchSizes.count,
                                         weightBytes: gates * inputSize * size)
    }

    /// One layer over packed rows, direction by direction, as captured step programs or op
    /// by op; the directions' outputs side by side.
    private func runPacked(_ layer: Int, _ data: Tensor<Scalar>, plan: StepPlan, starts: [[Tensor<Scalar>]])
        -> (output: Tensor<Scalar>, states: [[Tensor<Scalar>]]) {
        // States run in packing's sorted order; the caller's come in batch order.
        let sorted = IntTensor(shape: [plan.batch], scalars: plan.order)
        let unsorted = IntTensor(shape: [plan.batch], scalars: plan.ranks)
        var outputs: [Tensor<Scalar>] = [], states: [[Tensor<Scalar>]] = []
        for (direction, cell) in cells[layer].enumerated() {
            let start = starts[direction].map { $0.indexSelect(dim: 0, index: sorted) }
            let (output, final) = runDirection(cell, data, batchSizes: plan.batchSizes, start: start, reversed: direction == 1)
            outputs.append(output)
            states.append(final.map { $0.indexSelect(dim: 0, index: unsorted) })
        }
        return (outputs.count == 1 ? outputs[0] : Tensor.cat(outputs, dim: 1), states)
    }

    /// One layer and direction over packed rows: the captured step program when the cell's
    /// step can be captured (and `stepExecution` allows it), else op by op.
    private func runDirection(_ cell: Cell, _ data: Tensor<Scalar>, batchSizes: [Int], start: [Tensor<Scalar>], reversed: Bool)
        -> (Tensor<Scalar>, [Tensor<Scalar>]) {
        if stepExecution == .captured, let first = batchSizes.first, first > 0 {
            // The step is captured on (at most) two rows: the capture's results are discarded,
            // and two rows are enough to tell a value of each row from one reduced over rows.
            let sampleRows = Swift.min(first, 2)
            let sample = data.detached().narrow(dim: 0, start: 0, length: sampleRows)
            let parameters = cell.parameters()
            switch StepProgram.capture(cell, parameters: parameters, input: sample,
                                       state: start.map { $0.detached().narrow(dim: 0, start: 0, length: sampleRows) }) {
            case .success(let program):
                return capturedSequence(program, parameters: parameters, data: data, batchSizes: batchSizes,
                                        batch: start.first?.shape[0] ?? first, reversed: reversed, start: start)
            case .failure(let failure):
                warnStepCaptureFallback(cell: Cell.self, reason: failure.reason)
            }
        }
        return reversed ? Self.reverse(cell, data, batchSizes: batchSizes, start: start)
                        : Self.forward(cell, data, batchSizes: batchSizes, start: start)
    }

    /// The forward direction over packed rows: at step `t` the first `batchSizes[t]` rows (in
    /// sorted order) step; the rows that have ended are set aside with their final state.
    /// Returns the packed output and the final states in sorted order.
    private static func forward(_ cell: Cell, _ data: Tensor<Scalar>, batchSizes: [Int], start: [Tensor<Scalar>])
        -> (Tensor<Scalar>, [Tensor<Scalar>]) {
        let batch = start.first?.shape[0] ?? 0
        let first = batchSizes.first ?? 0
        var state = start.map { $0.narrow(dim: 0, start: 0, length: first) }
        // Rows that never step (length zero) and rows that have ended, from the last row up.
        var ended: [[Tensor<Scalar>]] = []
        if first < batch {
            ended.append(start.map { $0.narrow(dim: 0, start: first, length: batch - first) })
        }
        var outputs: [Tensor<Scalar>] = []
        var offset = 0
        for active in batchSizes {
            if active < state[0].shape[0] {
                let running = state[0].shape[0]
                ended.append(state.map { $0.narrow(dim: 0, start: active, length: running - active) })
                state = state.map { $0.narrow(dim: 0, start: 0, length: active) }
            }
            let step = cell(data.narrow(dim: 0, start: offset, length: active), state: state)
            outputs.append(step.output)
            state = step.state
            offset += active
        }
        let final = state.indices.map { i in Tensor.cat([state[i]] + ended.reversed().map { $0[i] }, dim: 0) }
        return (outputs.isEmpty ? Tensor.zeros([0, cell.outputSize]) : Tensor.cat(outputs, dim: 0), final)
    }

    /// The reverse direction: steps from the last down to 0; a sequence joins with its
    /// initial state at its own last step, so each one is read backward from its end.
    private static func reverse(_ cell: Cell, _ data: Tensor<Scalar>, batchSizes: [Int], start: [Tensor<Scalar>])
        -> (Tensor<Scalar>, [Tensor<Scalar>]) {
        let batch = start.first?.shape[0] ?? 0
        var offsets: [Int] = []
        var total = 0
        for active in batchSizes { offsets.append(total); total += active }
        var state: [Tensor<Scalar>] = start.map { $0.narrow(dim: 0, start: 0, length: 0) }
        var outputs = [Tensor<Scalar>](repeating: Tensor.zeros([0, cell.outputSize]), count: batchSizes.count)
        for t in batchSizes.indices.reversed() {
            let active = batchSizes[t], running = state[0].shape[0]
            if active > running {
                state = state.indices.map { i in
                    Tensor.cat([state[i], start[i].narrow(dim: 0, start: running, length: active - running)], dim: 0)
                }
            }
            let step = cell(data.narrow(dim: 0, start: offsets[t], length: active), state: state)
            outputs[t] = step.output
            state = step.state
        }
        let stepped = state[0].shape[0]
        let final = state.indices.map { i in
            stepped < batch ? Tensor.cat([state[i], start[i].narrow(dim: 0, start: stepped, length: batch - stepped)], dim: 0) : state[i]
        }
        return (outputs.isEmpty ? Tensor.zeros([0, cell.outputSize]) : Tensor.cat(outputs, dim: 0), final)
    }
}
