import Foundation
import Loom

/// The part-of-speech tagger: Embedding(V, 100, padding 0) → 2-layer BiLSTM(128, dropout
/// 0.3 between layers) → Linear(256, tags), trained with cross-entropy over the real
/// tokens (padding targets are -100 and ignored).
struct TaggerModel: Module {
    var embedding: Embedding<Float>
    var lstm: LSTM<Float>
    var output: Linear<Float>

    /// A tagger drawing its initial weights from `generator` (embedding, LSTM, output, in
    /// that order).
    init(vocabularySize: Int, tagCount: Int, embeddingSize: Int, hiddenSize: Int, layers: Int,
         using generator: inout RandomGenerator) {
        embedding = Embedding(vocabularySize, embeddingSize, paddingIndex: 0, using: &generator)
        lstm = LSTM(inputSize: embeddingSize, hiddenSize: hiddenSize, numLayers: layers, batchFirst: true,
                    dropout: layers > 1 ? 0.3 : 0, bidirectional: true, using: &generator)
        output = Linear(2 * hiddenSize, tagCount, using: &generator)
    }

    mutating func visit(_ visitor: ModuleVisitor<Float>) {
        visitor.module("embedding", &embedding)
        visitor.module("lstm", &lstm)
        visitor.module("output", &output)
    }

    /// Tag logits `[B·T, tags]` for a padded batch of word ids `[B, T]`.
    func logits(_ words: PaddedBatch, using generator: inout RandomGenerator) throws -> Tensor<Float> {
        let (states, _, _) = try lstm.forward(embedding(words.values), lengths: words.lengths, using: &generator)
        return output(states.reshaped([states.shape[0] * states.shape[1], states.shape[2]]))
    }
}

/// Sentences as word ids and tag ids.
struct EncodedSentences {
    var words: [[Int]] = []
    var tags: [[Int]] = []
    var count: Int { words.count }
    var tokenCount: Int { words.reduce(0) { $0 + $1.count } }

    /// `sentences` encoded with the vocabularies; a tag the training data never used is an
    /// error naming `source` and the sentence's line.
    init(_ sentences: [TaggedSentence], vocabulary: Vocabulary, tags tagVocabulary: LabelVocabulary, source: String) throws {
        for sentence in sentences {
            words.append(vocabulary.encode(sentence.words))
            tags.append(try tagVocabulary.encode(sentence.tags, source: source, line: sentence.line))
        }
    }
}

enum TaggerTask {
    struct Defaults {
        static let embeddingSize = 100, hiddenSize = 128, layers = 2, batchSize = 32
        static let learningRate = 2e-3, clipNorm = 5.0, minCount = 2
        static let epochsEmbedded = 10, epochsRealData = 5
    }

    static func train(_ options: TrainOptions) throws {
        // Data: CoNLL-U files, or the embedded corpus (its test part generated separately).
        var train: [TaggedSentence], dev: [TaggedSentence], test: [TaggedSentence]?
        let trainSource = options.data ?? "<embedded tagger corpus>"
        if let path = options.data {
            let all = try CoNLLU.read(path: path)
            if let devPath = options.dev {
                (train, dev) = (all, try CoNLLU.read(path: devPath))
            } else {
                (train, dev) = TrainDevSplit.splitLast(all)
            }
            test = try options.test.map { try CoNLLU.read(path: $0) }
        } else {
            let embedded = EmbeddedDatasets.tagger()
            (train, dev) = TrainDevSplit.splitLast(embedded.train)
            test = embedded.test
        }
        if let limit = options.limit { train = Array(train.prefix(limit)) }
        guard !train.isEmpty else { throw DataError(file: trainSource, message: "no sentences to train on") }

        let vocabulary = Vocabulary(counting: train.map(\.words), minCount: Defaults.minCount)
        let tags = LabelVocabulary(collecting: train.map(\.tags))
        let trainSet = try EncodedSentences(train, vocabulary: vocabulary, tags: tags, source: trainSource)
        let devSet = try EncodedSentences(dev, vocabulary: vocabulary, tags: tags, source: options.dev ?? trainSource)
        let testSet = try test.map { try EncodedSentences($0, vocabulary: vocabulary, tags: tags, source: options.test ?? "<embedded tagger test>") }

        let embeddingSize = options.embeddingSize ?? Defaults.embeddingSize
        let hiddenSize = options.hiddenSize ?? Defaults.hiddenSize
        let batchSize = options.batchSize ?? Defaults.batchSize
        let epochs = options.epochs ?? (options.data == nil ? Defaults.epochsEmbedded : Defaults.epochsRealData)
        print("tagger on \(options.dataName): \(trainSet.count) training sentences (\(trainSet.tokenCount) tokens), "
              + "\(devSet.count) dev, \(testSet?.count ?? 0) test; vocabulary \(vocabulary.count), \(tags.count) tags")

        var generator = RandomGenerator(seed: options.seed)
        var model = TaggerModel(vocabularySize: vocabulary.count, tagCount: tags.count, embeddingSize: embeddingSize,
                                hiddenSize: hiddenSize, layers: Defaults.layers, using: &generator)
        var optimizer = Adam<Float>(learningRate: Float(options.learningRate ?? Defaults.learningRate))
        print("model: Embedding(\(vocabulary.count), \(embeddingSize)) → \(Defaults.layers)-layer BiLSTM(\(hiddenSize), dropout 0.3) "
              + "→ Linear(\(2 * hiddenSize), \(tags.count)); \(model.parameterCount) parameters; batch \(batchSize), "
              + "Adam lr \(optimizer.learningRate), clip \(Defaults.clipNorm), \(epochs) epochs, seed \(options.seed)")

        let stepsPerEpoch = (trainSet.count + batchSize - 1) / batchSize
        let description = CheckpointDescription(task: TaskKind.tagger.rawValue, embeddingSize: embeddingSize, hiddenSize: hiddenSize,
                                                layers: Defaults.layers, words: vocabulary.tokens, tags: tags.labels)
        var checkpointing = Checkpointing(options: options, metadata: try description.metadata(), stepsPerEpoch: stepsPerEpoch)
        try checkpointing.resume(from: options.resume, model: &model, optimizer: &optimizer, generator: &generator)
        var session = TrainingSession(title: "tagger on \(options.dataName)", epochs: epochs, stepsPerEpoch: stepsPerEpoch,
                                      unit: "tokens", metricName: "dev accuracy")
        for epoch in checkpointing.epochs(through: epochs) {
            checkpointing.begin(epoch, in: &session)
            model.train()
            let batches = checkpointing.batches(for: epoch) {
                Batching.shuffledBatchIndices(count: trainSet.count, batchSize: batchSize, using: &generator)
            }
            for (index, batch) in batches.enumerated() where index >= checkpointing.firstStep(of: epoch) {
                let words = Batching.pad(batch.map { trainSet.words[$0] })
                let targets = Batching.padTags(batch.map { trainSet.tags[$0] })
                let tokens = words.lengths.reduce(0, +)
                try session.trainStep(&model, &optimizer, clipNorm: Defaults.clipNorm, items: tokens) { model in
                    let logits = try model.logits(words, using: &generator)
                    return crossEntropy(logits, targets.values.reshaped([targets.values.count]), ignoreIndex: Batching.ignoreIndex)
                }
                try checkpointing.afterStep(epoch: epoch, step: index + 1, batches: batches, model: model, optimizer: optimizer,
                                            generator: generator, session: session)
            }
            let accuracy = try Self.accuracy(of: &model, on: devSet, batchSize: batchSize)
            session.endEpoch(metric: accuracy, metricText: ProgressFormat.fixed(accuracy, decimals: 4))
        }
        try checkpointing.finish(epochs: epochs, model: model, optimizer: optimizer, generator: generator, session: session)

        var results: [String] = []
        if let testSet {
            let accuracy = try Self.accuracy(of: &model, on: testSet, batchSize: batchSize)
            results.append("test accuracy: \(ProgressFormat.fixed(accuracy, decimals: 4)) (\(testSet.tokenCount) tokens)")
        }
        try session.finish(model: model, results: results, metadata: try description.metadata(), options: options)
    }

    /// Token accuracy of `model` (switched to evaluation mode) on `set`.
    static func accuracy(of model: inout TaggerModel, on set: EncodedSentences, batchSize: Int) throws -> Double {
        model.eval()
        defer { model.train() }
        var unused = RandomGenerator(seed: 0)  // evaluation draws nothing; keeps the training stream untouched
        var correct = 0, total = 0
        try withoutGradient {
            for batch in Batching.batchIndices(count: set.count, batchSize: batchSize) {
                let words = Batching.pad(batch.map { set.words[$0] })
                let targets = Batching.padTags(batch.map { set.tags[$0] }).values.scalars
                let predicted = try model.logits(words, using: &unused).max(dim: 1).indices.scalars
                for (guess, target) in zip(predicted, targets) where target != Batching.ignoreIndex {
                    total += 1
                    if guess == target { correct += 1 }
                }
            }
        }
        return total == 0 ? .nan : Double(correct) / Double(total)
    }

    /// `loom evaluate` for a tagger checkpoint on a CoNLL-U file.
    static func evaluate(_ checkpoint: LoadedCheckpoint, dataPath: String) throws {
        let description = checkpoint.description
        let vocabulary = Vocabulary(tokens: try checkpoint.require(description.words, "words"))
        let tags = LabelVocabulary(labels: try checkpoint.require(description.tags, "tags"))
        var generator = RandomGenerator(seed: 0)
        var model = TaggerModel(vocabularySize: vocabulary.count, tagCount: tags.count,
                                embeddingSize: try checkpoint.require(description.embeddingSize, "embeddingSize"),
                                hiddenSize: description.hiddenSize, layers: description.layers ?? Defaults.layers, using: &generator)
        try checkpoint.load(into: &model)
        let set = try EncodedSentences(try CoNLLU.read(path: dataPath), vocabulary: vocabulary, tags: tags, source: dataPath)
        let accuracy = try accuracy(of: &model, on: set, batchSize: Defaults.batchSize)
        print("tagger \(checkpoint.path) on \(dataPath): \(set.count) sentences, \(set.tokenCount) tokens")
        print("accuracy: \(ProgressFormat.fixed(accuracy, decimals: 4))")
    }
}
