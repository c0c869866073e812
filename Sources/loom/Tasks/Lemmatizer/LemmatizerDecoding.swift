import Loom

/// Decoding (form, upos) pairs into lemmas with a trained model: greedy or beam search, each
/// pair at most `len(form) + 1 + 10` steps (the `</s>` step included). The pairs are sorted
/// by length and decoded in batches of at most `batchSize` pairs and `positionBudget`
/// padded encoder positions, so a batch runs about as many steps as its items need and a
/// few very long inputs (EWT's test set has URLs of 473 characters) are decoded a few at a
/// time instead of holding up 256 rows. A pair's answer does not depend on the batch it is
/// in (every row of every product is computed the same way whatever the batch), so the
/// batching changes the time, not the answers.
struct LemmaDecoder {
    let model: LemmatizerModel
    let symbols: LemmaSymbols
    var batchSize = 256
    var positionBudget = 256 * 24

    /// `order` (positions sorted by length) cut into batches within both limits.
    func batches(_ order: [Int], lengths: [Int]) -> [[Int]] {
        var batches: [[Int]] = [], current: [Int] = []
        for position in order {
            // Sorted ascending, so the newest item is the longest of its batch.
            if !current.isEmpty && (current.count == batchSize || (current.count + 1) * (lengths[position] + 1) > positionBudget) {
                batches.append(current)
                current = []
            }
            current.append(position)
        }
        if !current.isEmpty { batches.append(current) }
        return batches
    }

    /// The answer for one pair: the decoder's spelling and the edit classifier's class.
    struct Answer {
        var spelled: String
        var edit: LemmaEdit

        /// The lemma of `form`: the edit's, or the spelling for `.spell`.
        func lemma(of form: String) -> String { edit.lemma(of: form, spelled: spelled) }
    }

    /// The answer for every pair: spelled greedily for `beamWidth` 0, else by beam search of
    /// that width.
    func lemmas(of keys: [LemmaKey], beamWidth: Int) throws -> [Answer] {
        var results = [Answer](repeating: Answer(spelled: "", edit: .spell), count: keys.count)
        let inputLengths = keys.map { $0.form.unicodeScalars.count }
        let order = keys.indices.sorted { inputLengths[$0] != inputLengths[$1] ? inputLengths[$0] < inputLengths[$1] : $0 < $1 }
        try withoutGradient {
            for positions in batches(order, lengths: inputLengths) {
                let batch = positions.map { keys[$0] }
                let inputs = Batching.pad(batch.map(symbols.encoderInput))
                let maxSteps = inputs.lengths.map { $0 + 10 }
                let (memory, state, editLogits) = try model.encode(inputs)
                let edits = editLogits?.argmax(dim: 1).scalars.map { LemmaEdit(rawValue: $0)! }
                    ?? [LemmaEdit](repeating: .spell, count: batch.count)
                let decoded: [SearchResult]
                if beamWidth == 0 {
                    let search = GreedySearch(startSymbol: symbols.start, endSymbol: symbols.end)
                    decoded = try search(maxSteps: maxSteps, initialState: state) { previous, state in
                        try model.step(previous, state, memory)
                    }
                } else {
                    let search = BeamSearch(beamWidth: beamWidth, startSymbol: symbols.start, endSymbol: symbols.end)
                    let hypotheses = memory.rows(search.hypothesisRows(items: batch.count))
                    decoded = try search(maxSteps: maxSteps, initialState: state, selectRows: { $0.rows($1) }) { previous, state in
                        try model.step(previous, state, hypotheses)
                    }
                }
                for (index, (position, result)) in zip(positions, decoded).enumerated() {
                    results[position] = Answer(spelled: symbols.text(of: result.symbols), edit: edits[index])
                }
            }
        }
        return results
    }
}

/// The accuracies of one evaluation set (every token counts).
struct LemmaScores {
    var tokens = 0
    var baseline = 0.0
    var lexiconOnly = 0.0
    var greedy = 0.0
    var beam = 0.0
    /// The beam's answer where the edit classifier says spell, else the edit's.
    var editBeam = 0.0
    /// The lexicon for seen pairs, else `editBeam`'s answer: the task's final figure.
    var lexiconBeam = 0.0
    /// Tokens whose (form, upos) training never saw, and the accuracies on them.
    var unseenTokens = 0
    var unseenGreedy = 0.0
    var unseenBeam = 0.0
    var unseenEditBeam = 0.0
    /// Whether the model has its edit classifier (else the edit figures equal the beam's).
    var hasEdits = false
    /// Seconds to decode the set's distinct pairs, greedy and with the beam.
    var greedySeconds = 0.0
    var beamSeconds = 0.0

    /// Scores `tokens` with the decoder's greedy and beam answers for their distinct pairs
    /// and, when given, the lexicon.
    init(_ tokens: [LemmaToken], decoder: LemmaDecoder, beamWidth: Int, lexicon: Lexicon?) throws {
        let keys = LemmaKey.distinct(tokens)
        var start = monotonicSeconds()
        let greedyAnswers = Dictionary(uniqueKeysWithValues: zip(keys, try decoder.lemmas(of: keys, beamWidth: 0)))
        greedySeconds = monotonicSeconds() - start
        start = monotonicSeconds()
        let beamAnswers = beamWidth == 0
            ? greedyAnswers : Dictionary(uniqueKeysWithValues: zip(keys, try decoder.lemmas(of: keys, beamWidth: beamWidth)))
        beamSeconds = beamWidth == 0 ? greedySeconds : monotonicSeconds() - start
        self.tokens = tokens.count
        hasEdits = decoder.model.edit != nil
        // Each figure first counts its correct answers, then is divided by its number of tokens.
        for token in tokens {
            let key = token.key
            let lowercase = token.form.lowercased()
            let seen = lexicon?[key]
            let greedyAnswer = greedyAnswers[key]!.spelled, beamAnswer = beamAnswers[key]!.spelled
            let edited = beamAnswers[key]!.lemma(of: token.form)
            func count(_ answer: String?) -> Double { answer == token.lemma ? 1 : 0 }
            baseline += count(lowercase)
            lexiconOnly += count(seen ?? lowercase)
            greedy += count(greedyAnswer)
            beam += count(beamAnswer)
            editBeam += count(edited)
            lexiconBeam += count(seen ?? edited)
            if seen == nil {
                unseenTokens += 1
                unseenGreedy += count(greedyAnswer)
                unseenBeam += count(beamAnswer)
                unseenEditBeam += count(edited)
            }
        }
        let total = Double(max(tokens.count, 1)), unseen = Double(max(unseenTokens, 1))
        baseline /= total
        lexiconOnly /= total
        greedy /= total
        beam /= total
        editBeam /= total
        lexiconBeam /= total
        unseenGreedy /= unseen
        unseenBeam /= unseen
        unseenEditBeam /= unseen
    }

    /// The report lines for the set named `name`.
    func lines(_ name: String, beamWidth: Int, hasLexicon: Bool) -> [String] {
        func f(_ x: Double) -> String { ProgressFormat.fixed(x, decimals: 4) }
        let beamName = beamWidth == 0 ? "greedy" : "beam \(beamWidth)"
        let finalName = (hasEdits ? "edit + " : "") + beamName
        var lines = ["\(name): \(tokens) tokens; lowercase baseline \(f(baseline))"
                     + (hasLexicon ? ", lexicon \(f(lexiconOnly))" : "")
                     + ", seq2seq greedy \(f(greedy))" + (beamWidth == 0 ? "" : ", seq2seq \(beamName) \(f(beam))")
                     + (hasEdits ? ", \(finalName) \(f(editBeam))" : "")
                     + (hasLexicon ? ", lexicon + \(finalName) \(f(lexiconBeam))" : "")]
        if hasLexicon {
            let share = Double(unseenTokens) / Double(max(tokens, 1))
            lines.append("\(name): unseen (form, upos) tokens \(unseenTokens) (\(ProgressFormat.fixed(100 * share, decimals: 1))%), "
                         + "accuracy greedy \(f(unseenGreedy))" + (beamWidth == 0 ? "" : ", \(beamName) \(f(unseenBeam))")
                         + (hasEdits ? ", \(finalName) \(f(unseenEditBeam))" : ""))
        }
        return lines
    }

    /// The task's final figure: lexicon + edit + beam with a lexicon, else edit + beam.
    func finalAccuracy(hasLexicon: Bool) -> Double { hasLexicon ? lexiconBeam : editBeam }
}
