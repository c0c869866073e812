/// A small, strict JSON reader and string encoder for safetensors headers.
///
/// Written for untrusted input: it never traps, limits nesting depth, keeps integers exact
/// (offsets and shapes are 64-bit integers, which a `Double` cannot always hold), rejects
/// duplicate object keys and invalid UTF-8, and reports the byte offset of the first problem.
enum HeaderJSON: Equatable {
    case null
    case bool(Bool)
    /// A number written without fraction or exponent that fits in `Int`.
    case integer(Int)
    /// Any other number.
    case number(Double)
    case string(String)
    case array([HeaderJSON])
    /// Keys in the order they appear (duplicates are rejected while parsing).
    case object([(key: String, value: HeaderJSON)])

    static func == (lhs: HeaderJSON, rhs: HeaderJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): true
        case let (.bool(a), .bool(b)): a == b
        case let (.integer(a), .integer(b)): a == b
        case let (.number(a), .number(b)): a == b
        case let (.string(a), .string(b)): a == b
        case let (.array(a), .array(b)): a == b
        case let (.object(a), .object(b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// A short name of the value's kind, for error messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value itself for a number, its kind otherwise, for error messages.
    var shortDescription: String {
        switch self {
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        default: kindName
        }
    }

    /// Why a header is not valid JSON, with the byte offset (within the header) of the problem.
    struct SyntaxError: Error {
        var offset: Int
        var message: String
    }

    /// The deepest nesting of arrays and objects accepted (a safetensors header needs 3).
    static let maximumDepth = 64

    /// Parses one JSON value filling all of `bytes` (surrounding whitespace allowed).
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> HeaderJSON {
        var parser = Parser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.position == bytes.count else { throw parser.error("unexpected data after the JSON value") }
        return value
    }

    /// `text` as a JSON string literal, quoted and escaped.
    static func encodeString(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var position = 0

        init(bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

        func error(_ message: String) -> SyntaxError { SyntaxError(offset: position, message: message) }

        var current: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(SyntaxError) {
            guard current == byte else { throw error(current == nil ? "unexpected end of header, expected \(what)" : "expected \(what)") }
            position += 1
        }

        mutating func parseValue(depth: Int) throws(SyntaxError) -> HeaderJSON {
            guard let byte = current else { throw error("unexpected end of header, expected a value") }
            switch byte {
            case UInt8(ascii: "{"): return try parseObject(depth: depth + 1)
            case UInt8(ascii: "["): return try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try parseLiteral("true"); return .bool(true)
            case UInt8(ascii: "f"): try parseLiteral("false"); return .bool(false)
            case UInt8(ascii: "n"): try parseLiteral("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
            default: throw error("unexpected byte 0x\(String(byte, radix: 16)), expected a value")
            }
        }

        mutating func parseLiteral(_ word: String) throws(SyntaxError) {
            for expected in word.utf8 {
                guard current == expected else { throw error("invalid literal, expected '\(word)'") }
                position += 1
            }
        }

        mutating func parseObject(depth: Int) throws(SyntaxError) -> HeaderJSON {
            guard depth <= HeaderJSON.maximumDepth else { throw error("nesting deeper than \(HeaderJSON.maximumDepth) levels") }
            position += 1  // {
            var members: [(key: String, value: HeaderJSON)] = []
            var keys = Set<String>()
            skipWhitespace()
            if current == UInt8(ascii: "}") { position += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else {
                    throw error(current == nil ? "unexpected end of header, expected a quoted key" : "expected a quoted key")
                }
                let keyOffset = position
                let key = try parseString()
                guard keys.insert(key).inserted else {
                    throw SyntaxError(offset: keyOffset, message: "duplicate key \(HeaderJSON.encodeString(key))")
                }
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':'")
                skipWhitespace()
                members.append((key, try parseValue(depth: depth)))
                skipWhitespace()
                if current == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "}"), "',' or '}'")
                return .object(members)
            }
        }

        mutating func parseArray(depth: Int) throws(SyntaxError) -> HeaderJSON {
            guard depth <= HeaderJSON.maximumDepth else { throw error("nesting deeper than \(HeaderJSON.maximumDepth) levels") }
            position += 1  // [
            var elements: [HeaderJSON] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") { position += 1; return .array(elements) }
            while true {
                skipWhitespace()
                elements.append(try parseValue(depth: depth))
                skipWhitespace()
                if current == UInt8(ascii: ",") { position += 1; continue }
                try expect(UInt8(ascii: "]"), "',' or ']'")
                return .array(elements)
            }
        }

        mutating func parseHex4() throws(SyntaxError) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = current else { throw error("unexpected end of header in a \\u escape") }
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw error("invalid hexadecimal digit in a \\u escape")
                }
                value = value << 4 | UInt32(digit)
                position += 1
            }
            return value
        }

        mutating func parseString() throws(SyntaxError) -> String {
            let start = position
            position += 1  // opening quote
            var utf8: [UInt8] = []
            while true {
                guard let byte = current else {
                    throw SyntaxError(offset: start, message: "unterminated string")
                }
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: utf8, as: UTF8.self) else {
                        throw SyntaxError(offset: start, message: "string is not valid UTF-8")
                    }
                    return text
                case UInt8(ascii: "\\"):
                    guard let escaped = current else { throw error("unexpected end of header in an escape") }
                    position += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        var code = try parseHex4()
                        if (0xD800..<0xDC00).contains(code) {
                            guard current == UInt8(ascii: "\\") else { throw error("unpaired surrogate in a \\u escape") }
                            position += 1
                            guard current == UInt8(ascii: "u") else { throw error("unpaired surrogate in a \\u escape") }
                            position += 1
                            let low = try parseHex4()
                            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in a \\u escape") }
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(code) else { throw error("invalid code point in a \\u escape") }
                        utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
                    default:
                        throw error("invalid escape '\\\(Character(Unicode.Scalar(escaped)))'")
                    }
                default:
                    guard byte >= 0x20 else { throw error("control character 0x\(String(byte, radix: 16)) in a string") }
                    utf8.append(byte)
                }
            }
        }

        mutating func parseNumber() throws(SyntaxError) -> HeaderJSON {
            let start = position
            var isInteger = true
            if current == UInt8(ascii: "-") { position += 1 }
            guard let first = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
                throw error("invalid number")
            }
            if first == UInt8(ascii: "0") {
                position += 1
            } else {
                skipDigits()
            }
            if current == UInt8(ascii: ".") {
                isInteger = false
                position += 1
                guard skipDigits() > 0 else { throw error("invalid number: no digits after '.'") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                isInteger = false
                position += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
                guard skipDigits() > 0 else { throw error("invalid number: no digits in the exponent") }
            }
            let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            if isInteger, let value = Int(text) { return .integer(value) }
            guard let value = Double(text) else { throw SyntaxError(offset: start, message: "invalid number \(text)") }
            return .number(value)
        }

        @discardableResult
        mutating func skipDigits() -> Int {
            let start = position
            while let byte = current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { position += 1 }
            return position - start
        }
    }
}
