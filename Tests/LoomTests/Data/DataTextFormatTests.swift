import Foundation
import Testing
@testable import Loom

@Suite struct DataLabeledTextTests {
    @Test func readsLabelsAndTextsSkippingBlankLines() throws {
        let text = "1\tA fine film\r\n0\tnot good\tat all\n\n -3 \tx\n"
        let examples = try LabeledText.parse(text, source: "s.tsv")
        #expect(examples == [
            LabeledExample(label: 1, text: "A fine film", line: 1),
            LabeledExample(label: 0, text: "not good\tat all", line: 2),
            LabeledExample(label: -3, text: "x", line: 4),
        ])
    }

    @Test func lastLineWithoutNewlineCounts() throws {
        #expect(try LabeledText.parse("0\ta\n1\tb").map(\.label) == [0, 1])
    }

    @Test func tokenizeLowercasesSplitsOnWhitespaceAndTruncates() {
        #expect(LabeledText.tokenize("  The CAT\tsat\u{00A0}on  the mat ") == ["the", "cat", "sat", "on", "the", "mat"])
        #expect(LabeledText.tokenize("The CAT sat on", maxTokens: 2) == ["the", "cat"])
        #expect(LabeledText.tokenize("a b", maxTokens: 5) == ["a", "b"])
        #expect(LabeledText.tokenize("a b", maxTokens: 0) == [])
        #expect(LabeledText.tokenize("") == [])
        #expect(LabeledExample(label: 1, text: "Great MOVIE !").tokens() == ["great", "movie", "!"])
    }

    @Test func malformedLinesNameFileAndLine() {
        func error(_ text: String, labels: Set<Int>? = nil) -> String? {
            DataTestSupport.dataError { try LabeledText.parse(text, source: "s.tsv", allowedLabels: labels) }?.description
        }
        #expect(error("1\tok\n0 no tab here\n") == "s.tsv:2: expected label<TAB>text, found no tab")
        #expect(error("1\tok\npos\ttext\n") == "s.tsv:2: label \"pos\" is not an integer")
        #expect(error("\tempty label\n") == "s.tsv:1: label \"\" is not an integer")
        #expect(error("1\tok\n\n1\t   \n") == "s.tsv:3: the text after the label is empty")
        #expect(error("1\tok\n2\tbad\n", labels: [0, 1]) == "s.tsv:2: label 2 is not one of 0, 1")
        #expect(error("99999999999999999999\tbig\n") == "s.tsv:1: label \"99999999999999999999\" is not an integer")
    }

    @Test func readsAFileAndNamesAMissingOne() throws {
        let path = try DataTestSupport.temporaryFile("1\tgood\n0\tbad\n", suffix: ".tsv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try LabeledText.read(path: path, allowedLabels: [0, 1]).map(\.text) == ["good", "bad"])
        #expect(DataTestSupport.dataError { try LabeledText.read(path: "/no/such/dir/x.tsv") }?.description
                == "/no/such/dir/x.tsv: no such file")
    }
}

@Suite struct DataPlainTextTests {
    @Test func readsTextNormalizingCRLFAndDroppingTheByteOrderMark() throws {
        let path = try DataTestSupport.temporaryFile("\u{FEFF}ab\r\nc\rd\n", suffix: ".txt")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = try PlainText.read(path: path)
        #expect(text.unicodeScalars.map(\.value) == [0x61, 0x62, 0x0A, 0x63, 0x0D, 0x64, 0x0A])
    }

    @Test func charactersAreUnicodeScalars() {
        let text = "e\u{0301}a"   // "é" written with a combining accent: two scalars
        #expect(PlainText.characters(of: text).count == 3)
        #expect(PlainText.characters(of: "héllo\n") == ["h", "é", "l", "l", "o", "\n"])
    }

    @Test func vocabularyIsSortedAndRoundTrips() throws {
        let vocabulary = Vocabulary(counting: ["hello world\n".unicodeScalars], order: .sorted)
        #expect(vocabulary.tokens == ["\n", " ", "d", "e", "h", "l", "o", "r", "w"])
        #expect(vocabulary.index(of: "l") == 5)
        let ids = try vocabulary.encode("hold".unicodeScalars, source: "<text>")
        #expect(ids == [4, 6, 5, 2])
        #expect(String(String.UnicodeScalarView(vocabulary.decode(ids))) == "hold")
        #expect(vocabulary.decode([99, -1]).isEmpty)
        #expect(try Vocabulary<Unicode.Scalar>(entries: vocabulary.entryTexts, specialCount: 0) == vocabulary)
        let error = DataTestSupport.dataError { try vocabulary.encode("hex".unicodeScalars, source: "--prime") }
        #expect(error?.description == "--prime: \"x\" at position 3 is not one of the 9 entries of the vocabulary")
    }

    @Test func emptyMissingAndNonUTF8FilesAreErrors() throws {
        let empty = try DataTestSupport.temporaryFile("", suffix: ".txt")
        defer { try? FileManager.default.removeItem(atPath: empty) }
        #expect(DataTestSupport.dataError { try PlainText.read(path: empty) }?.description == "\(empty): the file is empty")
        let bad = try DataTestSupport.temporaryFile(Array("line one\nline two\nthree \u{FF}".utf8) + [0xFF], suffix: ".txt")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        #expect(DataTestSupport.dataError { try PlainText.read(path: bad) }?.description == "\(bad):3: the text is not valid UTF-8")
        #expect(DataTestSupport.dataError { try PlainText.read(path: empty + "-gone") }?.description == "\(empty)-gone: no such file")
    }
}

@Suite struct DataTimeSeriesCSVTests {
    @Test func theLastNumericColumnIsTheSeries() throws {
        let text = "month,passengers,note\n1949-01,112,\"cold, windy\"\n1949-02, 118 ,\"said \"\"hi\"\"\"\n"
        let series = try TimeSeriesCSV.parse(text)
        #expect(series.values == [112, 118])
        #expect(series.column == 1)
        #expect(series.name == "passengers")
        #expect(series.header == ["month", "passengers", "note"])
    }

    @Test func quotedNumbersCRLFBlankLinesAndNoFinalNewline() throws {
        let text = "year,\"value, in units\"\r\n1700,\"5.5\"\r\n\r\n1701,-1e1"
        let series = try TimeSeriesCSV.parse(text)
        #expect(series.values == [5.5, -10])
        #expect(series.name == "value, in units")
    }

    @Test func allNumericColumnsPickTheLastOne() throws {
        #expect(try TimeSeriesCSV.parse("a,b\n1,2\n3,4\n").values == [2, 4])
    }

    @Test func fieldSplitterFollowsRFC4180() throws {
        #expect(try TimeSeriesCSV.fields(of: "a,\"b,c\",\"d\"\"e\",") == ["a", "b,c", "d\"e", ""])
        #expect(try TimeSeriesCSV.fields(of: "") == [""])
        #expect(try TimeSeriesCSV.fields(of: " \"x\" , y") == ["x", " y"])
        #expect(try TimeSeriesCSV.fields(of: "ab\"c,d") == ["ab\"c", "d"])
        let unterminated = DataTestSupport.dataError { try TimeSeriesCSV.fields(of: "a,\"b", source: "t.csv", line: 4) }
        #expect(unterminated?.description == "t.csv:4:2: unterminated quoted field (a quoted field must end on the same line)")
        let trailing = DataTestSupport.dataError { try TimeSeriesCSV.fields(of: "\"a\"b,c", source: "t.csv", line: 1) }
        #expect(trailing?.description == "t.csv:1:1: unexpected text after the closing quote of a field")
    }

    @Test func malformedFilesNameFileLineAndColumn() {
        func error(_ text: String) -> String? {
            DataTestSupport.dataError { try TimeSeriesCSV.parse(text, source: "ts.csv") }?.description
        }
        #expect(error("t,v\n1,2\n3\n") == "ts.csv:3: expected 2 comma-separated fields (as in the header), got 1")
        #expect(error("t,v\n1,2\n2,3\n3,abc\n") ==
                "ts.csv:4:2: \"abc\" in column \"v\" is not a finite number (1 such value in an otherwise numeric column)")
        #expect(error("t,v\na,1\nb,2\nc,nan\n") ==
                "ts.csv:4:2: \"nan\" in column \"v\" is not a finite number (1 such value in an otherwise numeric column)")
        #expect(error("t,v\na,x\nb,y\n") == "ts.csv:2:2: no column is numeric in every row (the last column has \"x\")")
        #expect(error("") == "ts.csv: the file is empty, expected a header row and data rows")
        #expect(error("t,v\n") == "ts.csv: the file has a header but no data rows")
        #expect(error("t,v\n1,\"2\n") == "ts.csv:2:2: unterminated quoted field (a quoted field must end on the same line)")
    }

    @Test func readsAFileAndNamesAMissingOne() throws {
        let path = try DataTestSupport.temporaryFile("m,v\n1,10\n2,20\n", suffix: ".csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try TimeSeriesCSV.read(path: path).values == [10, 20])
        #expect(DataTestSupport.dataError { try TimeSeriesCSV.read(path: path + "x") }?.description == "\(path)x: no such file")
    }
}

@Suite struct DataErrorTests {
    @Test func descriptionLeavesOutUnknownParts() {
        #expect(DataError(file: "f", message: "m").description == "f: m")
        #expect(DataError(file: "f", line: 3, message: "m").description == "f:3: m")
        #expect(DataError(file: "f", line: 3, column: 2, message: "m").description == "f:3:2: m")
        #expect(DataError(file: "f", line: 3, message: "m").localizedDescription == "f:3: m")
    }
}
