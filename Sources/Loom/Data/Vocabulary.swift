/// A token vocabulary: maps tokens (words) to indices for an embedding, with special
/// entries first.
///
/// Order (deterministic, independent of hashing): the specials in the order given
/// (default `<pad>` = 0, `<unk>` = 1), then the tokens that occur at least `minCount`
/// times, by count descending, ties broken by the tokens' UTF-8 bytes ascending (code-point
/// order, as Python sorts strings). A special that also occurs in the data is not listed
/// twice. The vocabulary always has an unknown entry: tokens not in it encode to
/// `unknownIndex`.
public struct Vocabulary: Equatable, Sendable {
    /// The padding token, index 0 by default.
    public static let paddingToken = "<pad>"
    /// The unknown token, index 1 by default.
    public static let unknownToken = "<unk>"

    /// The tokens by index.
    public let tokens: [String]
    private let indexByToken: [String: Int]
    /// The index that tokens not in the vocabulary encode to.
    public let unknownIndex: Int
    /// The index of `<pad>` when it is one of the entries (0 by default), else nil.
    public let paddingIndex: Int?

    /// A vocabulary of the tokens in `sequences` seen at least `minCount` times, after
    /// `specials`. `unknownToken` is what unseen tokens map to; it is appended to the
    /// specials if they do not contain it.
    public init<Sequences: Sequence>(counting sequences: Sequences, minCount: Int = 1,
                                     specials: [String] = [Vocabulary.paddingToken, Vocabulary.unknownToken],
                                     unknownToken: String = Vocabulary.unknownToken)
    where Sequences.Element: Sequence, Sequences.Element.Element == String {
        var counts: [String: Int] = [:]
        for sequence in sequences {
            for token in sequence { counts[token, default: 0] += 1 }
        }
        self.init(counts: counts, minCount: minCount, specials: specials, unknownToken: unknownToken)
    }

    /// A vocabulary from token `counts` (see the type's documentation for the order).
    public init(counts: [String: Int], minCount: Int = 1,
                specials: [String] = [Vocabulary.paddingToken, Vocabulary.unknownToken],
                unknownToken: String = Vocabulary.unknownToken) {
        var entries: [String] = []
        for special in specials where !entries.contains(special) { entries.append(special) }
        if !entries.contains(unknownToken) { entries.append(unknownToken) }
        let specialSet = Set(entries)
        let kept = counts.filter { $0.value >= max(minCount, 1) && !specialSet.contains($0.key) }
        let ordered = kept.sorted { a, b in
            if a.value != b.value { return a.value > b.value }
            return a.key.utf8.lexicographicallyPrecedes(b.key.utf8)
        }
        entries.append(contentsOf: ordered.map(\.key))
        self.init(tokens: entries, unknownToken: unknownToken)
    }

    /// A vocabulary with exactly these `tokens` in this order (for example one saved with
    /// a checkpoint). If `unknownToken` is not among them it is appended. A repeated
    /// token keeps its first index.
    public init(tokens: [String], unknownToken: String = Vocabulary.unknownToken) {
        var list = tokens
        if !list.contains(unknownToken) { list.append(unknownToken) }
        var map: [String: Int] = [:]
        for (index, token) in list.enumerated() where map[token] == nil { map[token] = index }
        self.tokens = list
        indexByToken = map
        unknownIndex = map[unknownToken]!
        paddingIndex = map[Vocabulary.paddingToken]
    }

    /// The number of entries (the embedding's row count).
    public var count: Int { tokens.count }

    /// The index of `token`, or nil if it is not in the vocabulary.
    public func index(of token: String) -> Int? { indexByToken[token] }

    /// Whether `token` has its own entry.
    public func contains(_ token: String) -> Bool { indexByToken[token] != nil }

    /// The indices of `tokens`; tokens not in the vocabulary give `unknownIndex`.
    public func encode(_ tokens: [String]) -> [Int] {
        tokens.map { indexByToken[$0] ?? unknownIndex }
    }

    /// The tokens of `indices`; an index outside `0..<count` gives the unknown token.
    public func decode(_ indices: [Int]) -> [String] {
        indices.map { self.tokens.indices.contains($0) ? self.tokens[$0] : self.tokens[unknownIndex] }
    }
}

/// A vocabulary of labels (POS tags): no special entries, the distinct labels sorted by
/// their UTF-8 bytes (code-point order), so the same data always gives the same indices.
public struct LabelVocabulary: Equatable, Sendable {
    /// The labels by index, sorted.
    public let labels: [String]
    private let indexByLabel: [String: Int]

    /// The vocabulary of all distinct labels in `sequences`.
    public init<Sequences: Sequence>(collecting sequences: Sequences)
    where Sequences.Element: Sequence, Sequences.Element.Element == String {
        var seen = Set<String>()
        for sequence in sequences { seen.formUnion(sequence) }
        self.init(labels: Array(seen))
    }

    /// The vocabulary of `labels` (sorted, duplicates dropped), e.g. to restore a saved one.
    public init(labels: [String]) {
        let sorted = Set(labels).sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        self.labels = sorted
        var map: [String: Int] = [:]
        for (index, label) in sorted.enumerated() { map[label] = index }
        indexByLabel = map
    }

    /// The number of labels (the classifier's output size).
    public var count: Int { labels.count }

    /// The index of `label`, or nil if it is not in the vocabulary.
    public func index(of label: String) -> Int? { indexByLabel[label] }

    /// The indices of `labels`. Throws `DataError` naming `source` and `line` for a label
    /// not in the vocabulary (a tag in a dev file that the training file never used).
    public func encode(_ labels: [String], source: String = "<data>", line: Int? = nil) throws -> [Int] {
        try labels.map { label in
            guard let index = indexByLabel[label] else {
                throw DataError(file: source, line: line,
                                message: "label \(quotedForError(label)) is not one of the \(count) labels of the training data")
            }
            return index
        }
    }

    /// The labels of `indices`; an index outside `0..<count` gives `"?"`.
    public func decode(_ indices: [Int]) -> [String] {
        indices.map { labels.indices.contains($0) ? labels[$0] : "?" }
    }
}
