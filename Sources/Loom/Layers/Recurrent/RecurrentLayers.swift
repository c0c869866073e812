/// A multi-layer LSTM over batches of sequences (PyTorch's `nn.LSTM`), with variable
/// lengths, both directions, dropout between layers, initial states and projections.
///
/// Input `[batch, time, inputSize]` when `batchFirst`, else `[time, batch, inputSize]`;
/// output the same layout with `directions · outputSize` features, zeros past each
/// sequence's length; `hN` `[layers · directions, batch, outputSize]` and `cN`
/// `[layers · directions, batch, hiddenSize]`, each sequence's state at its own last step.
/// `outputSize` is `projSize` when set, else `hiddenSize`. Parameters carry PyTorch's
/// `state_dict` names (`weight_ih_l0`, `bias_hh_l1_reverse`, `weight_hr_l0`).
public struct LSTM<Scalar: TensorScalar>: Module {
    var stack: RecurrentStack<Scalar>

    /// An LSTM with PyTorch's initialization (uniform ±1/√hiddenSize) drawn from `generator`.
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false, projSize: Int = 0, using generator: inout RandomGenerator) {
        let config = RecurrentConfiguration(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                                            batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, projSize: projSize)
        stack = RecurrentStack(mode: .lstm, config: config, using: &generator)
    }

    /// An LSTM initialized from the global generator (see `manualSeed`).
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false, projSize: Int = 0) {
        self = RandomGenerator.withGlobal {
            LSTM(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                 dropout: dropout, bidirectional: bidirectional, projSize: projSize, using: &$0)
        }
    }

    /// The layer's sizes and switches.
    public var configuration: RecurrentConfiguration { stack.config }

    /// Whether dropout between layers is active (`train()` / `eval()` set it).
    public var training: Bool {
        get { stack.training }
        set { stack.training = newValue }
    }

    /// Fused kernels (the default) or the composed reference path.
    public var implementation: RecurrentImplementation {
        get { stack.implementation }
        set { stack.implementation = newValue }
    }

    /// The weights of `layer` in `direction` (0 forward, 1 reverse).
    public func weights(layer: Int, direction: Int = 0) -> CellWeights<Scalar> { stack.weights[layer][direction] }

    /// Runs the LSTM over full-length sequences. Dropout masks come from the global generator.
    public func callAsFunction(_ input: Tensor<Scalar>, initialState: (h: Tensor<Scalar>, c: Tensor<Scalar>)? = nil)
        -> (output: Tensor<Scalar>, hN: Tensor<Scalar>, cN: Tensor<Scalar>) {
        let r = stack.forwardFullLength(input, h0: initialState?.h, c0: initialState?.c)
        return (r.output, r.hN, r.cN!)
    }

    /// Runs the LSTM over a padded batch whose sequence `b` has `lengths[b]` real steps, in
    /// any order (no sorting needed; zero is allowed). Throws if the lengths do not fit.
    public func callAsFunction(_ input: Tensor<Scalar>, lengths: [Int], initialState: (h: Tensor<Scalar>, c: Tensor<Scalar>)? = nil) throws
        -> (output: Tensor<Scalar>, hN: Tensor<Scalar>, cN: Tensor<Scalar>) {
        let r = try stack.forwardWithGlobalGenerator(input, lengths: lengths, h0: initialState?.h, c0: initialState?.c)
        return (r.output, r.hN, r.cN!)
    }

    /// Runs the LSTM over a packed batch; the output is packed the same way.
    public func callAsFunction(_ input: PackedSequence<Scalar>, initialState: (h: Tensor<Scalar>, c: Tensor<Scalar>)? = nil)
        -> (output: PackedSequence<Scalar>, hN: Tensor<Scalar>, cN: Tensor<Scalar>) {
        let r = stack.forward(packed: input, h0: initialState?.h, c0: initialState?.c)
        return (r.output, r.hN, r.cN!)
    }

    /// The full form: optional lengths, optional initial state, and an explicit generator
    /// for the dropout masks between layers.
    public func forward(_ input: Tensor<Scalar>, lengths: [Int]?, initialState: (h: Tensor<Scalar>, c: Tensor<Scalar>)? = nil,
                        using generator: inout RandomGenerator) throws -> (output: Tensor<Scalar>, hN: Tensor<Scalar>, cN: Tensor<Scalar>) {
        let r = try stack.forward(input, lengths: lengths, h0: initialState?.h, c0: initialState?.c, using: &generator)
        return (r.output, r.hN, r.cN!)
    }

    /// Visits the weights of every layer and direction under PyTorch's names.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) { stack.visit(visitor) }
}

/// A multi-layer GRU (PyTorch's `nn.GRU`); shapes and options as `LSTM` without the cell
/// state and projection. The reset gate multiplies `W_hn h + b_hn`, as in PyTorch.
public struct GRU<Scalar: TensorScalar>: Module {
    var stack: RecurrentStack<Scalar>

    /// A GRU with PyTorch's initialization drawn from `generator`.
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false, using generator: inout RandomGenerator) {
        let config = RecurrentConfiguration(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                                            batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
        stack = RecurrentStack(mode: .gru, config: config, using: &generator)
    }

    /// A GRU initialized from the global generator.
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                dropout: Double = 0, bidirectional: Bool = false) {
        self = RandomGenerator.withGlobal {
            GRU(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                dropout: dropout, bidirectional: bidirectional, using: &$0)
        }
    }

    /// The layer's sizes and switches.
    public var configuration: RecurrentConfiguration { stack.config }

    /// Whether dropout between layers is active.
    public var training: Bool {
        get { stack.training }
        set { stack.training = newValue }
    }

    /// Fused kernels (the default) or the composed reference path.
    public var implementation: RecurrentImplementation {
        get { stack.implementation }
        set { stack.implementation = newValue }
    }

    /// The weights of `layer` in `direction` (0 forward, 1 reverse).
    public func weights(layer: Int, direction: Int = 0) -> CellWeights<Scalar> { stack.weights[layer][direction] }

    /// Runs the GRU over full-length sequences.
    public func callAsFunction(_ input: Tensor<Scalar>, initialState: Tensor<Scalar>? = nil) -> (output: Tensor<Scalar>, hN: Tensor<Scalar>) {
        let r = stack.forwardFullLength(input, h0: initialState, c0: nil)
        return (r.output, r.hN)
    }

    /// Runs the GRU over a padded batch with per-sequence lengths (any order, zero allowed).
    public func callAsFunction(_ input: Tensor<Scalar>, lengths: [Int], initialState: Tensor<Scalar>? = nil) throws
        -> (output: Tensor<Scalar>, hN: Tensor<Scalar>) {
        let r = try stack.forwardWithGlobalGenerator(input, lengths: lengths, h0: initialState, c0: nil)
        return (r.output, r.hN)
    }

    /// Runs the GRU over a packed batch; the output is packed the same way.
    public func callAsFunction(_ input: PackedSequence<Scalar>, initialState: Tensor<Scalar>? = nil) -> (output: PackedSequence<Scalar>, hN: Tensor<Scalar>) {
        let r = stack.forward(packed: input, h0: initialState, c0: nil)
        return (r.output, r.hN)
    }

    /// The full form with an explicit generator for dropout between layers.
    public func forward(_ input: Tensor<Scalar>, lengths: [Int]?, initialState: Tensor<Scalar>? = nil,
                        using generator: inout RandomGenerator) throws -> (output: Tensor<Scalar>, hN: Tensor<Scalar>) {
        let r = try stack.forward(input, lengths: lengths, h0: initialState, c0: nil, using: &generator)
        return (r.output, r.hN)
    }

    /// Visits the weights of every layer and direction under PyTorch's names.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) { stack.visit(visitor) }
}

/// A multi-layer Elman RNN with tanh or ReLU (PyTorch's `nn.RNN`); shapes and options as
/// `GRU`.
public struct RNN<Scalar: TensorScalar>: Module {
    var stack: RecurrentStack<Scalar>

    /// An RNN with PyTorch's initialization drawn from `generator`, applying `nonlinearity`
    /// (`.tanh` or `.relu`).
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh, bias: Bool = true,
                batchFirst: Bool = false, dropout: Double = 0, bidirectional: Bool = false, using generator: inout RandomGenerator) {
        let config = RecurrentConfiguration(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                                            batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
        stack = RecurrentStack(mode: nonlinearity == .relu ? .rnnRelu : .rnnTanh, config: config, using: &generator)
    }

    /// An RNN initialized from the global generator.
    public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh, bias: Bool = true,
                batchFirst: Bool = false, dropout: Double = 0, bidirectional: Bool = false) {
        self = RandomGenerator.withGlobal {
            RNN(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, nonlinearity: nonlinearity, bias: bias,
                batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, using: &$0)
        }
    }

    /// The layer's sizes and switches.
    public var configuration: RecurrentConfiguration { stack.config }

    /// Whether dropout between layers is active.
    public var training: Bool {
        get { stack.training }
        set { stack.training = newValue }
    }

    /// Fused kernels (the default) or the composed reference path.
    public var implementation: RecurrentImplementation {
        get { stack.implementation }
        set { stack.implementation = newValue }
    }

    /// The weights of `layer` in `direction` (0 forward, 1 reverse).
    public func weights(layer: Int, direction: Int = 0) -> CellWeights<Scalar> { stack.weights[layer][direction] }

    /// Runs the RNN over full-length sequences.
    public func callAsFunction(_ input: Tensor<Scalar>, initialState: Tensor<Scalar>? = nil) -> (output: Tensor<Scalar>, hN: Tensor<Scalar>) {
        let r = stack.forwardFullLength(input, h0: initialState, c0: nil)
        return (r.output, r.hN)
    }

    /// Runs the RNN over a padded batch with per-sequence lengths (any order, zero allowed).
    public func callAsFunction(_ input: Tensor<Scalar>, lengths: [Int], initialState: Tensor<Scalar>? = nil) throws
        -> (output: Tensor<Scalar>, hN: Tensor<Scalar>) {
        let r = try stack.forwardWithGlobalGenerator(input, lengths: lengths, h0: initialState, c0: nil)
        return (r.output, r.hN)
    }

    /// Runs the RNN over a packed batch; the output is packed the same way.
    public func callAsFunction(_ input: PackedSequence<Scalar>, initialState: Tensor<Scalar>? = nil) -> (output: PackedSequence<Scalar>, hN: Tensor<Scalar>) {
        let r = stack.forward(packed: input, h0: initialState, c0: nil)
        return (r.output, r.hN)
    }

    /// The full form with an explicit generator for dropout between layers.
    public func forward(_ input: Tensor<Scalar>, lengths: [Int]?, initialState: Tensor<Scalar>? = nil,
                        using generator: inout RandomGenerator) throws -> (output: Tensor<Scalar>, hN: Tensor<Scalar>) {
        let r = try stack.forward(input, lengths: lengths, h0: initialState, c0: nil, using: &generator)
        return (r.output, r.hN)
    }

    /// Visits the weights of every layer and direction under PyTorch's names.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) { stack.visit(visitor) }
}
