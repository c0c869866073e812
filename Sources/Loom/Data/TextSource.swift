import Foundation

/// Internal helpers shared by the readers: loading a file as bytes with errors that name
/// the path, checking UTF-8 with the line of the first bad byte, and walking lines.
///
/// The readers work on UTF-8 bytes: every delimiter they look for (LF, CR, tab, comma,
/// quote, `#`) is ASCII, and an ASCII byte never occurs inside a multi-byte UTF-8 sequence,
/// so splitting bytes is exact and fast. Field text is decoded only once it is cut out.
enum TextSource {
    /// The bytes of the file at `path`; throws a `DataError` naming the path when the file
    /// is missing, is a directory, or cannot be read.
    static func readBytes(path: String) throws -> [UInt8] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError(file: path, message: "no such file")
        }
        if isDirectory.boolValue {
            throw DataError(file: path, message: "is a directory, expected a file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(file: path, message: "cannot read the file (permission denied?)")
        }
        return [UInt8](data)
    }

    /// Throws unless `bytes` are valid UTF-8; the error names the line of the first bad byte.
    static func validateUTF8(_ bytes: [UInt8], source: String) throws {
        if String(validating: bytes, as: UTF8.self) != nil { return }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var line = 1
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                if encoded.count == 1 && encoded.first == 0x0A { line += 1 }
            case .error:
                throw DataError(file: source, line: line, message: "the text is not valid UTF-8")
            case .emptyInput:
                return
            }
        }
    }

    /// The number of bytes of a UTF-8 byte-order mark at the start of `bytes` (0 or 3).
    static func byteOrderMarkLength(_ bytes: [UInt8]) -> Int {
        bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF ? 3 : 0
    }

    /// Calls `body(lineNumber, range)` for each line of `bytes`: lines end at LF, a CR just
    /// before the LF is left out (CRLF files read like LF files), a last line without a
    /// final newline still counts, and a leading byte-order mark is skipped. Line numbers
    /// start at 1.
    static func forEachLine(_ bytes: [UInt8], _ body: (Int, Range<Int>) throws -> Void) rethrows {
        var start = byteOrderMarkLength(bytes)
        var lineNumber = 1
        let count = bytes.count
        try bytes.withUnsafeBufferPointer { buffer in
            var index = start
            while index < count {
                if buffer[index] == 0x0A {
                    var end = index
                    if end > start && buffer[end - 1] == 0x0D { end -= 1 }
                    try body(lineNumber, start..<end)
                    lineNumber += 1
                    start = index + 1
                }
                index += 1
            }
        }
        if start < count {
            var end = count
            if bytes[end - 1] == 0x0D { end -= 1 }
            try body(lineNumber, start..<end)
        }
    }

    /// The ranges of the `separator`-separated fields of `bytes[range]` (empty fields kept).
    static func split(_ bytes: [UInt8], _ range: Range<Int>, on separator: UInt8) -> [Range<Int>] {
        var fields: [Range<Int>] = []
        var start = range.lowerBound
        for index in range where bytes[index] == separator {
            fields.append(start..<index)
            start = index + 1
        }
        fields.append(start..<range.upperBound)
        return fields
    }

    /// The text of `bytes[range]` (already validated as UTF-8).
    static func string(_ bytes: [UInt8], _ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    /// Whether `bytes[range]` holds only spaces and tabs (or nothing).
    static func isBlank(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        range.allSatisfy { bytes[$0] == 0x20 || bytes[$0] == 0x09 }
    }

    /// `range` without leading and trailing ASCII spaces and tabs.
    static func trimmed(_ bytes: [UInt8], _ range: Range<Int>) -> Range<Int> {
        var lower = range.lowerBound, upper = range.upperBound
        while lower < upper && (bytes[lower] == 0x20 || bytes[lower] == 0x09) { lower += 1 }
        while upper > lower && (bytes[upper - 1] == 0x20 || bytes[upper - 1] == 0x09) { upper -= 1 }
        return lower..<upper
    }

    /// The decimal integer spelled by `bytes[range]` (optional sign, digits only), or nil
    /// when it is not one or does not fit in 18 digits.
    static func parseInteger(_ bytes: [UInt8], _ range: Range<Int>) -> Int? {
        var index = range.lowerBound
        var negative = false
        if index < range.upperBound && (bytes[index] == 0x2D || bytes[index] == 0x2B) {
            negative = bytes[index] == 0x2D
            index += 1
        }
        let digits = index..<range.upperBound
        guard !digits.isEmpty, digits.count <= 18 else { return nil }
        var value = 0
        for i in digits {
            let byte = bytes[i]
            guard byte >= 0x30 && byte <= 0x39 else { return nil }
            value = value * 10 + Int(byte - 0x30)
        }
        return negative ? -value : value
    }
}
