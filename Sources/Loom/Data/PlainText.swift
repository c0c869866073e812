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
