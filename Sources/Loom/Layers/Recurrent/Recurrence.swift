/// Any `RecurrentCell` run over variable-length batches (the generic counterpart of
/// `nn.LSTM`'s options): stacked layers, both directions, dropout between layers, batch-first
/// or time-first layout, initial states, padded input with lengths or a `PackedSequence`.
///
/// Each layer and direction has its own cell, made by the `makeCell` closure given to `init`
/// with the input size it reads. The sequences run packed: at step `t` only the sequences
/// longer than `t` go through the cell, the others keep their state, so a padded step
/// changes nothing and gets no gradient because it is not in the graph. The reverse
/// direction reads each sequence backward from its own last step. Parameters are named
/// `layers.{layer}.forward.*` and `layers.{layer}.reverse.*`, followed by the cell's own
/// names.
public struct Recurrence<Cell: RecurrentCell>: Module {
    public typealias Scalar = Cell.Scalar

    /// `cells[layer][direction]` (direction 0 forward, 1 reverse).
    public var cells: [[Cell]]
    /// Whether input and output are `[batch, time, features]` (else `[time, batch, features]`).
    public let batchFirst: Bool
    /// The dropout probability applied to each layer's output except the last, in training.
    public let dropout: Double
    /// Whether dropout is active (`train()` / `eval()` set it).
    public var training = true
    /// How each cell's step runs: captured into a program and replayed (the default, with
    /// op-by-op evaluation for a step the capture cannot express), or op by op.
    public var stepExecution: StepExecution = .captured
    /// The number of features per step of the input.
    public let inputSize: Int

    /// The number of stacked layers.
    public var numLayers: Int { cells.count }
    /// 2 when each layer also runs backward over every sequence, else 1.
    public var directions: Int { cells.first?.count ?? 1 }
    /// The number of features per step of the output, `directions · cell.outputSize`.
    public var outputSize: Int { directions * (cells.last?.first?.outputSize ?? 0) }

    /// A recurrence over inputs of `inputSize` features. `makeCell(inputSize, &generator)`
    /// is called once per layer and direction, in that order (layer 0 forward, layer 0
    /// reverse, layer 1 forward, ...); layers after the first read the previous layer's
    /// `directions · outputSize` features.
    public init(inputSize: Int, numLayers: Int = 1, bidirectional: Bool = false, dropout: Double = 0, batchFirst: Bool = false,
                using generator: inout RandomGenerator,
                makeCell: (_ inputSize: Int, _ generator: inout RandomGenerator) -> Cell) {
        checkShape(inputSize > 0 && numLayers > 0, "Recurrence: inputSize and numLayers must be positive, got \(inputSize), \(numLayers)")
        checkShape(dropout >= 0 && dropout <= 1, "Recurrence: dropout must be in [0, 1], got \(dropout)")
        var layers: [[Cell]] = []
        var size = inputSize
        for _ in 0..<numLayers {
            let layer = (0..<(bidirectional ? 2 : 1)).map { _ in makeCell(size, &generator) }
            size = layer.count * layer[0].outputSize
            layers.append(layer)
        }
        cells = layers
        self.inputSize = inputSize
        self.batchFirst = batchFirst
        self.dropout = dropout
    }

    /// Runs over a padded batch whose sequence `b` has `lengths[b]` real steps (any order,
    /// zero allowed). `input` is `[batch, time, inputSize]` when `batchFirst`, else
    /// `[time, batch, inputSize]`.
    ///
    /// - Parameters:
    ///   - input: the padded batch.
    ///   - lengths: the real length of each sequence, in batch order.
    ///   - initialStates: per layer and direction (index `layer · directions + direction`),
    ///     the state in batch order; `nil` for the cells' `zeroState`.
    ///   - generator: draws the dropout masks between layers.
    /// - Returns: the output in the input's layout with `outputSize` features, zeros past
    ///   each length; and per layer and direction, each sequence's final state in batch order
    ///   (its initial state for a zero length; for the reverse direction, the state after
    ///   reading back to step 0).
    /// - Throws: `SequenceLengthError` when the lengths do not fit the batch.
    public func callAsFunction(_ input: Tensor<Scalar>, lengths: [Int], initialStates: [[Tensor<Scalar>]]? = nil,
                               using generator: inout RandomGenerator) throws
        -> (output: Tensor<Scalar>, states: [[Tensor<Scalar>]]) {
        checkShape(input.rank == 3, "Recurrence expects a rank-3 padded input, got \(input.shape)")
        let time = batchFirst ? input.shape[1] : input.shape[0]
        let packed = try packPaddedSequence(input, lengths: lengths, batchFirst: batchFirst)
        let result = run(packed, initialStates: initialStates, using: &generator)
        return (padPackedSequence(result.output, batchFirst: batchFirst, totalLength: time).padded, result.states)
    }

    /// Runs over a packed batch and returns the output packed the same way, with the final
    /// states as for the padded form.
    public func callAsFunction(_ input: PackedSequence<Scalar>, initialStates: [[Tensor<Scalar>]]? = nil,
                               using generator: inout RandomGenerator) -> (output: PackedSequence<Scalar>, states: [[Tensor<Scalar>]]) {
        run(input, initialStates: initialStates, using: &generator)
    }

    private func run(_ input: PackedSequence<Scalar>, initialStates: [[Tensor<Scalar>]]?,
                     using generator: inout RandomGenerator) -> (output: PackedSequence<Scalar>, states: [[Tensor<Scalar>]]) {
        let batch = input.sortedIndices.count
        if let initialStates {
            checkShape(initialStates.count == numLayers * directions,
                       "Recurrence: \(initialStates.count) initial states for \(numLayers) layers × \(directions) directions")
        }
        let sorted = IntTensor(shape: [batch], scalars: input.sortedIndices)
        let unsorted = IntTensor(shape: [batch], scalars: input.unsortedIndices)
        var data = input.data
        var finalStates: [[Tensor<Scalar>]] = []
        for (layer, layerCells) in cells.enumerated() {
            var outputs: [Tensor<Scalar>] = []
            for (direction, cell) in layerCells.enumerated() {
                // States run in sorted order; the caller's come in batch order.
                let start = initialStates?[layer * directions + direction].map { $0.indexSelect(dim: 0, index: sorted) }
                    ?? cell.zeroState(batchSize: batch)
                let (output, final) = runDirection(cell, data, batchSizes: input.batchSizes, start: start, reversed: direction == 1)
                outputs.append(output)
                finalStates.append(final.map { $0.indexSelect(dim: 0, index: unsorted) })
            }
            data = outputs.count == 1 ? outputs[0] : Tensor.cat(outputs, dim: 1)
            if layer < numLayers - 1 && dropout > 0 && training {
                data = data.dropout(p: dropout, using: &generator)
            }
        }
        let output = PackedSequence(data: data, batchSizes: input.batchSizes, sortedIndices: input.sortedIndices,
                                    unsortedIndices: input.unsortedIndices)
        return (output, finalStates)
    }

    /// One layer and direction over packed rows: the captured step program when the cell's
    /// step can be captured (and `stepExecution` allows it), else op by op.
    private func runDirection(_ cell: Cell, _ data: Tensor<Scalar>, batchSizes: [Int], start: [Tensor<Scalar>], reversed: Bool)
        -> (Tensor<Scalar>, [Tensor<Scalar>]) {
        let fused = (cell as? any FusedStepCell)?.implementation == .fused
        if stepExecution == .captured, !fused, let first = batchSizes.first, first > 0 {
            let sample = data.detached().narrow(dim: 0, start: 0, length: first)
            let parameters = cell.parameters()
            switch StepProgram.capture(cell, parameters: parameters, input: sample,
                                       state: start.map { $0.detached().narrow(dim: 0, start: 0, length: first) }) {
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

    /// Whether every cell's step can be captured (see `StepExecution.captured`), found by
    /// capturing each cell's step on a batch of two zero rows; or the first reason one cannot.
    public func captureStatus() -> StepCaptureStatus {
        var result = StepCaptureStatus.captured(instructions: 0, hoisted: 0)
        var size = inputSize
        for (layer, layerCells) in cells.enumerated() {
            for (direction, cell) in layerCells.enumerated() {
                if (cell as? any FusedStepCell)?.implementation == .fused {
                    return .opByOp(reason: "the built-in cell's step is one fused op (set its implementation to .composed to capture it)")
                }
                let input = Tensor<Scalar>.zeros([2, size])
                switch StepProgram.capture(cell, parameters: cell.parameters(), input: input, state: cell.zeroState(batchSize: 2)) {
                case .success(let program):
                    if layer == 0 && direction == 0 {
                        let hoisted = program.instructions.indices.filter { program.runs($0, hoisted: true) }.count
                        let perStep = program.instructions.indices.filter { program.runs($0, hoisted: false) }.count
                        result = .captured(instructions: hoisted + perStep, hoisted: hoisted)
                    }
                case .failure(let failure):
                    return .opByOp(reason: "layer \(layer) \(direction == 0 ? "forward" : "reverse"): \(failure.reason)")
                }
            }
            size = layerCells.count * (layerCells.first?.outputSize ?? 0)
        }
        return result
    }

    /// The forward direction over packed rows: at step `t` the first `batchSizes[t]` rows (in
    /// sorted order) step; the rows that have ended are set aside with their final state.
    /// Returns the packed output and the final states in sorted order.
    private static func forward(_ cell: Cell, _ data: Tensor<Scalar>, batchSizes: [Int], start: [Tensor<Scalar>])
        -> (Tensor<Scalar>, [Tensor<Scalar>]) {
        let batch = start.first?.shape[0] ?? 0
        var state = start.map { $0.narrow(dim: 0, start: 0, length: batchSizes.first ?? 0) }
        // Rows that never step (length zero) and rows that have ended, from the last row up.
        var ended: [[Tensor<Scalar>]] = []
        if let first = batchSizes.first, first < batch {
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

    /// Visits every cell under `layers.{layer}.forward` / `layers.{layer}.reverse`, and the
    /// training flag.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        for layer in cells.indices {
            for direction in cells[layer].indices {
                visitor.module("layers.\(layer).\(direction == 0 ? "forward" : "reverse")", &cells[layer][direction])
            }
        }
        visitor.trainingFlag(&training)
    }
}
