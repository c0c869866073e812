import Foundation
import Loom

/// The sentiment classifier: Embedding(V, 100) → BiLSTM (or BiGRU) (128) → [final forward
/// h, final backward h] → Dropout(0.3) → Linear(256, 1), trained with BCE on the logit.
struct ClassifierModel: Module {
    var embedding: Embedding<Float>
    var encoder: WordEncoder
    var dropout: Dropout<Float>
    var output: Linear<Float>

    /// A classifier drawing its initial weights from `generator`.
    init(vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, cell: RecurrentCellKind = .lstm,
         using generator: inout RandomGenerator) {
        // No padding index (as the reference model): padded steps get no gradient anyway.
        embedding = Embedding(vocabularySize, embeddingSize, using: &generator)
        encoder = WordEncoder(cell: cell, inputSize: embeddingSize, hiddenSize: hiddenSize, bidirectional: true, using: &generator)
        dropout = Dropout(p: 0.3)
        output = Linear(2 * hiddenSize, 1, using: &generator)
    }

    mutating func visit(_ visitor: ModuleVisitor<Float>) {
        visitor.module("embedding", &embedding)
        visitor.module(encoder.cell.rawValue, &encoder)
        visitor.module("dropout", &dropout)
        visitor.module("output", &output)
    }

    /// One logit per text, `[B]`, for a padded batch of token ids `[B, T]`.
    func logits(_ tokens: PaddedBatch, using generator: inout RandomGenerator) throws -> Tensor<Float> {
        let (_, hN) = try encoder.forward(embedding(tokens.values), lengths: tokens.lengths, using: &generator)
        // hN is [directions, B, H]: index 0 the forward direction's last real step, 1 the
        // backward direction's state after reading the whole sequence from the end.
        let features = Tensor.cat([hN.select(dim: 0, index: 0), hN.select(dim: 0, index: 1)], dim: 1)
        let logits = output(dropout(features, using: &generator))
        return logits.reshaped([tokens.lengths.count])
    }
}

/// Texts as token ids with their labels.
struct EncodedTexts {
    var tokens: [[Int]] = []
    var labels: [Int] = []
    var count: Int { labels.count }

    init(_ examples: [LabeledExample], vocabulary: Vocabulary<String>, maxTokens: Int?) {
        for example in examples {
            tokens.append(vocabulary.encode(example.tokens(maxTokens: maxTokens)))
            labels.append(example.label)
        }
    }
}

enum ClassifierTask {
    struct Defaults {
        static let embeddingSize = 100, hiddenSize = 128, batchSize = 32
        static let learningRate = 1e-3, clipNorm = 5.0, minCount = 1
        static let epochsEmbedded = 8, epochsRealData = 3
    }

    static func read(_ path: String) throws -> [LabeledExample] {
        try LabeledText.read(path: path, allowedLabels: [0, 1])
    }

    static func train(_ options: TrainOptions) throws {
        let data = try TrainingData(options, read: read, embedded: { EmbeddedDatasets.sentiment() },
                                    embeddedName: "<embedded sentiment data>", unit: "examples")
        let (train, dev, test) = (data.train, data.dev, data.test)

        // --max-tokens cuts each text before the vocabulary is built.
        var vocabulary = WordVocabulary.counting(train.map { $0.tokens(maxTokens: options.maxTokens) }, minCount: Defaults.minCount)
        let vectors = try options.embeddings.map { try WordVectors.read(path: $0) }
        var addedWords = 0
        if let vectors {
            (vocabulary, addedWords) = PretrainedEmbeddings.extend(
                vocabulary, with: (dev + (test ?? [])).lazy.map { $0.tokens(maxTokens: options.maxTokens) }, from: vectors)
        }
        let trainSet = EncodedTexts(train, vocabulary: vocabulary, maxTokens: options.maxTokens)
        let devSet = EncodedTexts(dev, vocabulary: vocabulary, maxTokens: options.maxTokens)
        let testSet = test.map { EncodedTexts($0, vocabulary: vocabulary, maxTokens: options.maxTokens) }

        let embeddingSize = vectors?.dimension ?? options.embeddingSize ?? Defaults.embeddingSize
        let hiddenSize = options.hiddenSize ?? Defaults.hiddenSize
        let batchSize = options.batchSize ?? Defaults.batchSize
        let epochs = options.epochs ?? (options.data == nil ? Defaults.epochsEmbedded : Defaults.epochsRealData)
        let positives = trainSet.labels.reduce(0, +)
        print("classifier on \(options.dataName): \(trainSet.count) training texts (\(positives) positive), \(devSet.count) dev, "
              + "\(testSet?.count ?? 0) test; vocabulary \(vocabulary.count)"
              + (options.maxTokens.map { "; first \($0) tokens of each text" } ?? ""))

        var generator = RandomGenerator(seed: options.seed)
        var model = ClassifierModel(vocabularySize: vocabulary.count, embeddingSize: embeddingSize, hiddenSize: hiddenSize,
                                    cell: options.cell, using: &generator)
        if let vectors, let path = options.embeddings {
            PretrainedEmbeddings.start(&model.embedding, from: vectors, path: path, vocabulary: vocabulary, addedWords: addedWords,
                                       frozen: options.freezeEmbeddings)
        }
        var optimizer = Adam<Float>(learningRate: Float(options.learningRate ?? Defaults.learningRate))
        print("model: Embedding(\(vocabulary.count), \(embeddingSize)) → \(options.cell == .lstm ? "BiLSTM" : "BiGRU")(\(hiddenSize)) → Dropout(0.3) → Linear(\(2 * hiddenSize), 1); "
              + "\(model.parameterCount) parameters; batch \(batchSize), Adam lr \(optimizer.learningRate), clip \(Defaults.clipNorm), "
              + "\(epochs) epochs, seed \(options.seed)")

        let stepsPerEpoch = (trainSet.count + batchSize - 1) / batchSize
        let description = CheckpointDescription(task: TaskKind.classifier.rawValue, embeddingSize: embeddingSize,
                                                hiddenSize: hiddenSize, layers: 1, words: vocabulary.entryTexts,
                                                cell: options.cell == .lstm ? nil : options.cell.rawValue, maxTokens: options.maxTokens)
        var checkpointing = Checkpointing(options: options, metadata: try description.metadata(), stepsPerEpoch: stepsPerEpoch)
        try checkpointing.resume(from: options.resume, model: &model, optimizer: &optimizer, generator: &generator)
        if options.freezeEmbeddings { model.embedding.weight.requiresGrad = false }
        var session = TrainingSession(title: "classifier on \(options.dataName)", epochs: epochs, stepsPerEpoch: stepsPerEpoch,
                                      unit: "sequences", metricName: "dev accuracy")
        for epoch in checkpointing.epochs(through: epochs) {
            checkpointing.begin(epoch, in: &session)
            model.train()
            let batches = checkpointing.batches(for: epoch) {
                Batching.shuffledBatchIndices(count: trainSet.count, batchSize: batchSize, using: &generator)
            }
            for (index, batch) in batches.enumerated() where index >= checkpointing.firstStep(of: epoch) {
                let tokens = Batching.pad(batch.map { trainSet.tokens[$0] })
                let labels = Tensor<Float>(shape: [batch.count], scalars: batch.map { Float(trainSet.labels[$0]) })
                try session.trainStep(&model, &optimizer, clipNorm: Defaults.clipNorm, items: batch.count) { model in
                    binaryCrossEntropyWithLogits(try model.logits(tokens, using: &generator), labels)
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
            results.append("test accuracy: \(ProgressFormat.fixed(accuracy, decimals: 4)) (\(testSet.count) texts)")
        }
        try session.finish(model: model, results: results, metadata: try description.metadata(), options: options)
    }

    /// Accuracy of `model` (in evaluation mode) on `set`: a text is positive when its
    /// logit is above 0.
    static func accuracy(of model: inout ClassifierModel, on set: EncodedTexts, batchSize: Int) throws -> Double {
        model.eval()
        defer { model.train() }
        var unused = RandomGenerator(seed: 0)
        var correct = 0
        try withoutGradient {
            for batch in Batching.batchIndices(count: set.count, batchSize: batchSize) {
                let logits = try model.logits(Batching.pad(batch.map { set.tokens[$0] }), using: &unused).scalars
                for (logit, index) in zip(logits, batch) where (logit > 0 ? 1 : 0) == set.labels[index] {
                    correct += 1
                }
            }
        }
        return set.count == 0 ? .nan : Double(correct) / Double(set.count)
    }

    /// `loom evaluate` for a classifier checkpoint on a TSV file.
    static func evaluate(_ checkpoint: LoadedCheckpoint, dataPath: String) throws {
        let description = checkpoint.description
        let vocabulary = try WordVocabulary.restore(try checkpoint.require(description.words, "words"), source: checkpoint.path)
        var generator = RandomGenerator(seed: 0)
        guard let cell = RecurrentCellKind(rawValue: description.cell ?? "lstm") else {
            throw ToolError("checkpoint \(checkpoint.path): unknown cell \"\(description.cell ?? "")\" in its model description")
        }
        var model = ClassifierModel(vocabularySize: vocabulary.count,
                                    embeddingSize: try checkpoint.require(description.embeddingSize, "embeddingSize"),
                                    hiddenSize: description.hiddenSize, cell: cell, using: &generator)
        try checkpoint.load(into: &model)
        let set = EncodedTexts(try read(dataPath), vocabulary: vocabulary, maxTokens: description.maxTokens)
        let accuracy = try accuracy(of: &model, on: set, batchSize: Defaults.batchSize)
        print("classifier \(checkpoint.path) on \(dataPath): \(set.count) texts")
        print("accuracy: \(ProgressFormat.fixed(accuracy, decimals: 4))")
    }
}
