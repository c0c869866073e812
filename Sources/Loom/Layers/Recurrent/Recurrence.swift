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
///
/// This is the engine of every recurrent layer: `LSTM`, `GRU` and `RNN` are `Recurrence`s
/// of built-in cells, which run as the fused recurrence op (one op per layer); any other
/// cell's step is captured and replayed (see `stepExecution`).
public struct Recurrence<Cell: RecurrentCell>: Module {
    /// The element type of the cells' tensors.
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
    /// op-by-op evaluation for a step the capture cannot express), or op by op. Built-in
    /// cells with `implementation: .fused` run as the fused recurrence op either way.
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
    ///   - generator: draws the dropout masks between layers (over the padded layout).
    /// - Returns: the output in the input's layout with `outputSize` features, zeros past
    ///   each length; and per layer and direction, each sequence's final state in batch order
    ///   (its initial state for a zero length; for the reverse direction, the state after
    ///   reading back to step 0).
    /// - Throws: `SequenceLengthError` when the lengths do not fit the batch.
    public func callAsFunction(_ input: Tensor<Scalar>, lengths: [Int], initialStates: [[Tensor<Scalar>]]? = nil,
                               using generator: inout RandomGenerator) throws
        -> (output: Tensor<Scalar>, states: [[Tensor<Scalar>]]) {
        checkShape(input.rank == 3, "Recurrence expects a rank-3 padded input, got \(input.shape)")
        let (batch, time) = batchFirst ? (input.shape[0], input.shape[1]) : (input.shape[1], input.shape[0])
        try SequenceLengthError.validate(lengths, batch: batch, time: time, in: "Recurrence")
        return run(input, layout: .padded(time: time, batchFirst: batchFirst), plan: StepPlan(lengths: lengths),
                   initialStates: initialStates, using: &generator)
    }

    /// Runs over a packed batch and returns the output packed the same way, with the final
    /// states as for the padded form. Dropout masks between layers are drawn over the packed
    /// rows.
    public func callAsFunction(_ input: PackedSequence<Scalar>, initialStates: [[Tensor<Scalar>]]? = nil,
                               using generator: inout RandomGenerator) -> (output: PackedSequence<Scalar>, states: [[Tensor<Scalar>]]) {
        let plan = StepPlan(lengths: input.lengths)
        checkShape(plan.order == input.sortedIndices && plan.batchSizes == input.batchSizes,
                   "Recurrence: the PackedSequence's order is not the one packing gives its lengths")
        let result = run(input.data, layout: .packed, plan: plan, initialStates: initialStates, using: &generator)
        return (PackedSequence(data: result.output, plan: plan), result.states)
    }

    /// Whether every cell's step can be captured (see `StepExecution.captured`), found by
    /// capturing each cell's step on a batch of two zero rows; or the first reason one cannot;
    /// `.fused` when the first layer's cells are built-in cells running the fused recurrence.
    public func captureStatus() -> StepCaptureStatus {
        var result = StepCaptureStatus.captured(instructions: 0, hoisted: 0)
        var size = inputSize
        for (layer, layerCells) in cells.enumerated() {
            defer { size = layerCells.count * (layerCells.first?.outputSize ?? 0) }
            if fusedLayer(layer) != nil {
                if layer == 0 { result = .fused }
                continue
            }
            for (direction, cell) in layerCells.enumerated() {
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
        }
        return result
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
