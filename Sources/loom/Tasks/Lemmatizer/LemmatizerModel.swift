import Loom

/// The lemmatizer: a character-level encoder–decoder with additive attention.
///
/// - One embedding table `[V, 64]` (padding 0) for encoder input and decoder input.
/// - Encoder: BiLSTM(64 → 128 per direction) over the variable-length batch of
///   `[UPOS] + form` symbols; outputs `[B, S, 256]`, zero past each length.
/// - Decoder start: `h0 = tanh(bridge([h_fwd_final; h_bwd_final]))`, `c0 = 0`, context 0.
/// - Decoder step: `LSTMCell(64 + 256 → 256)` on `[embedding(previous); context]` (input
///   feeding), then attention of `h` over the encoder outputs (size 128, masked past each
///   length) and `logits = output([h; context])`.
/// - Edit classifier (optional; without it the model is the reference set-up):
///   `edit([h_fwd_final; h_bwd_final])` → logits over `LemmaEdit`'s three classes (spell,
///   identity, lowercase), trained jointly with the decoder.
struct LemmatizerModel: Module {
    var embedding: Embedding<Float>
    var encoder: LSTM<Float>
    var bridge: Linear<Float>
    var decoder: LSTMCell<Float>
    var attention: AdditiveAttention<Float>
    var output: Linear<Float>
    var edit: Linear<Float>?

    init(symbolCount: Int, embeddingSize: Int, hiddenSize: Int, attentionSize: Int, editClasses: Bool,
         using generator: inout RandomGenerator) {
        let encoded = 2 * hiddenSize, decoderSize = 2 * hiddenSize
        embedding = Embedding(symbolCount, embeddingSize, paddingIndex: 0, using: &generator)
        encoder = LSTM(inputSize: embeddingSize, hiddenSize: hiddenSize, batchFirst: true, bidirectional: true, using: &generator)
        bridge = Linear(encoded, decoderSize, using: &generator)
        decoder = LSTMCell(inputSize: embeddingSize + encoded, hiddenSize: decoderSize, using: &generator)
        attention = AdditiveAttention(querySize: decoderSize, keySize: encoded, attentionSize: attentionSize, using: &generator)
        output = Linear(decoderSize + encoded, symbolCount, using: &generator)
        edit = editClasses ? Linear(encoded, LemmaEdit.allCases.count, using: &generator) : nil
    }

    mutating func visit(_ visitor: ModuleVisitor<Float>) {
        visitor.module("embedding", &embedding)
        visitor.module("encoder", &encoder)
        visitor.module("bridge", &bridge)
        visitor.module("decoder", &decoder)
        visitor.module("attention", &attention)
        visitor.module("output", &output)
        if edit != nil { visitor.module("edit", &edit!) }
    }

    /// What every decoder step of a batch reads: the encoder outputs `[B, S, 256]`, their
    /// projection for attention `[B, S, 128]`, and the input lengths.
    struct Memory {
        var outputs: Tensor<Float>
        var projectedKeys: Tensor<Float>
        var lengths: [Int]

        /// The memory of the first `count` rows.
        func prefix(_ count: Int) -> Memory {
            Memory(outputs: outputs.narrow(dim: 0, start: 0, length: count),
                   projectedKeys: projectedKeys.narrow(dim: 0, start: 0, length: count), lengths: Array(lengths.prefix(count)))
        }

        /// The memory of the given rows (a beam's hypotheses).
        func rows(_ rows: IntTensor) -> Memory {
            Memory(outputs: outputs.indexSelect(dim: 0, index: rows), projectedKeys: projectedKeys.indexSelect(dim: 0, index: rows),
                   lengths: rows.scalars.map { lengths[$0] })
        }
    }

    /// The decoder's state between steps: `h`, `c` `[B, 256]` and the last context `[B, 256]`.
    struct State {
        var h: Tensor<Float>
        var c: Tensor<Float>
        var context: Tensor<Float>

        /// The state of the first `count` rows.
        func prefix(_ count: Int) -> State {
            State(h: h.narrow(dim: 0, start: 0, length: count), c: c.narrow(dim: 0, start: 0, length: count),
                  context: context.narrow(dim: 0, start: 0, length: count))
        }

        /// The state of the given rows.
        func rows(_ rows: IntTensor) -> State {
            State(h: h.indexSelect(dim: 0, index: rows), c: c.indexSelect(dim: 0, index: rows),
                  context: context.indexSelect(dim: 0, index: rows))
        }
    }

    /// Encodes a padded batch of encoder inputs: the memory, the decoder's start state and
    /// the edit classifier's logits `[B, 3]` (nil without the classifier).
    func encode(_ inputs: PaddedBatch) throws -> (memory: Memory, state: State, editLogits: Tensor<Float>?) {
        let (outputs, hN, _) = try encoder(embedding(inputs.values), lengths: inputs.lengths)
        let final = Tensor.cat([hN.select(dim: 0, index: 0), hN.select(dim: 0, index: 1)], dim: 1)
        let h = bridge(final).tanh()
        let batch = inputs.lengths.count
        let state = State(h: h, c: Tensor.zeros([batch, decoder.hiddenSize]), context: Tensor.zeros([batch, outputs.shape[2]]))
        let memory = Memory(outputs: outputs, projectedKeys: attention.projectKeys(outputs), lengths: inputs.lengths)
        return (memory, state, edit.map { $0(final) })
    }

    /// The recurrent part of a decoder step: the embedded previous symbols `[B, 64]` → the
    /// next state (its `h` and `context` are what the output layer reads).
    func advance(_ embedded: Tensor<Float>, _ state: State, _ memory: Memory) throws -> State {
        let (h, c) = decoder(Tensor.cat([embedded, state.context], dim: 1), (state.h, state.c))
        let (context, _) = try attention(query: h, projectedKeys: memory.projectedKeys, values: memory.outputs, lengths: memory.lengths)
        return State(h: h, c: c, context: context)
    }

    /// One decoder step: the previous symbol of every row `[B]` → logits `[B, V]` and the
    /// next state.
    func step(_ previous: IntTensor, _ state: State, _ memory: Memory) throws -> (logits: Tensor<Float>, state: State) {
        let next = try advance(embedding(previous), state, memory)
        return (output(Tensor.cat([next.h, next.context], dim: 1)), next)
    }

    /// The teacher-forced loss of a batch: cross-entropy of every target symbol (the lemma's
    /// symbols and `</s>`), averaged over the target symbols, plus (with the classifier) the
    /// edit classes' cross-entropy against `edits` (one class per item), averaged over the
    /// items.
    ///
    /// The batch must be sorted by target length, longest first. Step t then runs only the
    /// rows whose targets are longer than t (a prefix of the batch, shrinking as targets
    /// end), the way a packed sequence runs a recurrent layer: the padded steps of the
    /// other rows would only feed ignored targets, so the loss and its gradients are those
    /// of the padded batch with padding ignored, without computing the padding.
    func loss(inputs: PaddedBatch, decoderInputs: PaddedBatch, targets: PaddedBatch, edits: [LemmaEdit]) throws -> Tensor<Float> {
        let lengths = targets.lengths
        precondition(zip(lengths, lengths.dropFirst()).allSatisfy { $0 >= $1 }, "LemmatizerModel.loss: sort the batch by target length")
        let (fullMemory, start, editLogits) = try encode(inputs)
        var state = start, memory = fullMemory, active = lengths.count
        // The embedding of the decoder inputs runs once for all steps, the output layer once
        // after the loop, over the rows of all steps.
        let embedded = embedding(decoderInputs.values)
        var readouts: [Tensor<Float>] = []
        var packedTargets: [Int] = []
        let steps = targets.values.shape[1]
        for t in 0..<steps {
            let rows = lengths.prefix { $0 > t }.count
            if rows < active {
                (state, memory, active) = (state.prefix(rows), fullMemory.prefix(rows), rows)
            }
            state = try advance(embedded.select(dim: 1, index: t).narrow(dim: 0, start: 0, length: rows), state, memory)
            readouts.append(Tensor.cat([state.h, state.context], dim: 1))
            for row in 0..<rows { packedTargets.append(targets.values[row, t]) }
        }
        let symbolLoss = crossEntropy(output(Tensor.cat(readouts, dim: 0)), IntTensor(packedTargets))
        guard let editLogits else { return symbolLoss }
        return symbolLoss + crossEntropy(editLogits, IntTensor(edits.map(\.rawValue)))
    }
}
