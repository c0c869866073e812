import Loom

/// The recurrent cell of the tagger's and the classifier's encoder (`--cell`).
enum RecurrentCellKind: String, CaseIterable {
    case lstm, gru
}

/// The tagger's and the classifier's recurrent encoder: an `LSTM` or a `GRU` with the same
/// options. Its parameters carry the inner layer's PyTorch names; the model that holds it
/// registers it under `lstm` or `gru` (the cell's name), so a default model's checkpoint
/// names do not change.
struct WordEncoder: Module {
    let cell: RecurrentCellKind
    var lstm: LSTM<Float>?
    var gru: GRU<Float>?

    /// An encoder drawing its weights from `generator` (PyTorch's initialization).
    init(cell: RecurrentCellKind, inputSize: Int, hiddenSize: Int, numLayers: Int = 1, dropout: Double = 0,
         bidirectional: Bool, using generator: inout RandomGenerator) {
        self.cell = cell
        switch cell {
        case .lstm:
            lstm = LSTM(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, batchFirst: true,
                        dropout: dropout, bidirectional: bidirectional, using: &generator)
        case .gru:
            gru = GRU(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, batchFirst: true,
                      dropout: dropout, bidirectional: bidirectional, using: &generator)
        }
    }

    /// The encoder over a padded batch `[B, T, inputSize]` with `lengths`: the output
    /// `[B, T, directions · hiddenSize]` (zeros past each length) and the final hidden states
    /// `[layers · directions, B, hiddenSize]`.
    func forward(_ input: Tensor<Float>, lengths: [Int], using generator: inout RandomGenerator) throws
        -> (output: Tensor<Float>, hN: Tensor<Float>) {
        if let lstm {
            let r = try lstm.forward(input, lengths: lengths, using: &generator)
            return (r.output, r.hN)
        }
        return try gru!.forward(input, lengths: lengths, using: &generator)
    }

    /// Visits the inner layer's parameters under their own names (no prefix of its own).
    mutating func visit(_ visitor: ModuleVisitor<Float>) {
        if lstm != nil { lstm!.visit(visitor) }
        if gru != nil { gru!.visit(visitor) }
    }
}
