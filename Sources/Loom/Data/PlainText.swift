import Foundation

/// A reader of plain UTF-8 text for the character-level language model.
///
/// "Characters" here are Unicode scalars (code points), the units Python's `str` indexes,
/// so a model trained here sees the same sequence as a PyTorch one reading the same file
/// (an accented letter written with a combining mark is two characters). CRLF line
/// endings become LF (like Python's default text mode) and a leading byte-order mark is
/// dropped; a lone CR is kept.
public enum PlainText {
    /// The text of the file at `path`. Throws `DataError` naming the path when the file is
    /// missing, unreadable, empty, or not UTF-8 (with the line of the first bad byte).
    public static func read(path: String) throws -> String {
        let bytes = try TextSource.readBytes(path: path)
        return try decode(bytes: bytes, source: path)
    }

    /// The text of UTF-8 `bytes` with the same rules as `read(path:)`; `source` names them.
    public static func decode(bytes: [UInt8], source: String) throws -> String {
        try TextSource.validateUTF8(bytes, source: source)
        var start = TextSource.byteOrderMarkLength(bytes)
        var normalized: [UInt8] = []
        normalized.reserveCapacity(bytes.count)
        var index = start
        while index < bytes.count {
            if bytes[index] == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A {
                normalized.append(contentsOf: bytes[start..<index])
                start = index + 1
            }
            index += 1
        }
        normalized.append(contentsOf: bytes[start..<bytes.count])
        guard !normalized.isEmpty else {
            throw DataError(file: source, message: "the file is empty")
        }
        return String(decoding: normalized, as: UTF8.self)
    }

    /// The characters (Unicode scalars, each as a `Character`) of `text`, in order.
    public static func characters(of text: String) -> [Character] {
        text.unicodeScalars.map { Character($0) }
    }
}

/// The character vocabulary of a text: each distinct Unicode scalar gets an index, in
/// ascending code-point order (Python's `sorted(set(text))`), so the same text always
/// gives the same indices.
public struct CharacterVocabulary: Equatable, Sendable {
    /// The characters by index (each a single Unicode scalar), in ascending code-point order.
    public let characters: [Character]
    private let indexByScalar: [Unicode.Scalar: Int]

    /// The vocabulary of the distinct characters in `text`. To restore a saved vocabulary,
    /// pass its `orderedText`: the result has the same indices.
    public init(text: String) {
        let scalars = Set(text.unicodeScalars).sorted { $0.value < $1.value }
        characters = scalars.map { Character($0) }
        var map: [Unicode.Scalar: Int] = [:]
        for (index, scalar) in scalars.enumerated() { map[scalar] = index }
        indexByScalar = map
    }

    /// The number of characters.
    public var count: Int { characters.count }

    /// All characters concatenated in index order (store it to rebuild the vocabulary).
    public var orderedText: String { String(characters) }

    /// The index of `character` (a single Unicode scalar), or nil if it is not in the
    /// vocabulary or is made of several scalars.
    public func index(of character: Character) -> Int? {
        let scalars = character.unicodeScalars
        guard scalars.count == 1, let scalar = scalars.first else { return nil }
        return indexByScalar[scalar]
    }

    /// The indices of the characters of `text`. Throws `DataError` (naming `source` and the
    /// 1-based character position) for a character not in the vocabulary.
    public func encode(_ text: String, source: String = "<text>") throws -> [Int] {
        var indices: [Int] = []
        indices.reserveCapacity(text.utf8.count)
        for (position, scalar) in text.unicodeScalars.enumerated() {
            guard let index = indexByScalar[scalar] else {
                throw DataError(file: source,
                                message: "character \(quotedForError(String(scalar))) at position \(position + 1) is not in the vocabulary")
            }
            indices.append(index)
        }
        return indices
    }

    /// The text spelled by `indices`; an index outside `0..<count` becomes U+FFFD.
    public func decode(_ indices: [Int]) -> String {
        var scalars = String.UnicodeScalarView()
        for index in indices {
            if characters.indices.contains(index), let scalar = characters[index].unicodeScalars.first {
                scalars.append(scalar)
            } else {
                scalars.append("\u{FFFD}")
            }
        }
        return String(scalars)
    }
}
