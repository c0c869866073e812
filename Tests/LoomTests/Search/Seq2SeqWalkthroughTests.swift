import Testing
import Loom

// The encoder–decoder of Docs/Seq2Seq.md, written from the public API only (plain
// `import Loom`), learning to reverse short strings.

/// Embedding → BiLSTM encoder; LSTMCell decoder with input feeding and additive attention.
private struct Reverser: Module {
    typealias Scalar = Double
    var embedding: Embedding<Double>
    var encoder: LSTM<Double>
    var bridge: Linear<Double>
    var decoder: LSTMCell<Double>
    var attention: AdditiveAttention<Double>
    var output: Linear<Double>

    init(symbols: Int, using generator: inout RandomGenerator) {
        embedding = Embedding(symbols, 8, paddingIndex: 0, using: &generator)
        encoder = LSTM(inputSize: 8, hiddenSize: 8, batchFirst: true, bidirectional: true, using: &generator)
        bridge = Linear(16, 16, using: &generator)
        decoder = LSTMCell(inputSize: 8 + 16, hiddenSize: 16, using: &generator)
        attention = AdditiveAttention(querySize: 16, keySize: 16, attentionSize: 8, using: &generator)
        output = Linear(32, symbols, using: &generator)
    }

    /// Encoder outputs [B, S, 16], their projected keys [B, S, 8], and the start state.
    struct Memory { var outputs: Tensor<Double>; var keys: Tensor<Double>; var lengths: [Int] }
    struct State { var h: Tensor<Double>; var c: Tensor<Double>; var context: Tensor<Double> }

    func encode(_ source: PaddedBatch) throws -> (Memory, State) {
        let (outputs, hN, _) = try encoder(embedding(source.values), lengths: source.lengths)   // [B, S, 16], [2, B, 8]
        let h = bridge(Tensor.cat([hN.select(dim: 0, index: 0), hN.select(dim: 0, index: 1)], dim: 1)).tanh()
        let batch = source.lengths.count
        return (Memory(outputs: outputs, keys: attention.projectKeys(outputs), lengths: source.lengths),
                State(h: h, c: Tensor.zeros([batch, 16]), context: Tensor.zeros([batch, 16])))
    }

    func step(_ previous: IntTensor, _ state: State, _ memory: Memory) throws -> (logits: Tensor<Double>, state: State) {
        let (h, c) = decoder(Tensor.cat([embedding(previous), state.context], dim: 1), (state.h, state.c))   // [B, 16]
        let (context, _) = try attention(query: h, projectedKeys: memory.keys, values: memory.outputs, lengths: memory.lengths)
        return (output(Tensor.cat([h, context], dim: 1)), State(h: h, c: c, context: context))            // [B, V]
    }

    func loss(source: PaddedBatch, decoderInput: PaddedBatch, targets: PaddedBatch) throws -> Tensor<Double> {
        let (memory, start) = try encode(source)
        var state = start
        var logits: [Tensor<Double>] = []
        for t in 0..<decoderInput.values.shape[1] {
            let (stepLogits, next) = try step(decoderInput.values.select(dim: 1, index: t), state, memory)
            logits.append(stepLogits)
            state = next
        }
        return crossEntropy(Tensor.stack(logits, dim: 2), targets.values)   // [B, V, T] against [B, T]
    }
}

@Suite struct Seq2SeqWalkthroughTests {
    @Test func anAttentionModelLearnsToReverseStrings() throws {
        let words = ["abc", "bca", "cab", "ab", "ba", "ca", "ac", "abcb", "cbca", "b", "aacb", "bbac"]
        let symbols = Vocabulary<Character>(specials: ["<pad>", "<s>", "</s>"], counting: words, order: .firstAppearance)
        let start = symbols.index(ofSpecial: "<s>")!, end = symbols.index(ofSpecial: "</s>")!
        var generator = RandomGenerator(seed: 1)
        var model = Reverser(symbols: symbols.count, using: &generator)
        var optimizer = Adam<Double>(learningRate: 0.02)

        let source = Batching.pad(words.map { symbols.encode($0) })
        let reversed = words.map { symbols.encode($0.reversed()) }
        let decoderInput = Batching.pad(reversed.map { [start] + $0 })
        let targets = Batching.padTargets(reversed.map { $0 + [end] })
        var losses: [Double] = []
        for _ in 0..<150 {
            model.zeroGrad()
            let loss = try model.loss(source: source, decoderInput: decoderInput, targets: targets)
            loss.backward()
            _ = clipGradNorm(model, maxNorm: 5)
            optimizer.step(&model)
            losses.append(loss.item)
        }
        #expect(losses.last! < 0.05 * losses.first!, "\(losses.first!) → \(losses.last!)")

        model.eval()
        let (memory, state) = try model.encode(source)
        let maxSteps = source.lengths.map { $0 + 3 }
        let greedy = try GreedySearch(startSymbol: start, endSymbol: end)(maxSteps: maxSteps, initialState: state) { previous, state in
            try model.step(previous, state, memory)
        }
        let beam = BeamSearch(beamWidth: 3, startSymbol: start, endSymbol: end)
        let rows = beam.hypothesisRows(items: words.count)
        let beamMemory = Reverser.Memory(outputs: memory.outputs.indexSelect(dim: 0, index: rows),
                                         keys: memory.keys.indexSelect(dim: 0, index: rows),
                                         lengths: rows.scalars.map { memory.lengths[$0] })
        let beamed = try beam(maxSteps: maxSteps, initialState: state, selectRows: { state, rows in
            Reverser.State(h: state.h.indexSelect(dim: 0, index: rows), c: state.c.indexSelect(dim: 0, index: rows),
                           context: state.context.indexSelect(dim: 0, index: rows))
        }) { previous, state in try model.step(previous, state, beamMemory) }
        for (index, word) in words.enumerated() {
            #expect(String(symbols.decode(greedy[index].symbols)) == String(word.reversed()))
            #expect(String(symbols.decode(beamed[index].symbols)) == String(word.reversed()))
            #expect(beamed[index].score >= greedy[index].score - 1e-9)
        }
    }
}
