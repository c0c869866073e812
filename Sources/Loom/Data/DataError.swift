import Foundation

/// A problem in user data (a dataset file, a string in a data format, a command-line value
/// read as data). Every reader in `Sources/Loom/Data` throws this, never crashes, so the
/// `loom` tool can print one line and exit non-zero.
///
/// Its `description` reads like a compiler diagnostic:
/// `en_ewt-ud-train.conllu:1234: expected 10 tab-separated columns, got 7`, or with a
/// column, `series.csv:5:2: "abc" is not a number`.
public struct DataError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// The file path as the caller gave it, or a name for in-memory input (`<string>`).
    public var file: String
    /// The 1-based line number, when the problem is on one line.
    public var line: Int?
    /// The 1-based column (CSV field number) when the problem is in one field.
    public var column: Int?
    /// What is wrong, without the location prefix.
    public var message: String

    /// A data error at `file`, optionally at a `line` and `column` (both 1-based).
    public init(file: String, line: Int? = nil, column: Int? = nil, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// `file:line:column: message`, leaving out the parts that are not known.
    public var description: String {
        var location = file
        if let line {
            location += ":\(line)"
            if let column { location += ":\(column)" }
        }
        return "\(location): \(message)"
    }

    /// The same text as `description` (for `error.localizedDescription`).
    public var errorDescription: String? { description }
}

/// Shows a field's text in an error message: quoted, control characters escaped, and
/// shortened to `limit` characters so a garbage line does not flood the terminal.
func quotedForError(_ text: some StringProtocol, limit: Int = 40) -> String {
    var shown = String(text.prefix(limit))
    if text.count > limit { shown += "…" }
    return shown.debugDescription
}
