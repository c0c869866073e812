/// A value a `Vocabulary` can hold: a word (`String`), a character (`Character`) or a
/// code point (`Unicode.Scalar`). Its `vocabularyText` orders tokens (by UTF-8 bytes, which
/// is code-point order, as Python sorts strings) and is how a saved vocabulary spells it.
public protocol VocabularyToken: Hashable, Sendable {
    /// The token as text.
    var vocabularyText: String { get }
    /// The token spelled by `vocabularyText`, or nil if the text is not one token.
    init?(vocabularyText: String)
}

extension String: VocabularyToken {
    /// The word itself.
    public var vocabularyText: String { self }
    /// The word itself.
    public init?(vocabularyText: String) { self = vocabularyText }
}

extension Character: VocabularyToken {
    /// The character as a one-character string.
    public var vocabularyText: String { String(self) }
    /// The text's character, if it has exactly one.
    public init?(vocabularyText: String) {
        guard vocabularyText.count == 1, let character = vocabularyText.first else { return nil }
        self = character
    }
}

extension Unicode.Scalar: VocabularyToken {
    /// The code point as a one-scalar string.
    public var vocabularyText: String { String(self) }
    /// The text's code point, if it has exactly one.
    public init?(vocabularyText: String) {
        guard vocabularyText.unicodeScalars.count == 1, let scalar = vocabularyText.unicodeScalars.first else { return nil }
        self = scalar
    }
}

/// The names of the special entries Loom's tasks use.
public enum SpecialToken {
    /// Padding, `<pad>` (index 0 where it is used).
    public static let padding = "<pad>"
    /// The entry unknown tokens map to, `<unk>`.
    public static let unknown = "<unk>"
    /// The start of an output sequence, `<s>`.
    public static let start = "<s>"
    /// The end of an output sequence, `</s>`.
    public static let end = "</s>"
}

/// How a vocabulary built by counting orders its tokens (after the special entries).
public enum VocabularyOrder: Sendable, Equatable {
    /// By count, most frequent first; equal counts by text (UTF-8 bytes ascending).
    case frequency
    /// In the order the tokens first appear in the data.
    case firstAppearance
    /// By text (UTF-8 bytes ascending, Python's `sorted`), whatever the counts.
    case sorted
}

/// A mapping between tokens and the indices of an embedding table or an output layer.
///
/// Entries: first the caller's special entries (named by strings, such as `<pad>`, `<unk>`,
/// `<s>`, `</s>`, or one per POS tag), at indices `0..<specials.count`, then the tokens
/// (words, characters, code points) in the chosen order. Specials and tokens live apart,
/// so a word spelled `<s>` in the data is an ordinary token. A vocabulary has an unknown
/// entry only when the caller names one: tokens outside it then encode to `unknownIndex`;
/// without one, encoding them is an error.
///
/// ```swift
/// let words = Vocabulary(specials: [SpecialToken.padding, SpecialToken.unknown],
///                        counting: sentences, minCount: 2, unknown: SpecialToken.unknown)
/// let symbols = Vocabulary<Unicode.Scalar>(specials: ["<pad>", "<unk>", "<s>", "</s>"],
///                                          counting: forms.map(\.unicodeScalars),
///                                          order: .firstAppearance, unknown: "<unk>")
/// let tags = Vocabulary<String>(counting: tagSequences, order: .sorted)   // no specials, no unk
/// ```
public struct Vocabulary<Token: VocabularyToken>: Equatable, Sendable {
    /// The special entries by index, `0..<specials.count`.
    public let specials: [String]
    /// The tokens; token `i` has index `specials.count + i`.
    public let tokens: [Token]
    private let indexByToken: [Token: Int]
    /// The index unknown tokens encode to, or nil when there is no unknown entry.
    public let unknownIndex: Int?

    /// A vocabulary with exactly these entries in this order (for example a saved one).
    /// `unknown` names the special entry unknown tokens map to; it is appended to the
    /// specials if they do not contain it. A repeated token or special keeps its first
    /// index.
    public init(specials: [String] = [], tokens: [Token], unknown: String? = nil) {
        var names: [String] = []
        for special in specials where !names.contains(special) { names.append(special) }
        if let unknown, !names.contains(unknown) { names.append(unknown) }
        var unique: [Token] = []
        var map: [Token: Int] = [:]
        for token in tokens where map[token] == nil {
            map[token] = names.count + unique.count
            unique.append(token)
        }
        self.specials = names
        self.tokens = unique
        indexByToken = map
        unknownIndex = unknown.flatMap { names.firstIndex(of: $0) }
    }

    /// A vocabulary of the tokens in `sequences` seen at least `minCount` times, after
    /// `specials`, in `order`; `unknown` as in `init(specials:tokens:unknown:)`.
    public init<Sequences: Sequence>(specials: [String] = [], counting sequences: Sequences, minCount: Int = 1,
                                     order: VocabularyOrder = .frequency, unknown: String? = nil)
    where Sequences.Element: Sequence, Sequences.Element.Element == Token {
        var counts: [Token: Int] = [:]
        var appearance: [Token] = []
        for sequence in sequences {
            for token in sequence {
                if counts[token] == nil { appearance.append(token) }
                counts[token, default: 0] += 1
            }
        }
        let kept = appearance.filter { counts[$0]! >= max(minCount, 1) }
        func textOrder(_ a: Token, _ b: Token) -> Bool {
            a.vocabularyText.utf8.lexicographicallyPrecedes(b.vocabularyText.utf8)
        }
        let ordered: [Token]
        switch order {
        case .firstAppearance: ordered = kept
        case .sorted: ordered = kept.sorted(by: textOrder)
        case .frequency:
            ordered = kept.sorted { a, b in counts[a]! != counts[b]! ? counts[a]! > counts[b]! : textOrder(a, b) }
        }
        self.init(specials: specials, tokens: ordered, unknown: unknown)
    }

    /// A vocabulary from its `entries` as `vocabularyText` (specials first, as
    /// `entryTexts` lists them), the first `specialCount` of them special.
    ///
    /// - Throws: `DataError` naming `source` when there are fewer entries than specials or an
    ///   entry does not spell one token.
    public init(entries: [String], specialCount: Int, unknown: String? = nil, source: String = "<vocabulary>") throws {
        guard specialCount >= 0 && specialCount <= entries.count else {
            throw DataError(file: source, message: "the vocabulary has \(entries.count) entries, fewer than its \(specialCount) special ones")
        }
        let tokens = try entries[specialCount...].map { text in
            guard let token = Token(vocabularyText: text) else {
                throw DataError(file: source, message: "vocabulary entry \(quotedForError(text)) does not spell one token")
            }
            return token
        }
        self.init(specials: Array(entries[..<specialCount]), tokens: tokens, unknown: unknown)
    }

    /// The number of entries, specials included (the embedding's row count).
    public var count: Int { specials.count + tokens.count }

    /// Every entry as text, by index: the specials' names, then the tokens' `vocabularyText`
    /// (what a checkpoint stores to rebuild the vocabulary).
    public var entryTexts: [String] { specials + tokens.map(\.vocabularyText) }

    /// The index of the `<pad>` special, if there is one.
    public var paddingIndex: Int? { index(ofSpecial: SpecialToken.padding) }

    /// The index of `token`, or nil if it has no entry.
    public func index(of token: Token) -> Int? { indexByToken[token] }

    /// The index of the special entry named `name`, or nil.
    public func index(ofSpecial name: String) -> Int? { specials.firstIndex(of: name) }

    /// Whether `token` has its own entry.
    public func contains(_ token: Token) -> Bool { indexByToken[token] != nil }

    /// The indices of `tokens`; a token without an entry gives `unknownIndex`. Stops if
    /// the vocabulary has no unknown entry and a token is missing: use
    /// `encode(_:source:line:)` for data that may hold such tokens.
    public func encode<Tokens: Sequence>(_ tokens: Tokens) -> [Int] where Tokens.Element == Token {
        tokens.map { token in
            if let index = indexByToken[token] { return index }
            guard let unknownIndex else {
                preconditionFailure("Vocabulary.encode: \(quotedForError(token.vocabularyText)) has no entry and the vocabulary has no unknown entry")
            }
            return unknownIndex
        }
    }

    /// The indices of `tokens`, where a token without an entry gives `unknownIndex`, or,
    /// without an unknown entry, a `DataError` naming `source`, `line` and the token's
    /// 1-based position.
    public func encode<Tokens: Sequence>(_ tokens: Tokens, source: String, line: Int? = nil) throws -> [Int]
    where Tokens.Element == Token {
        var indices: [Int] = []
        for (position, token) in tokens.enumerated() {
            if let index = indexByToken[token] ?? unknownIndex {
                indices.append(index)
            } else {
                throw DataError(file: source, line: line,
                                message: "\(quotedForError(token.vocabularyText)) at position \(position + 1) is not one of the \(count) entries of the vocabulary")
            }
        }
        return indices
    }

    /// The tokens of `indices`, leaving out special entries and indices outside
    /// `0..<count` (turning a decoder's output symbols into text drops `<unk>`, `</s>`, ...).
    public func decode(_ indices: [Int]) -> [Token] {
        indices.compactMap { index in
            let position = index - specials.count
            return tokens.indices.contains(position) ? tokens[position] : nil
        }
    }

    /// The text of the entry at `index` (a special's name or a token's text), or nil
    /// outside `0..<count`.
    public func entryText(at index: Int) -> String? {
        if specials.indices.contains(index) { return specials[index] }
        let position = index - specials.count
        return tokens.indices.contains(position) ? tokens[position].vocabularyText : nil
    }

    /// Vocabularies are equal when their entries and unknown entry are.
    public static func == (a: Vocabulary, b: Vocabulary) -> Bool {
        a.specials == b.specials && a.tokens == b.tokens && a.unknownIndex == b.unknownIndex
    }
}
