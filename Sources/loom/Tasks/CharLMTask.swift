import Foundation
import Loom

/// The character-level language model: Embedding(vocab, 64) → LSTM(256) → Linear(256,
/// vocab), trained with truncated BPTT on contiguous streams, carrying the detached state
/// from one chunk to the next.
struct CharLMModel: Module {
    typealias State = (h: Tensor<Float>, c: Tensor<Float>)
    var embedding: Embedding<Float>
    var lstm: LSTM<Float>
    var output: Linear<Float>

    /// A model drawing its initial weights from `generator`.
    init(vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, using generator: inout RandomGenerator) {
        embedding = Embedding(vocabularySize, embeddingSize, using: &generator)
        lstm = LSTM(inputSize: embeddingSize, hiddenSize: hiddenSize, batchFirst: true, using: &generator)
        output = Linear(hiddenSize, vocabularySize, using: &generator)
    }

    mutating func visit(_ visitor: ModuleVisitor<Float>) {
        visitor.module("embedding", &embedding)
        visitor.module("lstm", &lstm)
        visitor.module("output", &output)
    }

    /// Next-character logits `[B·T, vocab]` for inputs `[B, T]` starting from `state`
    /// (zeros when nil), and the state after the last step.
    func forward(_ inputs: IntTensor, state: State?, using generator: inout RandomGenerator) throws -> (logits: Tensor<Float>, state: State) {
        let (states, hN, cN) = try lstm.forward(embedding(inputs), lengths: nil, initialState: state, using: &generator)
        let logits = output(states.reshaped([states.shape[0] * states.shape[1], states.shape[2]]))
        return (logits, (hN, cN))
    }
}

enum CharLMTask {
    struct Defaults {
        static let embeddingSize = 64, hiddenSize = 256, streams = 32, chunkLength = 100
        static let learningRate = 2e-3, clipNorm = 5.0
        static let epochsEmbedded = 10, epochsRealData = 3
    }

    static func train(_ options: TrainOptions) throws {
        // The vocabulary is every character of the training text (dev split included).
        let text: String
        var testText: (source: String, text: String)?
        var devText: (source: String, text: String)?
        let trainSource = options.data ?? "<embedded verse>"
        if let path = options.data {
            text = try PlainText.read(path: path)
            devText = try options.dev.map { ($0, try PlainText.read(path: $0)) }
            testText = try options.test.map { ($0, try PlainText.read(path: $0)) }
        } else {
            text = EmbeddedDatasets.verse()
            testText = ("<embedded verse test>", EmbeddedDatasets.verse(characterCount: 6_000, seed: 0xC4A8))
        }
        let vocabulary = CharLMTask.vocabulary(of: text)
        var trainIds = try vocabulary.encode(text.unicodeScalars, source: trainSource)
        var devIds: [Int]
        if let devText {
            devIds = try vocabulary.encode(devText.text.unicodeScalars, source: devText.source)
        } else {
            (trainIds, devIds) = TrainDevSplit.splitLast(trainIds)
        }
        let testIds = try testText.map { try vocabulary.encode($0.text.unicodeScalars, source: $0.source) }
        if let limit = options.limit { trainIds = Array(trainIds.prefix(limit)) }

        let streamCount = options.batchSize ?? Defaults.streams
        guard trainIds.count >= 2 * streamCount else {
            throw DataError(file: trainSource, message: "the training text has \(trainIds.count) characters; "
                            + "\(streamCount) streams need at least \(2 * streamCount)")
        }
        let streams = CharacterStreams(ids: trainIds, streamCount: streamCount, chunkLength: Defaults.chunkLength)
        let embeddingSize = options.embeddingSize ?? Defaults.embeddingSize
        let hiddenSize = options.hiddenSize ?? Defaults.hiddenSize
        let epochs = options.epochs ?? (options.data == nil ? Defaults.epochsEmbedded : Defaults.epochsRealData)
        print("charlm on \(options.dataName): \(trainIds.count) training characters, \(devIds.count) dev, "
              + "\(testIds?.count ?? 0) test; \(vocabulary.count) distinct characters")

        var generator = RandomGenerator(seed: options.seed)
        var model = CharLMModel(vocabularySize: vocabulary.count, embeddingSize: embeddingSize, hiddenSize: hiddenSize,
                                using: &generator)
        var optimizer = Adam<Float>(learningRate: Float(options.learningRate ?? Defaults.learningRate))
        print("model: Embedding(\(vocabulary.count), \(embeddingSize)) → LSTM(\(hiddenSize)) → Linear(\(hiddenSize), \(vocabulary.count)); "
              + "\(model.parameterCount) parameters; \(streamCount) streams × chunks of \(Defaults.chunkLength) (truncated BPTT), "
              + "Adam lr \(optimizer.learningRate), clip \(Defaults.clipNorm), \(epochs) epochs, seed \(options.seed)")

        let description = CheckpointDescription(task: TaskKind.charlm.rawValue, embeddingSize: embeddingSize,
                                                hiddenSize: hiddenSize, layers: 1, characters: String(String.UnicodeScalarView(vocabulary.tokens)))
        var checkpointing = Checkpointing(options: options, metadata: try description.metadata(), stepsPerEpoch: streams.chunkCount)
        try checkpointing.resume(from: options.resume, model: &model, optimizer: &optimizer, generator: &generator)
        var session = TrainingSession(title: "charlm on \(options.dataName)", epochs: epochs, stepsPerEpoch: streams.chunkCount,
                                      unit: "chars", metricName: "dev loss (nats/char)")
        for epoch in checkpointing.epochs(through: epochs) {
            checkpointing.begin(epoch, in: &session)
            model.train()
            // The state carried from chunk to chunk; a resumed epoch continues the saved one.
            var state: CharLMModel.State?
            let saved = checkpointing.extraTensors(for: epoch)
            if let h = saved["h"], let c = saved["c"] { state = (h, c) }
            for index in checkpointing.firstStep(of: epoch)..<streams.chunkCount {
                let (inputs, targets) = streams.chunk(index)
                try session.trainStep(&model, &optimizer, clipNorm: Defaults.clipNorm, items: inputs.count) { model in
                    let (logits, next) = try model.forward(inputs, state: state, using: &generator)
                    state = (next.h.detached(), next.c.detached())  // truncated BPTT: carry the values, not the graph
                    return crossEntropy(logits, targets.reshaped([targets.count]))
                }
                try checkpointing.afterStep(epoch: epoch, step: index + 1, batches: [], model: model, optimizer: optimizer,
                                            generator: generator, session: session,
                                            extraTensors: state.map { ["h": $0.h, "c": $0.c] } ?? [:])
            }
            let devLoss = try Self.loss(of: model, on: devIds)
            session.endEpoch(metric: devLoss, metricText: ProgressFormat.fixed(devLoss, decimals: 4))
        }
        try checkpointing.finish(epochs: epochs, model: model, optimizer: optimizer, generator: generator, session: session)

        var results: [String] = []
        if let testIds {
            let testLoss = try Self.loss(of: model, on: testIds)
            results.append("test loss: \(ProgressFormat.fixed(testLoss, decimals: 4)) nats/char (\(testIds.count) characters)")
        }
        try session.finish(model: model, results: results, metadata: try description.metadata(), options: options)
    }

    /// The mean next-character cross-entropy (nats per character) of `model` over `ids`,
    /// read as up to 32 contiguous streams in chunks of 100 with the state carried.
    static func loss(of model: CharLMModel, on ids: [Int]) throws -> Double {
        let streamCount = max(1, min(Defaults.streams, ids.count / (Defaults.chunkLength + 1)))
        let streams = CharacterStreams(ids: ids, streamCount: streamCount, chunkLength: Defaults.chunkLength)
        var unused = RandomGenerator(seed: 0)
        var total = 0.0, count = 0
        try withoutGradient {
            var state: CharLMModel.State?
            for index in 0..<streams.chunkCount {
                let (inputs, targets) = streams.chunk(index)
                let (logits, next) = try model.forward(inputs, state: state, using: &unused)
                state = next
                total += Double(crossEntropy(logits, targets.reshaped([targets.count]), reduction: .sum).item)
                count += targets.count
            }
        }
        return count == 0 ? .nan : total / Double(count)
    }

    /// The model's vocabulary: every code point of the training text, in ascending order
    /// (Python's `sorted(set(text))`), no special entries.
    static func vocabulary(of text: String) -> Vocabulary<Unicode.Scalar> {
        Vocabulary(counting: [text.unicodeScalars], order: .sorted)
    }

    /// Rebuilds the model of a charlm checkpoint.
    static func load(_ checkpoint: LoadedCheckpoint) throws -> (model: CharLMModel, vocabulary: Vocabulary<Unicode.Scalar>) {
        let description = checkpoint.description
        guard description.task == TaskKind.charlm.rawValue else {
            throw ToolError("checkpoint \(checkpoint.path) holds a \(description.task) model; `loom sample` needs a charlm checkpoint")
        }
        let vocabulary = Vocabulary(tokens: Array(try checkpoint.require(description.characters, "characters").unicodeScalars))
        var generator = RandomGenerator(seed: 0)
        var model = CharLMModel(vocabularySize: vocabulary.count,
                                embeddingSize: try checkpoint.require(description.embeddingSize, "embeddingSize"),
                                hiddenSize: description.hiddenSize, using: &generator)
        try checkpoint.load(into: &model)
        model.eval()
        return (model, vocabulary)
    }

    /// `loom evaluate` for a charlm checkpoint on a text file: nats per character.
    static func evaluate(_ checkpoint: LoadedCheckpoint, dataPath: String) throws {
        let (model, vocabulary) = try load(checkpoint)
        let ids = try vocabulary.encode(try PlainText.read(path: dataPath).unicodeScalars, source: dataPath)
        let loss = try loss(of: model, on: ids)
        print("charlm \(checkpoint.path) on \(dataPath): \(ids.count) characters")
        print("loss: \(ProgressFormat.fixed(loss, decimals: 4)) nats/char")
    }

    /// Generates `length` characters after `prime`, sampling each from the softmax of the
    /// logits divided by `temperature`, with `generator`. Calls `emit` with each piece of
    /// text (the prime first) as it is produced.
    static func sample(model: CharLMModel, vocabulary: Vocabulary<Unicode.Scalar>, primeIds: [Int], length: Int, temperature: Double,
                       using generator: inout RandomGenerator, emit: (String) -> Void) throws {
        var unused = RandomGenerator(seed: 0)
        try withoutGradient {
            let (primeLogits, primeState) = try model.forward(IntTensor(shape: [1, primeIds.count], scalars: primeIds),
                                                              state: nil, using: &unused)
            var state = primeState
            let classes = vocabulary.count
            var logits = Array(primeLogits.scalars[((primeIds.count - 1) * classes)...])
            emit(String(String.UnicodeScalarView(vocabulary.decode(primeIds))))
            for _ in 0..<length {
                let next = drawIndex(logits: logits, temperature: temperature, using: &generator)
                emit(String(String.UnicodeScalarView(vocabulary.decode([next]))))
                let step = try model.forward(IntTensor(shape: [1, 1], scalars: [next]), state: state, using: &unused)
                state = step.state
                logits = step.logits.scalars
            }
        }
    }

    /// An index drawn from softmax(logits / temperature) (computed in Double, max-shifted).
    static func drawIndex(logits: [Float], temperature: Double, using generator: inout RandomGenerator) -> Int {
        let scaled = logits.map { Double($0) / temperature }
        let largest = scaled.max() ?? 0
        let weights = scaled.map { Foundation.exp($0 - largest) }
        var threshold = generator.nextUnit() * weights.reduce(0, +)
        for (index, weight) in weights.enumerated() {
            threshold -= weight
            if threshold < 0 { return index }
        }
        return weights.count - 1
    }
}
