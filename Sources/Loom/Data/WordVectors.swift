import Foundation

/// Pretrained word vectors in the text format of GloVe and word2vec: one word per line,
/// followed by its numbers, separated by spaces (or tabs). A word2vec file may start with a
/// header line `COUNT DIMENSION`.
///
/// Reading checks the whole file and throws a `DataError` naming the file and line for an
/// empty file, a row with the wrong number of values, a value that is not a finite number,
/// a word listed twice, and a header whose count disagrees with the rows.
public struct WordVectors: Equatable, Sendable {
    /// The words, in file order.
    public let words: [String]
    /// The length of every vector.
    public let dimension: Int
    /// The vectors, row-major: word `i`'s vector is `values[i·dimension ..< (i+1)·dimension]`.
    public let values: [Float]
    private let indexByWord: [String: Int]

    /// Vectors for `words`, `values` holding `words.count · dimension` numbers row by row.
    /// Stops if the counts disagree or a word repeats.
    public init(words: [String], dimension: Int, values: [Float]) {
        checkShape(dimension >= 1 && values.count == words.count * dimension,
                   "WordVectors: \(values.count) values for \(words.count) words of dimension \(dimension)")
        var map: [String: Int] = [:]
        for (index, word) in words.enumerated() {
            checkShape(map[word] == nil, "WordVectors: the word \(quotedForError(word)) is listed twice")
            map[word] = index
        }
        self.words = words
        self.dimension = dimension
        self.values = values
        indexByWord = map
    }

    /// The number of words.
    public var count: Int { words.count }

    /// The vector of `word`, or nil when the file has none.
    public func vector(for word: String) -> ArraySlice<Float>? {
        indexByWord[word].map { values[$0 * dimension ..< ($0 + 1) * dimension] }
    }

    /// Reads the file at `path` (see the type's documentation for the format and errors).
    public static func read(path: String) throws -> WordVectors {
        let bytes = try TextSource.readBytes(path: path)
        try TextSource.validateUTF8(bytes, source: path)
        return try parse(bytes, source: path)
    }

    /// Parses the text of a vectors file; `source` names it in errors.
    public static func parse(_ text: String, source: String = "<string>") throws -> WordVectors {
        try parse(Array(text.utf8), source: source)
    }

    static func parse(_ bytes: [UInt8], source: String) throws -> WordVectors {
        var words: [String] = [], values: [Float] = []
        var firstLine: [String: Int] = [:]
        var dimension: Int?
        var header: (count: Int, line: Int)?
        var fields: [Range<Int>] = []
        try TextSource.forEachLine(bytes) { lineNumber, range in
            fields.removeAll(keepingCapacity: true)
            var start: Int? = nil
            for index in range {
                let byte = bytes[index]
                if byte == 0x20 || byte == 0x09 {
                    if let first = start { fields.append(first..<index); start = nil }
                } else if start == nil {
                    start = index
                }
            }
            if let first = start { fields.append(first..<range.upperBound) }
            if fields.isEmpty { return }  // blank line
            if words.isEmpty && header == nil && dimension == nil && fields.count == 2,
               let count = TextSource.parseInteger(bytes, fields[0]), let size = TextSource.parseInteger(bytes, fields[1]) {
                guard count >= 0, size >= 1 else {
                    throw DataError(file: source, line: lineNumber, message: "header \"\(count) \(size)\" needs a count ≥ 0 and a dimension ≥ 1")
                }
                header = (count, lineNumber)
                dimension = size
                return
            }
            let word = TextSource.string(bytes, fields[0])
            let found = fields.count - 1
            guard found >= 1 else {
                throw DataError(file: source, line: lineNumber, message: "the word \(quotedForError(word)) has no numbers after it")
            }
            if let expected = dimension {
                guard found == expected else {
                    throw DataError(file: source, line: lineNumber,
                                    message: "expected \(expected) numbers after the word (as \(header != nil ? "the header says" : "on the first row")), found \(found)")
                }
            } else {
                dimension = found
            }
            if let previous = firstLine[word] {
                throw DataError(file: source, line: lineNumber, message: "the word \(quotedForError(word)) is listed twice (first on line \(previous))")
            }
            for (column, field) in fields.dropFirst().enumerated() {
                guard let value = Float(Substring(TextSource.string(bytes, field))), value.isFinite else {
                    throw DataError(file: source, line: lineNumber, column: column + 2,
                                    message: "\(quotedForError(TextSource.string(bytes, field))) is not a finite number")
                }
                values.append(value)
            }
            firstLine[word] = lineNumber
            words.append(word)
        }
        guard let dimension, !words.isEmpty else {
            throw DataError(file: source, message: "no word vectors in the file")
        }
        if let header, header.count != words.count {
            throw DataError(file: source, line: header.line, message: "the header promises \(header.count) vectors, the file has \(words.count)")
        }
        return WordVectors(words: words, dimension: dimension, values: values)
    }

    /// The file text: one line per word, `word v1 v2 …`, each number written with the
    /// fewest digits that read back to the same `Float`. No header.
    public var text: String {
        var out = ""
        out.reserveCapacity(words.count * (dimension * 11 + 10))
        for (index, word) in words.enumerated() {
            out += word
            for value in values[index * dimension ..< (index + 1) * dimension] {
                out += " "
                out += value.description
            }
            out += "\n"
        }
        return out
    }

    /// Writes `text` to `path`, replacing the file atomically. Stops on a word that
    /// contains whitespace or is empty, which the format cannot hold.
    public func write(to path: String) throws {
        for word in words {
            checkShape(!word.isEmpty && !word.contains(where: \.isWhitespace),
                       "WordVectors: the word \(quotedForError(word)) cannot be written (empty or contains whitespace)")
        }
        try writeFileAtomically(Data(text.utf8), to: URL(fileURLWithPath: path))
    }
}
