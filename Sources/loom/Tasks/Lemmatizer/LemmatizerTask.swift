import Foundation
import Loom

/// `loom train lemmatizer`: (form, UPOS) → lemma, character by character, with the
/// encoder–decoder of `LemmatizerModel`, trained with teacher forcing on the distinct
/// (form, upos, lemma) triples of the training file, decoded greedily and with beam search,
/// and combined with a lexicon of the training pairs.
enum LemmatizerTask {
    struct Defaults {
        static let embeddingSize = 64, hiddenSize = 128, attentionSize = 128, batchSize = 64
        static let learningRate = 2e-3, clipNorm = 5.0, beamWidth = 4
        static let epochsEmbedded = 12, epochsRealData = 10
    }

    static func train(_ options: TrainOptions) throws {
        // Data: CoNLL-U files, or the embedded inflection corpus.
        let data = try TrainingData(options, read: { try CoNLLU.read(path: $0) }, embedded: { EmbeddedDatasets.inflections() },
                                    embeddedName: "<embedded inflection corpus>", unit: "sentences")
        let (train, dev, test) = (data.train, data.dev, data.test)

        let trainTokens = LemmaToken.tokens(of: train)
        let examples = LemmaToken.distinct(trainTokens)
        let devTokens = LemmaToken.tokens(of: dev), testTokens = test.map(LemmaToken.tokens)
        let symbols = LemmaSymbols(training: trainTokens)
        let lexicon = options.lexicon ? Lexicon(trainTokens) : nil
        let beamWidth = options.beam ?? Defaults.beamWidth
        let embeddingSize = options.embeddingSize ?? Defaults.embeddingSize
        let hiddenSize = options.hiddenSize ?? Defaults.hiddenSize
        let batchSize = options.batchSize ?? Defaults.batchSize
        let epochs = options.epochs ?? (options.data == nil ? Defaults.epochsEmbedded : Defaults.epochsRealData)
        print("lemmatizer on \(options.dataName): \(examples.count) distinct (form, upos, lemma) triples from \(trainTokens.count) "
              + "training tokens; \(devTokens.count) dev, \(testTokens?.count ?? 0) test tokens; \(symbols.count) symbols "
              + "(\(symbols.tags.count) UPOS tags)")

        var generator = RandomGenerator(seed: options.seed)
        var model = LemmatizerModel(symbolCount: symbols.count, embeddingSize: embeddingSize, hiddenSize: hiddenSize,
                                    attentionSize: Defaults.attentionSize, editClasses: options.editClasses, using: &generator)
        var optimizer = Adam<Float>(learningRate: Float(options.learningRate ?? Defaults.learningRate))
        let searchName = beamWidth == 0 ? "greedy" : "beam \(beamWidth)"
        let hasEdits = options.editClasses
        print("model: Embedding(\(symbols.count), \(embeddingSize)) → BiLSTM(\(hiddenSize)) → attention (\(Defaults.attentionSize)) "
              + "decoder LSTMCell(\(embeddingSize + 2 * hiddenSize) → \(2 * hiddenSize)) → Linear(\(4 * hiddenSize), \(symbols.count)); "
              + (hasEdits ? "edit classes Linear(\(2 * hiddenSize), \(LemmaEdit.allCases.count)); " : "")
              + "\(model.parameterCount) parameters; batch \(batchSize), Adam lr \(optimizer.learningRate), clip \(Defaults.clipNorm), "
              + "\(epochs) epochs, seed \(options.seed); decoding \(searchName)\(lexicon == nil ? "" : " with the lexicon")")

        let stepsPerEpoch = (examples.count + batchSize - 1) / batchSize
        let description = CheckpointDescription(task: TaskKind.lemmatizer.rawValue, embeddingSize: embeddingSize, hiddenSize: hiddenSize,
                                                tags: symbols.tags, symbols: symbols.vocabulary.entryTexts, lexicon: lexicon?.rows,
                                                beam: beamWidth, editClasses: hasEdits, attentionSize: Defaults.attentionSize)
        var checkpointing = Checkpointing(options: options, metadata: try description.metadata(), stepsPerEpoch: stepsPerEpoch)
        try checkpointing.resume(from: options.resume, model: &model, optimizer: &optimizer, generator: &generator)
        var session = TrainingSession(title: "lemmatizer on \(options.dataName)", epochs: epochs, stepsPerEpoch: stepsPerEpoch,
                                      unit: "symbols", metricName: "dev accuracy (greedy)")
        let devKeys = LemmaKey.distinct(devTokens)
        for epoch in checkpointing.epochs(through: epochs) {
            checkpointing.begin(epoch, in: &session)
            model.train()
            let batches = checkpointing.batches(for: epoch) {
                Batching.shuffledBatchIndices(count: examples.count, batchSize: batchSize, using: &generator)
            }
            for (index, batch) in batches.enumerated() where index >= checkpointing.firstStep(of: epoch) {
                // Longest target first, so each decoder step runs a prefix of the batch.
                let items = batch.map { examples[$0] }.enumerated().sorted { a, b in
                    let (x, y) = (a.element.lemma.unicodeScalars.count, b.element.lemma.unicodeScalars.count)
                    return x != y ? x > y : a.offset < b.offset
                }.map(\.element)
                let lemmas = items.map { symbols.lemmaSymbols($0.lemma) }
                let inputs = Batching.pad(items.map { symbols.encoderInput($0.key) })
                let decoderInputs = Batching.pad(lemmas.map { [symbols.start] + $0 })
                let targets = Batching.padTargets(lemmas.map { $0 + [symbols.end] })
                try session.trainStep(&model, &optimizer, clipNorm: Defaults.clipNorm, items: targets.lengths.reduce(0, +)) { model in
                    try model.loss(inputs: inputs, decoderInputs: decoderInputs, targets: targets,
                                   edits: items.map { LemmaEdit(form: $0.form, lemma: $0.lemma) })
                }
                try checkpointing.afterStep(epoch: epoch, step: index + 1, batches: batches, model: model, optimizer: optimizer,
                                            generator: generator, session: session)
            }
            model.eval()
            let answers = try LemmaDecoder(model: model, symbols: symbols).lemmas(of: devKeys, beamWidth: 0).map(\.spelled)
            let byKey = Dictionary(uniqueKeysWithValues: zip(devKeys, answers))
            let correct = devTokens.reduce(0) { $0 + (byKey[$1.key] == $1.lemma ? 1 : 0) }
            let accuracy = devTokens.isEmpty ? .nan : Double(correct) / Double(devTokens.count)
            session.endEpoch(metric: accuracy, metricText: ProgressFormat.fixed(accuracy, decimals: 4))
        }
        try checkpointing.finish(epochs: epochs, model: model, optimizer: optimizer, generator: generator, session: session)

        model.eval()
        let decoder = LemmaDecoder(model: model, symbols: symbols)
        var results = try LemmaScores(devTokens, decoder: decoder, beamWidth: beamWidth, lexicon: lexicon)
            .lines("dev", beamWidth: beamWidth, hasLexicon: lexicon != nil)
        if let testTokens {
            let scores = try LemmaScores(testTokens, decoder: decoder, beamWidth: beamWidth, lexicon: lexicon)
            results += scores.lines("test", beamWidth: beamWidth, hasLexicon: lexicon != nil)
            results.append(decodeTimeLine("test", scores, pairs: LemmaKey.distinct(testTokens).count, beamWidth: beamWidth))
            results.append("test accuracy: \(ProgressFormat.fixed(scores.finalAccuracy(hasLexicon: lexicon != nil), decimals: 4)) "
                           + "(\(lexicon == nil ? "" : "lexicon + ")\(hasEdits ? "edit + " : "")\(searchName), \(testTokens.count) tokens)")
        }
        try session.finish(model: model, results: results, metadata: try description.metadata(), options: options)
    }

    /// How long decoding the distinct pairs of the set named `name` took.
    static func decodeTimeLine(_ name: String, _ scores: LemmaScores, pairs: Int, beamWidth: Int) -> String {
        "\(name) decoding: \(pairs) distinct (form, upos) pairs, greedy \(ProgressFormat.fixed(scores.greedySeconds, decimals: 2)) s"
            + (beamWidth == 0 ? "" : ", beam \(beamWidth) \(ProgressFormat.fixed(scores.beamSeconds, decimals: 2)) s")
    }

    /// `loom evaluate` for a lemmatizer checkpoint on a CoNLL-U file: the same figures as
    /// training printed for its test part, ending with `accuracy:`.
    static func evaluate(_ checkpoint: LoadedCheckpoint, dataPath: String) throws {
        let description = checkpoint.description
        let symbols = try LemmaSymbols(tags: try checkpoint.require(description.tags, "tags"),
                                       entries: try checkpoint.require(description.symbols, "symbols"), source: checkpoint.path)
        let lexicon = try description.lexicon.map { try Lexicon(rows: $0) }
        let beamWidth = description.beam ?? Defaults.beamWidth
        var generator = RandomGenerator(seed: 0)
        var model = LemmatizerModel(symbolCount: symbols.count,
                                    embeddingSize: try checkpoint.require(description.embeddingSize, "embeddingSize"),
                                    hiddenSize: description.hiddenSize,
                                    attentionSize: try checkpoint.require(description.attentionSize, "attentionSize"),
                                    editClasses: description.editClasses ?? false, using: &generator)
        try checkpoint.load(into: &model)
        model.eval()
        let tokens = LemmaToken.tokens(of: try CoNLLU.read(path: dataPath))
        let scores = try LemmaScores(tokens, decoder: LemmaDecoder(model: model, symbols: symbols), beamWidth: beamWidth, lexicon: lexicon)
        print("lemmatizer \(checkpoint.path) on \(dataPath): \(tokens.count) tokens")
        for line in scores.lines("data", beamWidth: beamWidth, hasLexicon: lexicon != nil) { print(line) }
        print(decodeTimeLine("data", scores, pairs: LemmaKey.distinct(tokens).count, beamWidth: beamWidth))
        print("accuracy: \(ProgressFormat.fixed(scores.finalAccuracy(hasLexicon: lexicon != nil), decimals: 4))")
    }
}
