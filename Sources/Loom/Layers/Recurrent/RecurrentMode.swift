/// Which recurrence a layer or cell computes, with PyTorch's gate layout.
public enum RecurrentMode: Sendable, Equatable {
    /// Elman RNN, `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`.
    case rnnTanh
    /// Elman RNN with ReLU, `h' = relu(W_ih x + b_ih + W_hh h + b_hh)`.
    case rnnRelu
    /// LSTM with gates in PyTorch's order i, f, g, o.
    case lstm
    /// GRU with gates in PyTorch's order r, z, n; the reset gate multiplies `W_hn h + b_hn`.
    case gru

    /// The number of gate blocks stacked in `weight_ih` / `weight_hh` (1, 4 or 3).
    public var gateCount: Int {
        switch self {
        case .rnnTanh, .rnnRelu: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }

    /// The layer's name in messages (`"LSTM"`, `"GRU"`, `"RNN"`).
    var layerName: String {
        switch self {
        case .rnnTanh, .rnnRelu: return "RNN"
        case .lstm: return "LSTM"
        case .gru: return "GRU"
        }
    }
}

/// The state a recurrence carries from one step to the next: `h` `[batch, hidden]` (or
/// `[batch, projSize]` for a projected LSTM) and, for an LSTM, the cell state `c`
/// `[batch, hidden]`.
public struct RecurrentState<Scalar: TensorScalar> {
    /// The hidden state (the step's output).
    public var h: Tensor<Scalar>
    /// The LSTM cell state; `nil` for RNN and GRU.
    public var c: Tensor<Scalar>?

    /// A state from its parts.
    public init(h: Tensor<Scalar>, c: Tensor<Scalar>? = nil) {
        self.h = h
        self.c = c
    }
}
