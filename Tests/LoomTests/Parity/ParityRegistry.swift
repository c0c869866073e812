@testable import Loom

/// Runs one kind of fixture in a given precision: converts the inputs to `Scalar`, runs
/// Loom, and returns every output and gradient it computed (converted back to `Double`)
/// under the fixture's `expected` keys. Throws when the fixture cannot be run.
protocol ParityHandler: SendableMetatype {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs
}

/// Every supported fixture kind and its handler. A new family adds a handler file under
/// Parity/Handlers and its kinds here.
let parityHandlers: [String: any ParityHandler.Type] = [
    "gather": GatherHandler.self,
    "index_select": IndexSelectHandler.self,
    "embedding": EmbeddingHandler.self,
    "reverse_padded_sequence": ReversePaddedSequenceHandler.self,
    "log_softmax": LogSoftmaxHandler.self,
    "softmax": SoftmaxHandler.self,
    "cross_entropy": CrossEntropyHandler.self,
    "nll_loss": NLLLossHandler.self,
    "bce_with_logits": BCEWithLogitsHandler.self,
    "mse_loss": MSELossHandler.self,
    "rnn_cell": RecurrentCellHandler.self,
    "lstm_cell": RecurrentCellHandler.self,
    "gru_cell": RecurrentCellHandler.self,
    "rnn": RecurrentLayerHandler.self,
    "lstm": RecurrentLayerHandler.self,
    "gru": RecurrentLayerHandler.self,
    "pack_padded_sequence": PackPaddedSequenceHandler.self,
    "tagger": TaggerHandler.self,
    "sgd": OptimizerHandler.self,
    "adam": OptimizerHandler.self,
    "adamw": OptimizerHandler.self,
    "clip_grad_norm": ClipGradNormHandler.self,
    "conv1d": Conv1dHandler.self,
    "layer_norm": LayerNormHandler.self,
    "lnlstm_sequence": LayerNormLSTMSequenceHandler.self,
    "additive_attention": AdditiveAttentionHandler.self,
]
