@testable import Loom

// Handlers for the recurrent kinds: rnn_cell, lstm_cell, gru_cell, rnn, lstm, gru,
// pack_padded_sequence and the whole tagger model. Parameters are loaded by their
// `state_dict` names from `param.NAME`; every output OUT is back-propagated with
// `dloss.OUT` (the loss is the sum over outputs of OUT * dloss.OUT).

extension Fixture {
    /// Config `nonlinearity` of an RNN ("tanh" when absent).
    func nonlinearity() throws -> RNNNonlinearity {
        let name = try string("nonlinearity", default: "tanh")
        guard let value = RNNNonlinearity(rawValue: name) else { throw ParityError("unknown nonlinearity '\(name)'") }
        return value
    }

    /// Replaces every parameter of `model` by the fixture's `param.PREFIXNAME`, as a leaf.
    /// Throws if one is missing or mis-shaped, or if the fixture has parameters the model lacks.
    func loadParameters<M: Module>(into model: inout M, prefix: String = "") throws {
        var problems: [String] = []
        var used = Set<String>()
        model.updateParameters { name, parameter in
            let key = "param." + prefix + name
            used.insert(key)
            guard let stored = try? self.tensor(key, as: M.Scalar.self) else { problems.append("missing \(key)"); return }
            guard stored.shape == parameter.shape else {
                problems.append("\(key) has shape \(stored.shape), the model expects \(parameter.shape)")
                return
            }
            parameter = stored.requiringGrad()
        }
        let extra = tensors.keys.filter { $0.hasPrefix("param." + prefix) && !used.contains($0) }
        if !extra.isEmpty { problems.append("unexpected \(extra.sorted())") }
        if !problems.isEmpty { throw ParityError(problems.joined(separator: "; ")) }
    }

    /// `sum(out * dloss.out)` over the named outputs that the fixture gives a `dloss` for.
    func weightedLoss<Scalar: TensorScalar>(_ outputs: [(String, Tensor<Scalar>)]) throws -> Tensor<Scalar> {
        var total: Tensor<Scalar>? = nil
        for (name, output) in outputs where hasTensor("dloss." + name) {
            let term = (output * (try upstream(for: name, of: output))).sum()
            total = total.map { $0 + term } ?? term
        }
        guard let total else { throw ParityError("no dloss.* for any output") }
        return total
    }

    /// Records the gradient of every parameter of `model` as `grad.param.PREFIXNAME`.
    func recordParameterGradients<M: Module>(of model: M, prefix: String = "", into outputs: inout ParityOutputs) {
        for (name, parameter) in model.namedParameters() {
            outputs.setGradient("grad.param." + prefix + name, of: parameter)
        }
    }

    /// An optional input tensor as a leaf.
    func optionalLeaf<Scalar: TensorScalar>(_ name: String, as _: Scalar.Type) throws -> Tensor<Scalar>? {
        hasTensor(name) ? try tensor(name, as: Scalar.self).requiringGrad() : nil
    }
}

/// `rnn_cell`, `lstm_cell`, `gru_cell`: one step from x, h (and c).
enum RecurrentCellHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let inputSize = try fixture.int("input_size"), hiddenSize = try fixture.int("hidden_size")
        let bias = try fixture.bool("bias", default: true)
        var generator = RandomGenerator(seed: 0)
        let x = try fixture.tensor("x", as: Scalar.self).requiringGrad()
        let h = try fixture.optionalLeaf("h", as: Scalar.self)
        let c = try fixture.optionalLeaf("c", as: Scalar.self)
        var outputs = ParityOutputs()
        var produced: [(String, Tensor<Scalar>)] = []
        switch fixture.kind {
        case "rnn_cell":
            var cell = RNNCell<Scalar>(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias,
                                       nonlinearity: try fixture.nonlinearity(), using: &generator)
            try fixture.loadParameters(into: &cell)
            produced = [("h1", cell(x, h))]
            try fixture.weightedLoss(produced).backward()
            fixture.recordParameterGradients(of: cell, into: &outputs)
        case "lstm_cell":
            var cell = LSTMCell<Scalar>(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, using: &generator)
            try fixture.loadParameters(into: &cell)
            let state = h.map { ($0, c ?? Tensor.zeros($0.shape)) }
            let next = cell(x, state)
            produced = [("h1", next.h), ("c1", next.c)]
            try fixture.weightedLoss(produced).backward()
            fixture.recordParameterGradients(of: cell, into: &outputs)
        default:
            var cell = GRUCell<Scalar>(inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, using: &generator)
            try fixture.loadParameters(into: &cell)
            produced = [("h1", cell(x, h))]
            try fixture.weightedLoss(produced).backward()
            fixture.recordParameterGradients(of: cell, into: &outputs)
        }
        for (name, value) in produced { outputs.set(name, value) }
        outputs.setGradient("grad.x", of: x)
        if let h { outputs.setGradient("grad.h", of: h) }
        if let c { outputs.setGradient("grad.c", of: c) }
        return outputs
    }
}

/// `rnn`, `lstm`, `gru`: a whole layer over a padded batch with optional lengths and initial states.
enum RecurrentLayerHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let inputSize = try fixture.int("input_size"), hiddenSize = try fixture.int("hidden_size")
        let numLayers = try fixture.int("num_layers", default: 1)
        let bias = try fixture.bool("bias", default: true), batchFirst = try fixture.bool("batch_first", default: false)
        let bidirectional = try fixture.bool("bidirectional", default: false)
        var generator = RandomGenerator(seed: 0)
        let x = try fixture.tensor("x", as: Scalar.self).requiringGrad()
        let lengths = fixture.intTensors["lengths"] != nil ? try fixture.intTensor("lengths").scalars : nil
        let h0 = try fixture.optionalLeaf("h0", as: Scalar.self)
        let c0 = try fixture.optionalLeaf("c0", as: Scalar.self)
        var outputs = ParityOutputs()
        var produced: [(String, Tensor<Scalar>)]
        switch fixture.kind {
        case "lstm":
            var layer = LSTM<Scalar>(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                                     batchFirst: batchFirst, bidirectional: bidirectional,
                                     projSize: try fixture.int("proj_size", default: 0), using: &generator)
            try fixture.loadParameters(into: &layer)
            let initial = h0.map { h in (h: h, c: c0 ?? Tensor.zeros([h.shape[0], h.shape[1], hiddenSize])) }
            let result = try layer.forward(x, lengths: lengths, initialState: initial, using: &generator)
            produced = [("output", result.output), ("h_n", result.hN), ("c_n", result.cN)]
            try fixture.weightedLoss(produced).backward()
            fixture.recordParameterGradients(of: layer, into: &outputs)
        case "gru":
            var layer = GRU<Scalar>(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
                                    batchFirst: batchFirst, bidirectional: bidirectional, using: &generator)
            try fixture.loadParameters(into: &layer)
            let result = try layer.forward(x, lengths: lengths, initialState: h0, using: &generator)
            produced = [("output", result.output), ("h_n", result.hN)]
            try fixture.weightedLoss(produced).backward()
            fixture.recordParameterGradients(of: layer, into: &outputs)
        default:
            var layer = RNN<Scalar>(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                                    nonlinearity: try fixture.nonlinearity(), bias: bias,
                                    batchFirst: batchFirst, bidirectional: bidirectional, using: &generator)
            try fixture.loadParameters(into: &layer)
            let result = try layer.forward(x, lengths: lengths, initialState: h0, using: &generator)
            produced = [("output", result.output), ("h_n", result.hN)]
            try fixture.weightedLoss(produced).backward()
            fixture.recordParameterGradients(of: layer, into: &outputs)
        }
        for (name, value) in produced { outputs.set(name, value) }
        outputs.setGradient("grad.x", of: x)
        if let h0 { outputs.setGradient("grad.h0", of: h0) }
        if let c0 { outputs.setGradient("grad.c0", of: c0) }
        return outputs
    }
}

/// `pack_padded_sequence` (enforce_sorted=False): PyTorch's packed layout.
enum PackPaddedSequenceHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let x = try fixture.tensor("x", as: Scalar.self).requiringGrad()
        let packed = try packPaddedSequence(x, lengths: try fixture.intTensor("lengths").scalars,
                                            batchFirst: try fixture.bool("batch_first", default: false))
        var outputs = ParityOutputs()
        outputs.set("data", packed.data)
        outputs.setInt("batch_sizes", IntTensor(packed.batchSizes))
        outputs.setInt("sorted_indices", IntTensor(packed.sortedIndices))
        outputs.setInt("unsorted_indices", IntTensor(packed.unsortedIndices))
        if fixture.hasTensor("dloss.data") {
            packed.data.backward(try fixture.upstream(for: "data", of: packed.data))
            outputs.setGradient("grad.x", of: x)
        }
        return outputs
    }
}

/// `tagger`: Embedding(padding) → LSTM over lengths (batch-first) → Linear → log_softmax →
/// NLL (mean over non-ignored positions).
enum TaggerHandler: ParityHandler {
    struct Tagger<Scalar: TensorScalar>: Module {
        var embedding: Embedding<Scalar>
        var lstm: LSTM<Scalar>
        var linear: Linear<Scalar>
        mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
            visitor.module("embedding", &embedding)
            visitor.module("lstm", &lstm)
            visitor.module("linear", &linear)
        }
    }

    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let hidden = try fixture.int("hidden_size"), bidirectional = try fixture.bool("bidirectional", default: true)
        var generator = RandomGenerator(seed: 0)
        var model = Tagger<Scalar>(
            embedding: Embedding(try fixture.int("vocab_size"), try fixture.int("embedding_dim"),
                                 paddingIndex: try fixture.optionalInt("padding_idx"), using: &generator),
            lstm: LSTM(inputSize: try fixture.int("embedding_dim"), hiddenSize: hidden, numLayers: try fixture.int("num_layers", default: 1),
                       batchFirst: true, bidirectional: bidirectional, using: &generator),
            linear: Linear(hidden * (bidirectional ? 2 : 1), try fixture.int("num_tags"), using: &generator))
        try fixture.loadParameters(into: &model)
        let tokens = try fixture.intTensor("tokens"), tags = try fixture.intTensor("tags")
        let lengths = try fixture.intTensor("lengths").scalars
        let features = try model.lstm.forward(model.embedding(tokens), lengths: lengths, using: &generator).output
        let logProbs = model.linear(features).logSoftmax(dim: -1)
        let classes = logProbs.shape[2]
        let loss = nllLoss(logProbs.reshaped([-1, classes]), tags.reshaped([tags.count]),
                           ignoreIndex: try fixture.int("ignore_index", default: -100))
        loss.backward()
        var outputs = ParityOutputs()
        outputs.set("log_probs", logProbs)
        outputs.set("loss", loss)
        fixture.recordParameterGradients(of: model, into: &outputs)
        return outputs
    }
}

/// `lnlstm_sequence`: the layer-norm LSTM as a user cell through `Recurrence` over a padded
/// batch with lengths.
enum LayerNormLSTMSequenceHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let x = try fixture.tensor("x", as: Scalar.self).requiringGrad()
        func parameter(_ name: String) throws -> Tensor<Scalar> { try fixture.tensor("param." + name, as: Scalar.self).requiringGrad() }
        func layerNorm(_ prefix: String) throws -> LayerNorm<Scalar> {
            var norm = LayerNorm<Scalar>(try parameter(prefix + ".weight").count, eps: try fixture.double("eps", default: 1e-5))
            norm.weight = try parameter(prefix + ".weight")
            norm.bias = try parameter(prefix + ".bias")
            return norm
        }
        let cell = LayerNormLSTMCell(weightIH: try parameter("weight_ih"), weightHH: try parameter("weight_hh"),
                                     lnI: try layerNorm("ln_i"), lnH: try layerNorm("ln_h"), lnC: try layerNorm("ln_c"))
        var generator = RandomGenerator(seed: 0)
        let recurrence = Recurrence<LayerNormLSTMCell<Scalar>>(inputSize: try fixture.int("input_size"),
                                                              batchFirst: try fixture.bool("batch_first", default: false),
                                                              using: &generator) { _, _ in cell }
        let lengths = try fixture.intTensor("lengths").scalars
        let (output, states) = try recurrence(x, lengths: lengths, using: &generator)
        let (h, c) = (states[0][0], states[0][1])
        let loss = (output * (try fixture.tensor("dloss.output", as: Scalar.self))).sum()
            + (h * (try fixture.tensor("dloss.h_n", as: Scalar.self))).sum() + (c * (try fixture.tensor("dloss.c_n", as: Scalar.self))).sum()
        loss.backward()
        var outputs = ParityOutputs()
        outputs.set("output", output)
        outputs.set("h_n", h)
        outputs.set("c_n", c)
        outputs.setGradient("grad.x", of: x)
        outputs.setGradient("grad.param.weight_ih", of: cell.weightIH)
        outputs.setGradient("grad.param.weight_hh", of: cell.weightHH)
        for (name, norm) in [("ln_i", cell.lnI), ("ln_h", cell.lnH), ("ln_c", cell.lnC)] {
            outputs.setGradient("grad.param.\(name).weight", of: norm.weight!)
            outputs.setGradient("grad.param.\(name).bias", of: norm.bias!)
        }
        return outputs
    }
}
