import Foundation

/// One sentence for tagging and lemmatization: its words, one tag and one lemma per word.
public struct TaggedSentence: Equatable, Hashable, Sendable {
    /// The word forms, in order.
    public var words: [String]
    /// One tag per word (UPOS by default), `tags.count == words.count`.
    public var tags: [String]
    /// One lemma per word (column 3 of CoNLL-U; `_` where unspecified).
    public var lemmas: [String]
    /// The 1-based line of the sentence's first word in its source, so later errors (an
    /// unknown tag in a dev file) can point at it; 0 for sentences not read from text.
    public var line: Int

    /// A sentence from parallel `words`, `tags` and `lemmas` (same count; `_` for every
    /// word when `lemmas` is nil), with its source `line`.
    public init(words: [String], tags: [String], lemmas: [String]? = nil, line: Int = 0) {
        self.words = words
        self.tags = tags
        self.lemmas = lemmas ?? words.map { _ in "_" }
        self.line = line
    }
}

/// A reader (and writer) of CoNLL-U, the Universal Dependencies format, for POS tagging.
///
/// Each word line has 10 tab-separated columns
/// `ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC`; the reader keeps FORM, LEMMA and
/// UPOS (or XPOS). Lines starting with `#` are comments and are skipped (anywhere in a
/// sentence). Multiword-token lines (ID a range such as `3-4`) and empty nodes (ID a
/// decimal such as `8.1`) are skipped. A blank line (empty, or only spaces and tabs) ends
/// a sentence; a last sentence without a blank line after it still counts. CRLF line
/// endings and a UTF-8 byte-order mark are accepted.
///
/// Errors (thrown `DataError`, with file and line): a word line without exactly 10
/// columns; an ID that is not a positive integer, a range or a decimal; word IDs out of
/// sequence within a sentence (they must run 1, 2, 3, ...; this catches a missing blank
/// line between sentences); an empty FORM, LEMMA or tag; text that is not UTF-8; a missing file.
/// A tag `_` (unspecified) is kept as the tag `_`.
public enum CoNLLU {
    /// Which column gives the tag.
    public enum TagColumn: Sendable {
        /// Column 4, the universal part-of-speech tag (17 tags).
        case upos
        /// Column 5, the language-specific tag (Penn Treebank tags for English).
        case xpos

        var index: Int { self == .upos ? 3 : 4 }
        var name: String { self == .upos ? "UPOS (column 4)" : "XPOS (column 5)" }
    }

    /// The sentences of the CoNLL-U file at `path`. Throws `DataError` naming the path
    /// (and line) when the file is missing, unreadable or malformed.
    public static func read(path: String, tagColumn: TagColumn = .upos) throws -> [TaggedSentence] {
        let bytes = try TextSource.readBytes(path: path)
        return try parse(bytes: bytes, source: path, tagColumn: tagColumn)
    }

    /// The sentences of CoNLL-U `text`; `source` names it in errors.
    public static func parse(_ text: String, source: String = "<string>", tagColumn: TagColumn = .upos) throws -> [TaggedSentence] {
        try parse(bytes: Array(text.utf8), source: source, tagColumn: tagColumn)
    }

    /// The sentences of CoNLL-U given as UTF-8 `bytes`; `source` names them in errors.
    public static func parse(bytes: [UInt8], source: String, tagColumn: TagColumn = .upos) throws -> [TaggedSentence] {
        try TextSource.validateUTF8(bytes, source: source)
        var sentences: [TaggedSentence] = []
        var words: [String] = []
        var tags: [String] = []
        var lemmas: [String] = []
        var firstLine = 0

        func endSentence() {
            if !words.isEmpty {
                sentences.append(TaggedSentence(words: words, tags: tags, lemmas: lemmas, line: firstLine))
            }
            words.removeAll(keepingCapacity: true)
            tags.removeAll(keepingCapacity: true)
            lemmas.removeAll(keepingCapacity: true)
        }

        try TextSource.forEachLine(bytes) { lineNumber, range in
            if TextSource.isBlank(bytes, range) {
                endSentence()
                return
            }
            if bytes[range.lowerBound] == UInt8(ascii: "#") { return }
            let fields = TextSource.split(bytes, range, on: UInt8(ascii: "\t"))
            guard fields.count == 10 else {
                throw DataError(file: source, line: lineNumber,
                                message: "expected 10 tab-separated columns, got \(fields.count)")
            }
            switch idKind(bytes, fields[0]) {
            case .multiwordRange, .emptyNode:
                return
            case .invalid:
                throw DataError(file: source, line: lineNumber,
                                message: "ID (column 1) \(quotedForError(TextSource.string(bytes, fields[0]))) is not a word index (1, 2, ...), a range (3-4) or an empty node (8.1)")
            case .word(let id):
                let expected = words.count + 1
                guard id == expected else {
                    throw DataError(file: source, line: lineNumber,
                                    message: "word ID \(id) is out of sequence, expected \(expected) (is a blank line missing between sentences?)")
                }
            }
            guard !fields[1].isEmpty else {
                throw DataError(file: source, line: lineNumber, message: "FORM (column 2) is empty")
            }
            guard !fields[2].isEmpty else {
                throw DataError(file: source, line: lineNumber, message: "LEMMA (column 3) is empty")
            }
            let tagRange = fields[tagColumn.index]
            guard !tagRange.isEmpty else {
                throw DataError(file: source, line: lineNumber, message: "\(tagColumn.name) is empty")
            }
            if words.isEmpty { firstLine = lineNumber }
            words.append(TextSource.string(bytes, fields[1]))
            tags.append(TextSource.string(bytes, tagRange))
            lemmas.append(TextSource.string(bytes, fields[2]))
        }
        endSentence()
        return sentences
    }

    /// Renders `sentences` as CoNLL-U (ID, FORM, LEMMA and UPOS filled, the other columns `_`),
    /// each sentence followed by a blank line; `parse` reads it back.
    public static func render(_ sentences: [TaggedSentence]) -> String {
        var text = ""
        for sentence in sentences {
            for index in sentence.words.indices {
                let (word, tag, lemma) = (sentence.words[index], sentence.tags[index], sentence.lemmas[index])
                text += "\(index + 1)\t\(word)\t\(lemma)\t\(tag)\t_\t_\t_\t_\t_\t_\n"
            }
            text += "\n"
        }
        return text
    }

    private enum IDKind {
        case word(Int), multiwordRange, emptyNode, invalid
    }

    /// Classifies an ID field: `7` (word), `3-4` (multiword token), `8.1` (empty node).
    private static func idKind(_ bytes: [UInt8], _ range: Range<Int>) -> IDKind {
        func isDigits(_ r: Range<Int>) -> Bool {
            !r.isEmpty && r.count <= 9 && r.allSatisfy { bytes[$0] >= 0x30 && bytes[$0] <= 0x39 }
        }
        if isDigits(range) {
            let value = TextSource.parseInteger(bytes, range) ?? 0
            return value >= 1 ? .word(value) : .invalid
        }
        if let separator = range.first(where: { bytes[$0] == UInt8(ascii: "-") || bytes[$0] == UInt8(ascii: ".") }),
           isDigits(range.lowerBound..<separator), isDigits(separator + 1..<range.upperBound) {
            return bytes[separator] == UInt8(ascii: "-") ? .multiwordRange : .emptyNode
        }
        return .invalid
    }
}
