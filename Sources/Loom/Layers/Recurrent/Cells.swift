/// The activation of an Elman RNN (PyTorch's `nonlinearity` argument of `nn.RNN` and
/// `nn.RNNCell`).
public enum RNNNonlinearity: String, Sendable, CaseIterable {
    /// `tanh`, the default.
    case tanh
    /// `relu`.
    case relu
}

/// An Elman RNN cell, `h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)` (or ReLU), as PyTorch's
/// `nn.RNNCell`. Parameters: `weight_ih` `[H, I]`, `weight_hh` `[H, H]`, `bias_ih`, `bias_hh` `[H]`.
public struct RNNCell<Scalar: TensorScalar>: Module {
    /// The cell's parameters.
    public var weights: CellWeights<Scalar>
    /// `.rnnTanh` or `.rnnRelu`.
    public let mode: RecurrentMode
    /// The size of the input's last axis.
    public let inputSize: Int
    /// The size of the hidden state.
    public let hiddenSize: Int
    /// `.fused` (the default): a step is one fused op; `.composed`: a step is composed from
    /// the generic ops, the reference the fused step is tested against.
    public var implementation: RecurrentImplementation = .fused

    /// A cell with PyTorch's initialization drawn from `generator`, applying `nonlinearity`
    /// (PyTorch's `nonlinearity="tanh"` or `"relu"`).
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, nonlinearity: RNNNonlinearity = .tanh,
                using generator: inout RandomGenerator) {
        mode = nonlinearity == .relu ? .rnnRelu : .rnnTanh
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        weights = CellWeights(mode: mode, inputSize: inputSize, hiddenSize: hiddenSize, projSize: 0, bias: bias, using: &generator)
    }

    /// One step: `x` `[B, inputSize]`, `h` `[B, hiddenSize]` (zeros when `nil`) → `[B, hiddenSize]`.
    public func callAsFunction(_ x: Tensor<Scalar>, _ h: Tensor<Scalar>? = nil) -> Tensor<Scalar> {
        let state = CellInput.check("RNNCell", x: x, h: h, c: nil, needsC: false, inputSize: inputSize, hiddenSize: hiddenSize, outSize: hiddenSize)
        return weights.cellStep(mode, x: x, state: state, implementation: implementation).h
    }

    /// Visits `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        weights.visit(visitor, suffix: "")
    }
}

/// An LSTM cell as PyTorch's `nn.LSTMCell`: gates `i, f, g, o` from
/// `x W_ihᵀ + b_ih + h W_hhᵀ + b_hh`, then `c' = σ(f) c + σ(i) tanh(g)`, `h' = σ(o) tanh(c')`.
/// Parameters: `weight_ih` `[4H, I]`, `weight_hh` `[4H, H]`, `bias_ih`, `bias_hh` `[4H]`.
public struct LSTMCell<Scalar: TensorScalar>: Module {
    /// The cell's parameters.
    public var weights: CellWeights<Scalar>
    /// The size of the input's last axis.
    public let inputSize: Int
    /// The size of the hidden and cell states.
    public let hiddenSize: Int
    /// `.fused` (the default): a step is one fused op; `.composed`: a step is composed from
    /// the generic ops, the reference the fused step is tested against.
    public var implementation: RecurrentImplementation = .fused

    /// A cell with PyTorch's initialization drawn from `generator`.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, using generator: inout RandomGenerator) {
        self.init(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, projSize: 0, using: &generator)
    }

    /// A cell whose hidden state is projected to `projSize` features (`weight_hr`
    /// `[projSize, hiddenSize]`), as each layer of `LSTM(projSize:)`; no projection for 0.
    init(inputSize: Int, hiddenSize: Int, bias: Bool, projSize: Int, using generator: inout RandomGenerator) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        weights = CellWeights(mode: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, projSize: projSize, bias: bias,
                              using: &generator)
    }

    /// The size of the hidden state `h`: the projection's size when the cell has one, else
    /// `hiddenSize`.
    var projectedSize: Int { weights.weightHR?.shape[0] ?? hiddenSize }

    /// One step: `x` `[B, inputSize]`, `state` `(h, c)` each `[B, hiddenSize]` (zeros when
    /// `nil`) → the new `(h, c)`.
    public func callAsFunction(_ x: Tensor<Scalar>, _ state: (h: Tensor<Scalar>, c: Tensor<Scalar>)? = nil) -> (h: Tensor<Scalar>, c: Tensor<Scalar>) {
        let start = CellInput.check("LSTMCell", x: x, h: state?.h, c: state?.c, needsC: true, inputSize: inputSize, hiddenSize: hiddenSize,
                                    outSize: projectedSize)
        let next = weights.cellStep(.lstm, x: x, state: start, implementation: implementation)
        return (next.h, next.c!)
    }

    /// Visits `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh` (and `weight_hr` with a projection).
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        weights.visit(visitor, suffix: "")
    }
}

/// A GRU cell as PyTorch's `nn.GRUCell`: `r = σ(W_ir x + b_ir + W_hr h + b_hr)`,
/// `z = σ(W_iz x + b_iz + W_hz h + b_hz)`, `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`,
/// `h' = (1 - z) ⊙ n + z ⊙ h`. Parameters: `weight_ih` `[3H, I]`, `weight_hh` `[3H, H]`,
/// `bias_ih`, `bias_hh` `[3H]`.
public struct GRUCell<Scalar: TensorScalar>: Module {
    /// The cell's parameters.
    public var weights: CellWeights<Scalar>
    /// The size of the input's last axis.
    public let inputSize: Int
    /// The size of the hidden state.
    public let hiddenSize: Int
    /// `.fused` (the default): a step is one fused op; `.composed`: a step is composed from
    /// the generic ops, the reference the fused step is tested against.
    public var implementation: RecurrentImplementation = .fused

    /// A cell with PyTorch's initialization drawn from `generator`.
    public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, using generator: inout RandomGenerator) {
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        weights = CellWeights(mode: .gru, inputSize: inputSize, hiddenSize: hiddenSize, projSize: 0, bias: bias, using: &generator)
    }

    /// One step: `x` `[B, inputSize]`, `h` `[B, hiddenSize]` (zeros when `nil`) → `[B, hiddenSize]`.
    public func callAsFunction(_ x: Tensor<Scalar>, _ h: Tensor<Scalar>? = nil) -> Tensor<Scalar> {
        let state = CellInput.check("GRUCell", x: x, h: h, c: nil, needsC: false, inputSize: inputSize, hiddenSize: hiddenSize, outSize: hiddenSize)
        return weights.cellStep(.gru, x: x, state: state, implementation: implementation).h
    }

    /// Visits `weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        weights.visit(visitor, suffix: "")
    }
}

/// Shape checks shared by the cells, with messages in the cell's own terms.
enum CellInput {
    static func check<Scalar>(_ name: String, x: Tensor<Scalar>, h: Tensor<Scalar>?, c: Tensor<Scalar>?, needsC: Bool,
                              inputSize: Int, hiddenSize: Int, outSize: Int) -> RecurrentState<Scalar> {
        checkShape(x.rank == 2 && x.shape[1] == inputSize,
                   "\(name)(inputSize: \(inputSize), hiddenSize: \(hiddenSize)) expects input [batch, \(inputSize)], got \(x.shape)")
        let batch = x.shape[0]
        if let h {
            checkShape(h.shape == [batch, outSize],
                       "\(name)(inputSize: \(inputSize), hiddenSize: \(hiddenSize)) expects h [\(batch), \(outSize)], got \(h.shape)")
        }
        if let c {
            checkShape(c.shape == [batch, hiddenSize],
                       "\(name)(inputSize: \(inputSize), hiddenSize: \(hiddenSize)) expects c [\(batch), \(hiddenSize)], got \(c.shape)")
        }
        return RecurrentState(h: h ?? Tensor.zeros([batch, outSize]),
                              c: needsC ? (c ?? Tensor.zeros([batch, hiddenSize])) : nil)
    }
}
