import Foundation

/// One example for text classification: an integer label and its text.
public struct LabeledExample: Equatable, Hashable, Sendable {
    /// The class label (`0` negative, `1` positive for sentiment).
    public var label: Int
    /// The text as written in the file (not lowercased, not tokenized).
    public var text: String
    /// The 1-based line of the example in its source; 0 for examples not read from text.
    public var line: Int

    /// An example with `label` and `text`, read from `line` of its source.
    public init(label: Int, text: String, line: Int = 0) {
        self.label = label
        self.text = text
        self.line = line
    }

    /// The example's tokens: see `LabeledText.tokenize(_:maxTokens:)`.
    public func tokens(maxTokens: Int? = nil) -> [String] {
        LabeledText.tokenize(text, maxTokens: maxTokens)
    }
}

/// A reader of labelled text in TSV form, one example per line: `label<TAB>text`
/// (the format of the SST-2 and IMDb files), and the tokenizer the classifier uses.
///
/// - The label is any decimal integer (optional sign, spaces around it allowed); pass
///   `allowedLabels` (for example `[0, 1]` for a binary classifier) to reject others.
/// - The text is everything after the first tab (a later tab stays in the text).
/// - Blank lines (empty or only spaces/tabs) are skipped, so a trailing blank line is fine.
/// - Errors (thrown `DataError` with file and line): a line without a tab, a label that is
///   not an integer or not allowed, an empty (or whitespace-only) text — an example with
///   no words is almost always a broken line, so it is reported rather than skipped —
///   text that is not UTF-8, a missing file.
/// - CRLF line endings and a UTF-8 byte-order mark are accepted.
public enum LabeledText {
    /// The examples of the TSV file at `path`. Throws `DataError` naming the path (and line).
    public static func read(path: String, allowedLabels: Set<Int>? = nil) throws -> [LabeledExample] {
        let bytes = try TextSource.readBytes(path: path)
        return try parse(bytes: bytes, source: path, allowedLabels: allowedLabels)
    }

    /// The examples of TSV `text`; `source` names it in errors.
    public static func parse(_ text: String, source: String = "<string>", allowedLabels: Set<Int>? = nil) throws -> [LabeledExample] {
        try parse(bytes: Array(text.utf8), source: source, allowedLabels: allowedLabels)
    }

    /// The examples of TSV given as UTF-8 `bytes`; `source` names them in errors.
    public static func parse(bytes: [UInt8], source: String, allowedLabels: Set<Int>? = nil) throws -> [LabeledExample] {
        try TextSource.validateUTF8(bytes, source: source)
        var examples: [LabeledExample] = []
        try TextSource.forEachLine(bytes) { lineNumber, range in
            if TextSource.isBlank(bytes, range) { return }
            guard let tab = range.first(where: { bytes[$0] == 0x09 }) else {
                throw DataError(file: source, line: lineNumber,
                                message: "expected label<TAB>text, found no tab")
            }
            let labelRange = TextSource.trimmed(bytes, range.lowerBound..<tab)
            guard let label = TextSource.parseInteger(bytes, labelRange) else {
                throw DataError(file: source, line: lineNumber,
                                message: "label \(quotedForError(TextSource.string(bytes, labelRange))) is not an integer")
            }
            if let allowedLabels, !allowedLabels.contains(label) {
                let allowed = allowedLabels.sorted().map(String.init).joined(separator: ", ")
                throw DataError(file: source, line: lineNumber,
                                message: "label \(label) is not one of \(allowed)")
            }
            let textRange = tab + 1..<range.upperBound
            let text = TextSource.string(bytes, textRange)
            guard text.unicodeScalars.contains(where: { !isTokenSeparator($0) }) else {
                throw DataError(file: source, line: lineNumber, message: "the text after the label is empty")
            }
            examples.append(LabeledExample(label: label, text: text, line: lineNumber))
        }
        return examples
    }

    /// The lowercased whitespace tokens of `text` (Python's `text.lower().split()`):
    /// lowercased, then split on runs of Unicode whitespace, with no empty tokens. With
    /// `maxTokens`, only the first `maxTokens` tokens are kept (none when it is ≤ 0).
    public static func tokenize(_ text: String, maxTokens: Int? = nil) -> [String] {
        let limit = maxTokens.map { max(0, $0) } ?? Int.max
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        for scalar in text.lowercased().unicodeScalars {
            if tokens.count >= limit { break }
            if isTokenSeparator(scalar) {
                if !current.isEmpty {
                    tokens.append(String(current))
                    current = String.UnicodeScalarView()
                }
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty && tokens.count < limit { tokens.append(String(current)) }
        return tokens
    }

    /// Whitespace as Python's `str.split()` sees it: Unicode White_Space plus the ASCII
    /// information separators U+001C...U+001F.
    static func isTokenSeparator(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }
}
