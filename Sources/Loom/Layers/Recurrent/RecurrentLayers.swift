/// PyTorch's `nn.LSTM`: a multi-layer LSTM, `RecurrentLayer` of `LSTMCell`s.
///
/// Input `[batch, time, inputSize]` when `batchFirst`, else `[time, batch, inputSize]`; output
/// the same layout with `directions · outputSize` features, zeros past each sequence's
/// length; `hN` `[layers · directions, batch, outputSize]` and `cN`
/// `[layers · directions, batch, hiddenSize]`, each sequence's state at its own last step.
/// `outputSize` is `projSize` when set, else `hiddenSize`.
public typealias LSTM<Scalar: TensorScalar> = RecurrentLayer<LSTMCell<Scalar>>

/// PyTorch's `nn.GRU`: a multi-layer GRU, `RecurrentLayer` of `GRUCell`s; shapes as `LSTM`
/// without the cell state and projection. The reset gate multiplies `W_hn h + b_hn`, as in
/// PyTorch.
public typealias GRU<Scalar: TensorScalar> = RecurrentLayer<GRUCell<Scalar>>

/// PyTorch's `nn.RNN`: a multi-layer Elman RNN with tanh or ReLU, `RecurrentLayer` of
/// `RNNCell`s; shapes as `GRU`.
public typealias RNN<Scalar: TensorScalar> = RecurrentLayer<RNNCell<Scalar>>

/// A built-in recurrent layer (`LSTM`, `GRU`, `RNN`) with PyTorch's options, call forms and
/// parameter names: a `Recurrence` of built-in cells, one per layer and direction, seen
/// through PyTorch's interface (states stacked `[layers · directions, batch, size]`).
///
/// Variable lengths in any order (zero allowed), both directions, dropout between layers,
/// initial states, `batchFirst`. The cells run as the fused recurrence (one op per layer)
/// with their default `.fused` implementation; with `.composed`, or with an LSTM
/// projection, `Recurrence` captures and replays their composed step. Parameters carry
/// PyTorch's `state_dict` names (`weight_ih_l0`, `bias_hh_l1_reverse`, `weight_hr_l0`).
public struct RecurrentLayer<Cell: BuiltInRecurrentCell>: Module {
    /// The element type of the cells' tensors.
    public typealias Scalar = Cell.Scalar

    /// The engine: `recurrence.cells[layer][direction]` (0 forward, 1 reverse).
    public var recurrence: Recurrence<Cell>
    /// The layer's sizes and switches.
    public let configuration: RecurrentConfiguration

    /// A layer of `configuration`; `makeCell(inputSize, &generator)` makes each layer's and
    /// direction's cell, in order (layer 0 forward, layer 0 reverse, layer 1 forward, ...).
    init(_ configuration: RecurrentConfiguration, using generator: inout RandomGenerator,
         makeCell: (_ inputSize: Int, _ generator: inout RandomGenerator) -> Cell) {
        let name = Cell.layerName
        checkShape(configuration.inputSize > 0 && configuration.hiddenSize > 0 && configuration.numLayers > 0,
                   "\(name): inputSize, hiddenSize and numLayers must be positive, got \(configuration.inputSize), "
                   + "\(configuration.hiddenSize), \(configuration.numLayers)")
        checkShape(configuration.dropout >= 0 && configuration.dropout <= 1,
                   "\(name): dropout must be in [0, 1], got \(configuration.dropout)")
        self.configuration = configuration
        recurrence = Recurrence(inputSize: configuration.inputSize, numLayers: configuration.numLayers,
                                bidirectional: configuration.bidirectional, dropout: configuration.dropout,
                                batchFirst: configuration.batchFirst, using: &generator, makeCell: makeCell)
    }

    /// Whether dropout between layers is active (`train()` / `eval()` set it).
    public var training: Bool {
        get { recurrence.training }
        set { recurrence.training = newValue }
    }

    /// The cells' implementation: `.fused` (the default) or `.composed`. Setting it sets
    /// every cell's.
    public var implementation: RecurrentImplementation {
        get { recurrence.cells[0][0].implementation }
        set {
            for layer in recurrence.cells.indices {
                for direction in recurrence.cells[layer].indices { recurrence.cells[layer][direction].implementation = newValue }
            }
        }
    }

    /// The weights of `layer` in `direction` (0 forward, 1 reverse).
    public func weights(layer: Int, direction: Int = 0) -> CellWeights<Scalar> { recurrence.cells[layer][direction].weights }

    /// Runs over full-length sequences. Dropout masks come from the global generator.
    public func callAsFunction(_ input: Tensor<Scalar>, initialState: Cell.LayerState? = nil) -> Cell.LayerOutput {
        let (batch, time) = checkInput(input)
        var generator = dropoutGenerator()
        let result = run(input, layout: .padded(time: time, batchFirst: configuration.batchFirst),
                         plan: StepPlan(lengths: [Int](repeating: time, count: batch)), initialState: initialState, using: &generator)
        return Cell.layerOutput(result.output, finalStates: result.states)
    }

    /// Runs over a padded batch whose sequence `b` has `lengths[b]` real steps, in any order
    /// (no sorting needed; zero is allowed). Throws if the lengths do not fit.
    public func callAsFunction(_ input: Tensor<Scalar>, lengths: [Int], initialState: Cell.LayerState? = nil) throws
        -> Cell.LayerOutput {
        var generator = dropoutGenerator()
        return try forward(input, lengths: lengths, initialState: initialState, using: &generator)
    }

    /// Runs over a packed batch; the output is packed the same way.
    public func callAsFunction(_ input: PackedSequence<Scalar>, initialState: Cell.LayerState? = nil) -> Cell.PackedLayerOutput {
        checkShape(input.data.rank == 2 && input.data.shape[1] == configuration.inputSize,
                   "\(signature) expects packed data [rows, \(configuration.inputSize)], got \(input.data.shape)")
        var generator = dropoutGenerator()
        let plan = StepPlan(lengths: input.lengths)
        let result = run(input.data, layout: .packed, plan: plan, initialState: initialState, using: &generator)
        return Cell.layerOutput(PackedSequence(data: result.output, plan: plan), finalStates: result.states)
    }

    /// The full form: optional lengths (`nil` for full length), optional initial state, and
    /// an explicit generator for the dropout masks between layers.
    public func forward(_ input: Tensor<Scalar>, lengths: [Int]?, initialState: Cell.LayerState? = nil,
                        using generator: inout RandomGenerator) throws -> Cell.LayerOutput {
        let (batch, time) = checkInput(input)
        if let lengths { try SequenceLengthError.validate(lengths, batch: batch, time: time, in: signature) }
        let result = run(input, layout: .padded(time: time, batchFirst: configuration.batchFirst),
                         plan: StepPlan(lengths: lengths ?? [Int](repeating: time, count: batch)), initialState: initialState,
                         using: &generator)
        return Cell.layerOutput(result.output, finalStates: result.states)
    }

    /// Visits the weights of every layer and direction under PyTorch's names, and the
    /// training flag.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        for layer in recurrence.cells.indices {
            for direction in recurrence.cells[layer].indices {
                recurrence.cells[layer][direction].weights.visit(visitor, suffix: "_l\(layer)" + (direction == 1 ? "_reverse" : ""))
            }
        }
        visitor.trainingFlag(&recurrence.training)
    }

    /// The layer described in messages: `LSTM(inputSize: 64, batchFirst: true)`.
    var signature: String {
        "\(Cell.layerName)(inputSize: \(configuration.inputSize), batchFirst: \(configuration.batchFirst))"
    }

    /// Checks a padded input's shape (a programming error) and returns (batch, time).
    private func checkInput(_ input: Tensor<Scalar>) -> (batch: Int, time: Int) {
        let batchFirst = configuration.batchFirst
        let expected = batchFirst ? "[batch, time, \(configuration.inputSize)]" : "[time, batch, \(configuration.inputSize)]"
        checkShape(input.rank == 3 && input.shape[2] == configuration.inputSize, "\(signature) expects \(expected), got \(input.shape)")
        return batchFirst ? (input.shape[0], input.shape[1]) : (input.shape[1], input.shape[0])
    }

    /// The generator for dropout between layers when none is passed: a stream forked from
    /// the global generator (one draw) when dropout is active, so the global lock is not
    /// held during the forward pass; an unused placeholder otherwise.
    private func dropoutGenerator() -> RandomGenerator {
        guard training && configuration.dropout > 0 && configuration.numLayers > 1 else { return RandomGenerator(seed: 0) }
        return RandomGenerator.withGlobal { $0.fork() }
    }

    /// Runs the engine with PyTorch's stacked initial states (each checked against
    /// `[layers · directions, batch, size]`); returns the final states stacked the same way.
    private func run(_ input: Tensor<Scalar>, layout: SequenceLayout, plan: StepPlan, initialState: Cell.LayerState?,
                     using generator: inout RandomGenerator) -> (output: Tensor<Scalar>, states: [Tensor<Scalar>]) {
        let count = configuration.numLayers * configuration.directions
        var starts: [[Tensor<Scalar>]]?
        if let initialState {
            let stacked = Cell.stateTensors(initialState)
            let zero = recurrence.cells[0][0].zeroState(batchSize: plan.batch)
            for (index, state) in stacked.enumerated() {
                let expected = [count, plan.batch, zero[index].shape[1]]
                checkShape(state.shape == expected,
                           "\(signature) expects \(Cell.stateNames[index]) \(expected), got \(state.shape)")
            }
            starts = (0..<count).map { i in stacked.map { $0.select(dim: 0, index: i) } }
        }
        let result = recurrence.run(input, layout: layout, plan: plan, initialStates: starts, using: &generator)
        let stateCount = result.states.first?.count ?? 0
        return (result.output, (0..<stateCount).map { k in Tensor.stack(result.states.map { $0[k] }, dim: 0) })
    }
}

/// A built-in cell that `RecurrentLayer` stacks into PyTorch's `nn.RNN`, `nn.LSTM` or
/// `nn.GRU`: its parameters, its implementation, and how the layer's states and results
/// look in PyTorch's terms.
public protocol BuiltInRecurrentCell: RecurrentCell {
    /// The initial state the layer takes: `h0` for RNN and GRU, `(h: h0, c: c0)` for LSTM,
    /// each `[layers · directions, batch, size]`.
    associatedtype LayerState
    /// What the layer returns for a padded input: `(output, hN)` or `(output, hN, cN)`.
    associatedtype LayerOutput
    /// What the layer returns for a packed input, with a `PackedSequence` output.
    associatedtype PackedLayerOutput

    /// The layer's name in messages (`"LSTM"`).
    static var layerName: String { get }
    /// The names of the state's parts in messages (`["h0", "c0"]`).
    static var stateNames: [String] { get }
    /// The cell's parameters, in PyTorch's layout.
    var weights: CellWeights<Scalar> { get set }
    /// `.fused` (the default) or `.composed`.
    var implementation: RecurrentImplementation { get set }

    /// The parts of a layer state, in the order of `zeroState` (`h` first).
    static func stateTensors(_ state: LayerState) -> [Tensor<Scalar>]
    /// The layer's result from its padded output and its final states (stacked, `h` first).
    static func layerOutput(_ output: Tensor<Scalar>, finalStates: [Tensor<Scalar>]) -> LayerOutput
    /// The layer's result from its packed output and its final states.
    static func layerOutput(_ output: PackedSequence<Scalar>, finalStates: [Tensor<Scalar>]) -> PackedLayerOutput
}
