import Foundation

/// A univariate time series read from a CSV file.
public struct TimeSeries: Equatable, Sendable {
    /// The header's column names.
    public var header: [String]
    /// The 0-based index of the column the values come from.
    public var column: Int
    /// The values, one per data row, in file order.
    public var values: [Double]

    /// A series of `values` taken from column `column` of a table with `header`.
    public init(header: [String], column: Int, values: [Double]) {
        self.header = header
        self.column = column
        self.values = values
    }

    /// The name of the series' column.
    public var name: String { header.indices.contains(column) ? header[column] : "" }
}

/// A reader of time series in CSV form: one header row, then one row per time step.
///
/// - Fields are split by a minimal RFC 4180 splitter: commas separate fields; a field in
///   double quotes may contain commas, and `""` inside it is one quote; spaces around a
///   quoted field are allowed. A record is one line (a quoted field cannot span lines).
/// - Every data row must have as many fields as the header. Blank lines are skipped.
/// - The series is the last numeric column: the last column whose every data field
///   parses as a finite number (spaces around it allowed). A column whose fields are
///   mostly numbers (more than half) but not all is taken to be a numeric column with a
///   bad value, which is reported (file:line:column) rather than silently passed over in
///   favour of an earlier column.
/// - Errors are `DataError`s naming file, line and column (the 1-based field number).
public enum TimeSeriesCSV {
    /// The series in the CSV file at `path`. Throws `DataError` naming the path (and line
    /// and column) when the file is missing or malformed or has no numeric column.
    public static func read(path: String) throws -> TimeSeries {
        let bytes = try TextSource.readBytes(path: path)
        return try parse(bytes: bytes, source: path)
    }

    /// The series in CSV `text`; `source` names it in errors.
    public static func parse(_ text: String, source: String = "<string>") throws -> TimeSeries {
        try parse(bytes: Array(text.utf8), source: source)
    }

    /// The series in CSV given as UTF-8 `bytes`; `source` names them in errors.
    public static func parse(bytes: [UInt8], source: String) throws -> TimeSeries {
        try TextSource.validateUTF8(bytes, source: source)
        var header: [String]? = nil
        var rows: [(line: Int, fields: [String])] = []
        try TextSource.forEachLine(bytes) { lineNumber, range in
            if TextSource.isBlank(bytes, range) { return }
            let fields = try splitFields(bytes, range, source: source, line: lineNumber)
            guard let header else {
                header = fields
                return
            }
            guard fields.count == header.count else {
                throw DataError(file: source, line: lineNumber,
                                message: "expected \(header.count) comma-separated fields (as in the header), got \(fields.count)")
            }
            rows.append((lineNumber, fields))
        }
        guard let header else {
            throw DataError(file: source, message: "the file is empty, expected a header row and data rows")
        }
        guard !rows.isEmpty else {
            throw DataError(file: source, message: "the file has a header but no data rows")
        }

        var lastFailure: (line: Int, column: Int, text: String)? = nil
        for column in header.indices.reversed() {
            var values: [Double] = []
            values.reserveCapacity(rows.count)
            var firstFailure: (line: Int, text: String)? = nil
            var failures = 0
            for row in rows {
                if let value = parseNumber(row.fields[column]) {
                    values.append(value)
                } else {
                    failures += 1
                    if firstFailure == nil { firstFailure = (row.line, row.fields[column]) }
                }
            }
            guard let failure = firstFailure else {
                return TimeSeries(header: header, column: column, values: values)
            }
            if values.count * 2 > rows.count {
                throw DataError(file: source, line: failure.line, column: column + 1,
                                message: "\(quotedForError(failure.text)) in column \(quotedForError(header[column])) is not a finite number (\(failures) such value\(failures == 1 ? "" : "s") in an otherwise numeric column)")
            }
            if lastFailure == nil { lastFailure = (failure.line, column + 1, failure.text) }
        }
        let failure = lastFailure!
        throw DataError(file: source, line: failure.line, column: failure.column,
                        message: "no column is numeric in every row (the last column has \(quotedForError(failure.text)))")
    }

    /// The fields of one CSV `line` (RFC 4180 quoting, see the type's documentation).
    /// Throws `DataError` naming `source`, `line` and the field for an unterminated
    /// quote or text after a closing quote.
    public static func fields(of line: String, source: String = "<string>", line lineNumber: Int = 1) throws -> [String] {
        let bytes = Array(line.utf8)
        return try splitFields(bytes, 0..<bytes.count, source: source, line: lineNumber)
    }

    /// Splits `bytes[range]` into fields.
    static func splitFields(_ bytes: [UInt8], _ range: Range<Int>, source: String, line: Int) throws -> [String] {
        let comma = UInt8(ascii: ","), quote = UInt8(ascii: "\"")
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }
        var fields: [String] = []
        var index = range.lowerBound
        let end = range.upperBound
        while true {
            let column = fields.count + 1
            var probe = index
            while probe < end && isSpace(bytes[probe]) { probe += 1 }
            if probe < end && bytes[probe] == quote {
                var field: [UInt8] = []
                index = probe + 1
                var closed = false
                while index < end {
                    if bytes[index] == quote {
                        if index + 1 < end && bytes[index + 1] == quote {
                            field.append(quote)
                            index += 2
                        } else {
                            index += 1
                            closed = true
                            break
                        }
                    } else {
                        field.append(bytes[index])
                        index += 1
                    }
                }
                guard closed else {
                    throw DataError(file: source, line: line, column: column,
                                    message: "unterminated quoted field (a quoted field must end on the same line)")
                }
                while index < end && isSpace(bytes[index]) { index += 1 }
                if index < end && bytes[index] != comma {
                    throw DataError(file: source, line: line, column: column,
                                    message: "unexpected text after the closing quote of a field")
                }
                fields.append(String(decoding: field, as: UTF8.self))
            } else {
                var stop = index
                while stop < end && bytes[stop] != comma { stop += 1 }
                fields.append(TextSource.string(bytes, index..<stop))
                index = stop
            }
            if index >= end { break }
            index += 1  // past the comma
            if index == end {
                fields.append("")
                break
            }
        }
        return fields
    }

    /// The finite number spelled by `text` (spaces around it allowed), or nil.
    static func parseNumber(_ text: String) -> Double? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let value = Double(trimmed), value.isFinite else { return nil }
        return value
    }
}
