import Foundation
import Loom

/// The part-of-speech tagger: Embedding(V, 100, padding 0), optionally followed by
/// character features per word → 2-layer BiLSTM (or BiGRU) (128, dropout 0.3 between layers)
/// → Linear(256, tags), trained with cross-entropy over the real tokens (padding targets are
/// -100 and ignored).
struct TaggerModel: Module {
    var embedding: Embedding<Float>
    var encoder: WordEncoder
    var output: Linear<Float>
    var characters: CharacterFeatures?

    /// A tagger drawing its initial weights from `generator`: embedding, encoder, output,
    /// then the character features (so a model without them starts as it always has).
    init(vocabularySize: Int, tagCount: Int, embeddingSize: Int, hiddenSize: Int, layers: Int,
         cell: RecurrentCellKind = .lstm, charFeatures: CharacterFeatureKind = .none, characterCount: Int = 0,
         using generator: inout RandomGenerator) {
        embedding = Embedding(vocabularySize, embeddingSize, paddingIndex: 0, using: &generator)
        encoder = WordEncoder(cell: cell, inputSize: embeddingSize + charFeatures.width, hiddenSize: hiddenSize, numLayers: layers,
                              dropout: layers > 1 ? 0.3 : 0, bidirectional: true, using: &generator)
        output = Linear(2 * hiddenSize, tagCount, using: &generator)
        if charFeatures != .none {
            characters = CharacterFeatures(charFeatures, characterCount: characterCount, using: &generator)
        }
    }

    mutating func visit(_ visitor: ModuleVisitor<Float>) {
        visitor.module("embedding", &embedding)
        visitor.module(encoder.cell.rawValue, &encoder)
        visitor.module("output", &output)
        if characters != nil { visitor.module("characters", &characters!) }
    }

    /// Tag logits `[B·T, tags]` for a padded batch of word ids `[B, T]` and, with character
    /// features, the characters of its word slots.
    func logits(_ words: PaddedBatch, characters batch: CharacterBatch?, using generator: inout RandomGenerator) throws -> Tensor<Float> {
        var input = embedding(words.values)
        if let characters, let batch {
            let features = try characters(batch)
            input = Tensor.cat([input, features.reshaped([input.shape[0], input.shape[1], characters.width])], dim: 2)
        }
        let (states, _) = try encoder.forward(input, lengths: words.lengths, using: &generator)
        return output(states.reshaped([states.shape[0] * states.shape[1], states.shape[2]]))
    }
}

/// Sentences as word ids and tag ids.
struct EncodedSentences {
    var words: [[Int]] = []
    var tags: [[Int]] = []
    /// The character ids of every word, when the model has character features.
    var characters: [[[Int]]] = []
    var count: Int { words.count }
    var tokenCount: Int { words.reduce(0) { $0 + $1.count } }

    /// `sentences` encoded with the vocabularies; a tag the training data never used is an
    /// error naming `source` and the sentence's line.
    init(_ sentences: [TaggedSentence], vocabulary: Vocabulary<String>, tags tagVocabulary: Vocabulary<String>,
         characters characterVocabulary: Vocabulary<Unicode.Scalar>? = nil, source: String) throws {
        for sentence in sentences {
            words.append(vocabulary.encode(sentence.words))
            tags.append(try tagVocabulary.encode(sentence.tags, source: source, line: sentence.line))
            if let characterVocabulary {
                characters.append(sentence.words.map { characterVocabulary.encode($0.unicodeScalars) })
            }
        }
    }

    /// The padded words of the sentences at `indices`, and their characters laid out for
    /// `kind` when the model has character features.
    func batch(_ indices: [Int], for kind: CharacterFeatureKind?) -> (words: PaddedBatch, characters: CharacterBatch?) {
        let padded = Batching.pad(indices.map { words[$0] })
        guard let kind, kind != .none, !characters.isEmpty else { return (padded, nil) }
        return (padded, CharacterBatch(indices.map { characters[$0] }, steps: padded.values.shape[1], for: kind))
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
        let data = try TrainingData(options, read: { try CoNLLU.read(path: $0) }, embedded: { EmbeddedDatasets.tagger() },
                                    embeddedName: "<embedded tagger corpus>", unit: "sentences")
        let (train, dev, test, trainSource) = (data.train, data.dev, data.test, data.trainSource)

        var vocabulary = WordVocabulary.counting(train.map(\.words), minCount: Defaults.minCount)
        let vectors = try options.embeddings.map { try WordVectors.read(path: $0) }
        var addedWords = 0
        if let vectors {
            (vocabulary, addedWords) = PretrainedEmbeddings.extend(vocabulary, with: (dev + (test ?? [])).lazy.map(\.words), from: vectors)
        }
        let tags = Vocabulary(counting: train.map(\.tags), order: .sorted)
        let characterVocabulary = options.charFeatures == .none ? nil : Self.characterVocabulary(of: train)
        let trainSet = try EncodedSentences(train, vocabulary: vocabulary, tags: tags, characters: characterVocabulary, source: trainSource)
        let devSet = try EncodedSentences(dev, vocabulary: vocabulary, tags: tags, characters: characterVocabulary,
                                          source: options.dev ?? trainSource)
        let testSet = try test.map {
            try EncodedSentences($0, vocabulary: vocabulary, tags: tags, characters: characterVocabulary,
                                 source: options.test ?? "<embedded tagger test>")
        }

        let embeddingSize = vectors?.dimension ?? options.embeddingSize ?? Defaults.embeddingSize
        let hiddenSize = options.hiddenSize ?? Defaults.hiddenSize
        let batchSize = options.batchSize ?? Defaults.batchSize
        let epochs = options.epochs ?? (options.data == nil ? Defaults.epochsEmbedded : Defaults.epochsRealData)
        print("tagger on \(options.dataName): \(trainSet.count) training sentences (\(trainSet.tokenCount) tokens), "
              + "\(devSet.count) dev, \(testSet?.count ?? 0) test; vocabulary \(vocabulary.count), \(tags.count) tags"
              + (characterVocabulary.map { "; \($0.count) characters" } ?? ""))

        var generator = RandomGenerator(seed: options.seed)
        var model = TaggerModel(vocabularySize: vocabulary.count, tagCount: tags.count, embeddingSize: embeddingSize,
                                hiddenSize: hiddenSize, layers: Defaults.layers, cell: options.cell,
                                charFeatures: options.charFeatures, characterCount: characterVocabulary?.count ?? 0,
                                using: &generator)
        if let vectors, let path = options.embeddings {
            PretrainedEmbeddings.start(&model.embedding, from: vectors, path: path, vocabulary: vocabulary, addedWords: addedWords,
                                       frozen: options.freezeEmbeddings)
        }
        var optimizer = Adam<Float>(learningRate: Float(options.learningRate ?? Defaults.learningRate))
        let cellName = options.cell == .lstm ? "BiLSTM" : "BiGRU"
        let features = options.charFeatures == .none ? "" : " ⊕ char \(options.charFeatures.rawValue) (\(model.characters!.width))"
        print("model: Embedding(\(vocabulary.count), \(embeddingSize))\(features) → \(Defaults.layers)-layer \(cellName)(\(hiddenSize), dropout 0.3) "
              + "→ Linear(\(2 * hiddenSize), \(tags.count)); \(model.parameterCount) parameters; batch \(batchSize), "
              + "Adam lr \(optimizer.learningRate), clip \(Defaults.clipNorm), \(epochs) epochs, seed \(options.seed)")

        let stepsPerEpoch = (trainSet.count + batchSize - 1) / batchSize
        let description = CheckpointDescription(task: TaskKind.tagger.rawValue, embeddingSize: embeddingSize, hiddenSize: hiddenSize,
                                                layers: Defaults.layers, words: vocabulary.entryTexts, tags: tags.entryTexts,
                                                cell: options.cell == .lstm ? nil : options.cell.rawValue,
                                                charFeatures: options.charFeatures == .none ? nil : options.charFeatures.rawValue,
                                                characterTokens: characterVocabulary?.entryTexts)
        var checkpointing = Checkpointing(options: options, metadata: try description.metadata(), stepsPerEpoch: stepsPerEpoch)
        try checkpointing.resume(from: options.resume, model: &model, optimizer: &optimizer, generator: &generator)
        if options.freezeEmbeddings { model.embedding.weight.requiresGrad = false }
        var session = TrainingSession(title: "tagger on \(options.dataName)", epochs: epochs, stepsPerEpoch: stepsPerEpoch,
                                      unit: "tokens", metricName: "dev accuracy")
        for epoch in checkpointing.epochs(through: epochs) {
            checkpointing.begin(epoch, in: &session)
            model.train()
            let batches = checkpointing.batches(for: epoch) {
                Batching.shuffledBatchIndices(count: trainSet.count, batchSize: batchSize, using: &generator)
            }
            for (index, batch) in batches.enumerated() where index >= checkpointing.firstStep(of: epoch) {
                let (words, characters) = trainSet.batch(batch, for: model.characters?.kind)
                let targets = Batching.padTargets(batch.map { trainSet.tags[$0] })
                let tokens = words.lengths.reduce(0, +)
                try session.trainStep(&model, &optimizer, clipNorm: Defaults.clipNorm, items: tokens) { model in
                    let logits = try model.logits(words, characters: characters, using: &generator)
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

    /// `<pad>` = 0, `<unk>` = 1, then every character of the training words in order of
    /// first appearance.
    static func characterVocabulary(of sentences: [TaggedSentence]) -> Vocabulary<Unicode.Scalar> {
        Vocabulary(specials: WordVocabulary.specials, counting: sentences.lazy.flatMap(\.words).map(\.unicodeScalars),
                   order: .firstAppearance, unknown: SpecialToken.unknown)
    }

    /// Token accuracy of `model` (switched to evaluation mode) on `set`.
    static func accuracy(of model: inout TaggerModel, on set: EncodedSentences, batchSize: Int) throws -> Double {
        model.eval()
        defer { model.train() }
        var unused = RandomGenerator(seed: 0)  // evaluation draws nothing; keeps the training stream untouched
        var correct = 0, total = 0
        try withoutGradient {
            for batch in Batching.batchIndices(count: set.count, batchSize: batchSize) {
                let (words, characters) = set.batch(batch, for: model.characters?.kind)
                let targets = Batching.padTargets(batch.map { set.tags[$0] }).values.scalars
                let predicted = try model.logits(words, characters: characters, using: &unused).max(dim: 1).indices.scalars
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
        let vocabulary = try WordVocabulary.restore(try checkpoint.require(description.words, "words"), source: checkpoint.path)
        let tags = try Vocabulary<String>(entries: try checkpoint.require(description.tags, "tags"), specialCount: 0, source: checkpoint.path)
        var generator = RandomGenerator(seed: 0)
        guard let cell = RecurrentCellKind(rawValue: description.cell ?? "lstm"),
              let charFeatures = CharacterFeatureKind(rawValue: description.charFeatures ?? "none") else {
            throw ToolError("checkpoint \(checkpoint.path): unknown cell or character features in its model description")
        }
        let characterVocabulary = charFeatures == .none
            ? nil : try Vocabulary<Unicode.Scalar>(entries: try checkpoint.require(description.characterTokens, "characterTokens"),
                                                   specialCount: WordVocabulary.specials.count, unknown: SpecialToken.unknown,
                                                   source: checkpoint.path)
        var model = TaggerModel(vocabularySize: vocabulary.count, tagCount: tags.count,
                                embeddingSize: try checkpoint.require(description.embeddingSize, "embeddingSize"),
                                hiddenSize: description.hiddenSize, layers: description.layers ?? Defaults.layers,
                                cell: cell, charFeatures: charFeatures, characterCount: characterVocabulary?.count ?? 0,
                                using: &generator)
        try checkpoint.load(into: &model)
        let set = try EncodedSentences(try CoNLLU.read(path: dataPath), vocabulary: vocabulary, tags: tags,
                                       characters: characterVocabulary, source: dataPath)
        let accuracy = try accuracy(of: &model, on: set, batchSize: Defaults.batchSize)
        print("tagger \(checkpoint.path) on \(dataPath): \(set.count) sentences, \(set.tokenCount) tokens")
        print("accuracy: \(ProgressFormat.fixed(accuracy, decimals: 4))")
    }
}
