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

/// How a built-in cell computes its steps. Both give the same results to rounding.
public enum RecurrentImplementation: Sendable, Equatable {
    /// One fused op per layer (all directions) over the packed rows, with a hand-written
    /// backward through time: the fast path, and the default.
    case fused
    /// The step composed from the generic ops (`CellWeights.step`). In a layer it is
    /// captured and replayed like any user cell's step, or run op by op with every op on the
    /// tape when `recurrence.stepExecution` is `.opByOp` (the reference the fused path is
    /// checked against). LSTM projections always use it.
    case composed
}

