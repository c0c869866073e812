/// The sizes and switches of a recurrent layer, with PyTorch's meanings and defaults.
public struct RecurrentConfiguration: Sendable, Equatable {
    /// The size of each input step's features.
    public var inputSize: Int
    /// The size of the hidden (and, for an LSTM, cell) state.
    public var hiddenSize: Int
    /// The number of stacked layers.
    public var numLayers: Int = 1
    /// Whether the layers have `bias_ih` / `bias_hh`.
    public var bias: Bool = true
    /// Whether input and output are `[batch, time, features]` (else `[time, batch, features]`).
    public var batchFirst: Bool = false
    /// The dropout probability applied to each layer's output except the last, in training.
    public var dropout: Double = 0
    /// Whether each layer also runs backward over every sequence.
    public var bidirectional: Bool = false
    /// LSTM only: the size of the projected hidden state (0 for none).
    public var projSize: Int = 0

    /// The number of directions (1 or 2).
    public var directions: Int { bidirectional ? 2 : 1 }
    /// The size of the hidden state a step outputs (`projSize` if set, else `hiddenSize`).
    public var outputSize: Int { projSize > 0 ? projSize : hiddenSize }
}

/// How a recurrent layer computes its steps. Both give the same results to rounding.
public enum RecurrentImplementation: Sendable, Equatable {
    /// One fused op per layer and direction over the packed rows, with a hand-written
    /// backward through time: the fast path, and the default.
    case fused
    /// Step by step from the generic ops (`CellWeights.step`), every op on the tape: the
    /// reference the fused path is checked against. LSTM projections always use it.
    case composed
}

/// The recurrent engine behind `RNN`, `LSTM` and `GRU`: stacked layers, both directions,
/// variable lengths, dropout between layers.
struct RecurrentStack<Scalar: TensorScalar> {
    let mode: RecurrentMode
    let config: RecurrentConfiguration
    /// `weights[layer][direction]`.
    var weights: [[CellWeights<Scalar>]]
    var training = true
    var implementation = RecurrentImplementation.fused

    init(mode: RecurrentMode, config: RecurrentConfiguration, using generator: inout RandomGenerator) {
        checkShape(config.inputSize > 0 && config.hiddenSize > 0 && config.numLayers > 0,
                   "\(mode.layerName): inputSize, hiddenSize and numLayers must be positive, got \(config.inputSize), \(config.hiddenSize), \(config.numLayers)")
        checkShape(config.dropout >= 0 && config.dropout <= 1, "\(mode.layerName): dropout must be in [0, 1], got \(config.dropout)")
        checkShape(config.projSize == 0 || (mode == .lstm && config.projSize < config.hiddenSize),
                   "\(mode.layerName): projSize must be 0, or below hiddenSize for an LSTM; got \(config.projSize)")
        self.mode = mode
        self.config = config
        var layers: [[CellWeights<Scalar>]] = []
        for layer in 0..<config.numLayers {
            let inputSize = layer == 0 ? config.inputSize : config.outputSize * config.directions
            layers.append((0..<config.directions).map { _ in
                CellWeights(mode: mode, inputSize: inputSize, hiddenSize: config.hiddenSize,
                            projSize: config.projSize, bias: config.bias, using: &generator)
            })
        }
        weights = layers
    }

    /// The layer described in messages: `LSTM(inputSize: 64, batchFirst: true)`.
    var signature: String {
        "\(mode.layerName)(inputSize: \(config.inputSize), batchFirst: \(config.batchFirst))"
    }

    /// Visits every parameter under PyTorch's names, layer by layer, forward then reverse.
    mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        for layer in weights.indices {
            for direction in weights[layer].indices {
                weights[layer][direction].visit(visitor, suffix: "_l\(layer)" + (direction == 1 ? "_reverse" : ""))
            }
        }
        visitor.trainingFlag(&training)
    }

    /// Checks the input shape (a programming error) and returns (batch, time).
    func checkInput(_ input: Tensor<Scalar>, batchFirst: Bool) -> (batch: Int, time: Int) {
        let expected = batchFirst ? "[batch, time, \(config.inputSize)]" : "[time, batch, \(config.inputSize)]"
        checkShape(input.rank == 3 && input.shape[2] == config.inputSize, "\(signature) expects \(expected), got \(input.shape)")
        return batchFirst ? (input.shape[0], input.shape[1]) : (input.shape[1], input.shape[0])
    }

    /// Checks lengths against the batch (user data: a thrown error).
    func checkLengths(_ lengths: [Int], batch: Int, time: Int) throws {
        try SequenceLengthError.validate(lengths, batch: batch, time: time, in: signature)
    }

    /// Validates `input` (and `lengths`, a thrown error) in the layer's own layout and runs it.
    func forward(_ input: Tensor<Scalar>, lengths: [Int]?, h0: Tensor<Scalar>?, c0: Tensor<Scalar>?,
                 using generator: inout RandomGenerator) throws -> (output: Tensor<Scalar>, hN: Tensor<Scalar>, cN: Tensor<Scalar>?) {
        let (batch, time) = checkInput(input, batchFirst: config.batchFirst)
        if let lengths { try checkLengths(lengths, batch: batch, time: time) }
        return run(input, batchFirst: config.batchFirst, lengths: lengths, h0: h0, c0: c0, using: &generator)
    }

    /// `forward` with dropout masks from the global generator.
    func forwardWithGlobalGenerator(_ input: Tensor<Scalar>, lengths: [Int], h0: Tensor<Scalar>?, c0: Tensor<Scalar>?) throws
        -> (output: Tensor<Scalar>, hN: Tensor<Scalar>, cN: Tensor<Scalar>?) {
        var generator = dropoutGenerator()
        return try forward(input, lengths: lengths, h0: h0, c0: c0, using: &generator)
    }

    /// Runs full-length sequences (nothing to validate but shapes) with dropout masks from the
    /// global generator.
    func forwardFullLength(_ input: Tensor<Scalar>, h0: Tensor<Scalar>?, c0: Tensor<Scalar>?)
        -> (output: Tensor<Scalar>, hN: Tensor<Scalar>, cN: Tensor<Scalar>?) {
        var generator = dropoutGenerator()
        return run(input, batchFirst: config.batchFirst, lengths: nil, h0: h0, c0: c0, using: &generator)
    }

    /// The generator for dropout between layers when none is passed: a stream forked from
    /// the global generator (one draw) when dropout is active, so the global lock is not
    /// held during the forward pass; an unused placeholder otherwise.
    private func dropoutGenerator() -> RandomGenerator {
        guard training && config.dropout > 0 && config.numLayers > 1 else { return RandomGenerator(seed: 0) }
        return RandomGenerator.withGlobal { $0.fork() }
    }

    /// Runs a packed batch: unpacks it (time-first), runs, and packs the output the same way.
    func forward(packed input: PackedSequence<Scalar>, h0: Tensor<Scalar>?, c0: Tensor<Scalar>?)
        -> (output: PackedSequence<Scalar>, hN: Tensor<Scalar>, cN: Tensor<Scalar>?) {
        let (padded, lengths) = padPackedSequence(input, batchFirst: false)
        var generator = dropoutGenerator()
        let result = run(padded, batchFirst: false, lengths: lengths, h0: h0, c0: c0, using: &generator)
        return (packValidated(result.output, lengths: lengths, batchFirst: false), result.hN, result.cN)
    }

    /// Checks an initial state `[layers·directions, batch, size]`.
    func checkState(_ state: Tensor<Scalar>, name: String, batch: Int, size: Int) {
        let expected = [config.numLayers * config.directions, batch, size]
        checkShape(state.shape == expected, "\(signature) expects \(name) \(expected), got \(state.shape)")
    }

    /// Runs every layer and direction over `input` (`batchFirst` tells its layout), with optional
    /// lengths and initial states. Returns the output in the caller's layout and the final
    /// states `[layers·directions, batch, size]`.
    func run(_ input: Tensor<Scalar>, batchFirst: Bool, lengths: [Int]?, h0: Tensor<Scalar>?, c0: Tensor<Scalar>?,
             using generator: inout RandomGenerator) -> (output: Tensor<Scalar>, hN: Tensor<Scalar>, cN: Tensor<Scalar>?) {
        let (batch, time) = checkInput(input, batchFirst: batchFirst)
        if let h0 { checkState(h0, name: "h0", batch: batch, size: config.outputSize) }
        if let c0 { checkState(c0, name: "c0", batch: batch, size: config.hiddenSize) }
        let lengths = lengths ?? [Int](repeating: time, count: batch)
        if implementation == .fused && config.projSize == 0 {
            return runFused(input, batchFirst: batchFirst, lengths: lengths, h0: h0, c0: c0, using: &generator)
        }
        let isPadded = lengths.contains { $0 < time }
        // Work time-first: one step is then a contiguous [batch, features] slice.
        var layerInput = batchFirst ? input.transposed(0, 1) : input
        var validSteps: [BoolTensor] = []
        if isPadded {
            validSteps = (0..<time).map { t in BoolTensor(shape: [batch, 1], scalars: lengths.map { t < $0 }) }
            // Zero the padding so its values (even NaN) can reach neither state nor gradient.
            let valid = BoolTensor(shape: [time, batch, 1], scalars: validSteps.flatMap(\.scalars))
            layerInput = Tensor.where(valid, layerInput, Tensor(0))
        }
        var finalH: [Tensor<Scalar>] = [], finalC: [Tensor<Scalar>] = []
        for layer in 0..<config.numLayers {
            var directionOutputs: [Tensor<Scalar>] = []
            for direction in 0..<config.directions {
                let index = layer * config.directions + direction
                let start = RecurrentState(
                    h: h0?.select(dim: 0, index: index) ?? Tensor.zeros([batch, config.outputSize]),
                    c: mode == .lstm ? (c0?.select(dim: 0, index: index) ?? Tensor.zeros([batch, config.hiddenSize])) : nil)
                let reversed = direction == 1
                let source = reversed ? reversePaddedSequence(layerInput, lengths: lengths, batchFirst: false) : layerInput
                var (output, last) = runDirection(weights[layer][direction], source, start: start, validSteps: validSteps)
                if reversed { output = reversePaddedSequence(output, lengths: lengths, batchFirst: false) }
                directionOutputs.append(output)
                finalH.append(last.h)
                if let c = last.c { finalC.append(c) }
            }
            layerInput = directionOutputs.count == 1 ? directionOutputs[0] : Tensor.cat(directionOutputs, dim: 2)
            if layer < config.numLayers - 1 && config.dropout > 0 && training {
                layerInput = layerInput.dropout(p: config.dropout, using: &generator)
            }
        }
        let output = batchFirst ? layerInput.transposed(0, 1) : layerInput
        return (output, Tensor.stack(finalH, dim: 0), finalC.isEmpty ? nil : Tensor.stack(finalC, dim: 0))
    }

    /// The fused path: for each layer and direction, gather the real steps into packed rows
    /// (in reverse per sequence for the reverse direction) and project them with one matmul;
    /// then `recurrentSequence` runs all directions and writes the padded layer output.
    private func runFused(_ input: Tensor<Scalar>, batchFirst: Bool, lengths: [Int], h0: Tensor<Scalar>?, c0: Tensor<Scalar>?,
                          using generator: inout RandomGenerator) -> (output: Tensor<Scalar>, hN: Tensor<Scalar>, cN: Tensor<Scalar>?) {
        let batch = lengths.count, time = batchFirst ? input.shape[1] : input.shape[0]
        let plan = StepPlan(lengths: lengths)
        let isFullLength = lengths.allSatisfy { $0 == time }
        let hidden = config.hiddenSize
        var layerInput = input
        var finalH: [Tensor<Scalar>] = [], finalC: [Tensor<Scalar>] = []
        for layer in 0..<config.numLayers {
            let features = layerInput.shape[2]
            let flat = layerInput.reshaped([batch * time, features])
            let inputs = (0..<config.directions).map { direction in
                let index = layer * config.directions + direction
                let weights = self.weights[layer][direction]
                let rows = plan.paddedRows(time: time, batchFirst: batchFirst, reversed: direction == 1)
                // A full-length batch is projected in its own layout and read through the row
                // index; otherwise only the real steps are gathered into packed rows first.
                return RecurrentDirectionInput(
                    projected: weights.projectInput(isFullLength ? flat : flat.indexSelect(dim: 0, index: IntTensor(rows))),
                    rowIndex: isFullLength ? rows : nil,
                    h0: h0?.select(dim: 0, index: index) ?? Tensor.zeros([batch, hidden]),
                    c0: mode == .lstm ? (c0?.select(dim: 0, index: index) ?? Tensor.zeros([batch, hidden])) : nil,
                    weightHH: weights.weightHH, biasHH: weights.biasHH)
            }
            let result = recurrentSequence(mode, directions: inputs, plan: plan, time: time, batchFirst: batchFirst)
            finalH += result.hN
            finalC += result.cN
            layerInput = result.output
            if layer < config.numLayers - 1 && config.dropout > 0 && training {
                layerInput = layerInput.dropout(p: config.dropout, using: &generator)
            }
        }
        return (layerInput, Tensor.stack(finalH, dim: 0), finalC.isEmpty ? nil : Tensor.stack(finalC, dim: 0))
    }

    /// One direction of one layer over time-first `source` `[T, B, I]`: the input
    /// projection of all steps as one matmul, then one recurrent step per time step. Steps
    /// past a sequence's length keep its state and output zeros.
    private func runDirection(_ weights: CellWeights<Scalar>, _ source: Tensor<Scalar>, start: RecurrentState<Scalar>,
                              validSteps: [BoolTensor]) -> (Tensor<Scalar>, RecurrentState<Scalar>) {
        let time = source.shape[0]
        let projected = weights.projectInput(source)
        var state = start
        var outputs: [Tensor<Scalar>] = []
        outputs.reserveCapacity(time)
        for t in 0..<time {
            var next = weights.step(mode, xGates: projected.select(dim: 0, index: t), state: state)
            if validSteps.isEmpty {
                outputs.append(next.h)
            } else {
                let valid = validSteps[t]
                next.h = Tensor.where(valid, next.h, state.h)
                if let c = next.c { next.c = Tensor.where(valid, c, state.c!) }
                outputs.append(Tensor.where(valid, next.h, Tensor(0)))
            }
            state = next
        }
        let output = time == 0 ? Tensor.zeros([0, start.h.shape[0], start.h.shape[1]]) : Tensor.stack(outputs, dim: 0)
        return (output, state)
    }
}
