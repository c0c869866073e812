import Loom

/// One token for lemmatization: its form, its UPOS tag and its lemma.
struct LemmaToken: Hashable {
    var form: String
    var upos: String
    var lemma: String

    /// The (form, upos) pair the model and the lexicon read.
    var key: LemmaKey { LemmaKey(form: form, upos: upos) }

    /// Every token of `sentences`, in order.
    static func tokens(of sentences: [TaggedSentence]) -> [LemmaToken] {
        sentences.flatMap { sentence in
            sentence.words.indices.map { LemmaToken(form: sentence.words[$0], upos: sentence.tags[$0], lemma: sentence.lemmas[$0]) }
        }
    }

    /// The distinct tokens of `tokens`, each once, in order of first appearance.
    static func distinct(_ tokens: [LemmaToken]) -> [LemmaToken] {
        var seen = Set<LemmaToken>()
        return tokens.filter { seen.insert($0).inserted }
    }
}

/// The input of the lemmatizer: a word form and its UPOS tag.
struct LemmaKey: Hashable {
    var form: String
    var upos: String

    /// The distinct keys of `tokens`, in order of first appearance.
    static func distinct(_ tokens: [LemmaToken]) -> [LemmaKey] {
        var seen = Set<LemmaKey>()
        return tokens.map(\.key).filter { seen.insert($0).inserted }
    }
}

/// The most frequent training lemma of every (form, upos) pair seen in training, ties going
/// to the lemma seen first.
struct Lexicon {
    private(set) var lemmas: [LemmaKey: String] = [:]
    /// The pairs in order of first appearance (the order a checkpoint stores them in).
    private(set) var keys: [LemmaKey] = []

    /// The lexicon of `tokens`.
    init(_ tokens: [LemmaToken]) {
        var counts: [LemmaKey: [(lemma: String, count: Int)]] = [:]
        for token in tokens {
            if counts[token.key] == nil { keys.append(token.key) }
            var entries = counts[token.key, default: []]
            if let index = entries.firstIndex(where: { $0.lemma == token.lemma }) {
                entries[index].count += 1
            } else {
                entries.append((token.lemma, 1))
            }
            counts[token.key] = entries
        }
        for key in keys {
            let entries = counts[key]!
            var best = entries[0]
            for entry in entries.dropFirst() where entry.count > best.count { best = entry }
            lemmas[key] = best.lemma
        }
    }

    /// A lexicon restored from `(form, upos, lemma)` rows.
    init(rows: [[String]]) throws {
        for row in rows {
            guard row.count == 3 else { throw ToolError("lexicon entry \(row) does not have form, upos and lemma") }
            let key = LemmaKey(form: row[0], upos: row[1])
            if lemmas[key] == nil { keys.append(key) }
            lemmas[key] = row[2]
        }
    }

    /// `(form, upos, lemma)` rows, for the checkpoint.
    var rows: [[String]] { keys.map { [$0.form, $0.upos, lemmas[$0]!] } }

    /// The lemma of a seen pair, or nil.
    subscript(key: LemmaKey) -> String? { lemmas[key] }
}

/// The one symbol table of encoder and decoder: `<pad>` 0, `<unk>` 1, `<s>` 2, `</s>` 3, one
/// symbol per UPOS tag (in order of first appearance in training), then the code points of
/// the training forms and lemmas (in order of first appearance, a token's form before its
/// lemma). A code point or tag not in the table reads as `<unk>`.
struct LemmaSymbols {
    static let specials = [SpecialToken.padding, SpecialToken.unknown, SpecialToken.start, SpecialToken.end]
    let vocabulary: Vocabulary<Unicode.Scalar>
    let tags: [String]

    var count: Int { vocabulary.count }
    var padding: Int { 0 }
    var unknown: Int { 1 }
    var start: Int { 2 }
    var end: Int { 3 }

    /// The table of the training `tokens`.
    init(training tokens: [LemmaToken]) {
        var tags: [String] = []
        for token in tokens where !tags.contains(token.upos) { tags.append(token.upos) }
        let text = tokens.lazy.map { Array($0.form.unicodeScalars) + Array($0.lemma.unicodeScalars) }
        self.tags = tags
        vocabulary = Vocabulary(specials: Self.specials + tags, counting: text, order: .firstAppearance, unknown: SpecialToken.unknown)
    }

    /// The table a checkpoint saved: its tags and its entry texts.
    init(tags: [String], entries: [String], source: String) throws {
        self.tags = tags
        vocabulary = try Vocabulary(entries: entries, specialCount: Self.specials.count + tags.count,
                                    unknown: SpecialToken.unknown, source: source)
    }

    /// The encoder input of a pair: its UPOS symbol, then the code points of its form.
    func encoderInput(_ key: LemmaKey) -> [Int] {
        [vocabulary.index(ofSpecial: key.upos) ?? unknown] + vocabulary.encode(key.form.unicodeScalars)
    }

    /// The lemma's symbols (code points; unknown ones read as `<unk>`).
    func lemmaSymbols(_ lemma: String) -> [Int] {
        vocabulary.encode(lemma.unicodeScalars)
    }

    /// The text of decoded symbols; symbols that are not code points are dropped.
    func text(of symbols: [Int]) -> String {
        String(String.UnicodeScalarView(vocabulary.decode(symbols)))
    }
}

/// How a lemma is made from its form: the classes of the model's edit classifier (the
/// design of Stanza's lemmatizer). Most unseen forms of EWT (URLs, numbers, names) are their
/// own lemma, and a character decoder copying a long string can drift; the classifier lets
/// the model answer "the form itself" or "the form lowercased" without spelling it.
enum LemmaEdit: Int, CaseIterable {
    /// The decoder spells the lemma.
    case spell = 0
    /// The lemma is the form.
    case identity = 1
    /// The lemma is the form lowercased (and differs from the form).
    case lowercase = 2

    /// The class of a training pair.
    init(form: String, lemma: String) {
        self = lemma == form ? .identity : lemma == form.lowercased() ? .lowercase : .spell
    }

    /// The lemma of `form` under this edit, or `spelled` (the decoder's answer) for `.spell`.
    func lemma(of form: String, spelled: String) -> String {
        switch self {
        case .spell: return spelled
        case .identity: return form
        case .lowercase: return form.lowercased()
        }
    }
}
