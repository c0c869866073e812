// The initializers of `LSTM`, `GRU` and `RNN`: PyTorch's arguments, each layer's cells made
// with PyTorch's initialization (every weight uniform in ±1/√hiddenSize).

extension RecurrentLayer {
    /// An LSTM (PyTorch's `nn.LSTM` arguments) with its weights drawn from `generator`.
    /// `projSize` > 0 (below `hiddenSize`) projects each step's hidden state to that size.
    public init<S>(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                   dropout: Double = 0, bidirectional: Bool = false, projSize: Int = 0, using generator: inout RandomGenerator)
    where Cell == LSTMCell<S> {
        checkShape(projSize >= 0 && projSize < hiddenSize, "LSTM: projSize must be 0, or below hiddenSize; got \(projSize)")
        let configuration = RecurrentConfiguration(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                                                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional,
                                                   projSize: projSize)
        self.init(configuration, using: &generator) { size, generator in
            LSTMCell(inputSize: size, hiddenSize: hiddenSize, bias: bias, projSize: projSize, using: &generator)
        }
    }

    /// An LSTM initialized from the global generator (see `manualSeed`).
    public init<S>(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                   dropout: Double = 0, bidirectional: Bool = false, projSize: Int = 0) where Cell == LSTMCell<S> {
        self = RandomGenerator.withGlobal {
            RecurrentLayer(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                           dropout: dropout, bidirectional: bidirectional, projSize: projSize, using: &$0)
        }
    }

    /// A GRU (PyTorch's `nn.GRU` arguments) with its weights drawn from `generator`.
    public init<S>(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                   dropout: Double = 0, bidirectional: Bool = false, using generator: inout RandomGenerator) where Cell == GRUCell<S> {
        let configuration = RecurrentConfiguration(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                                                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
        self.init(configuration, using: &generator) { size, generator in
            GRUCell(inputSize: size, hiddenSize: hiddenSize, bias: bias, using: &generator)
        }
    }

    /// A GRU initialized from the global generator.
    public init<S>(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
                   dropout: Double = 0, bidirectional: Bool = false) where Cell == GRUCell<S> {
        self = RandomGenerator.withGlobal {
            RecurrentLayer(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                           dropout: dropout, bidirectional: bidirectional, using: &$0)
        }
    }

    /// An Elman RNN (PyTorch's `nn.RNN` arguments) applying `nonlinearity` (`.tanh` or
    /// `.relu`), with its weights drawn from `generator`.
    public init<S>(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh, bias: Bool = true,
                   batchFirst: Bool = false, dropout: Double = 0, bidirectional: Bool = false, using generator: inout RandomGenerator)
    where Cell == RNNCell<S> {
        let configuration = RecurrentConfiguration(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                                                   batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional)
        self.init(configuration, using: &generator) { size, generator in
            RNNCell(inputSize: size, hiddenSize: hiddenSize, bias: bias, nonlinearity: nonlinearity, using: &generator)
        }
    }

    /// An Elman RNN initialized from the global generator.
    public init<S>(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: RNNNonlinearity = .tanh, bias: Bool = true,
                   batchFirst: Bool = false, dropout: Double = 0, bidirectional: Bool = false) where Cell == RNNCell<S> {
        self = RandomGenerator.withGlobal {
            RecurrentLayer(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, nonlinearity: nonlinearity, bias: bias,
                           batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, using: &$0)
        }
    }
}
