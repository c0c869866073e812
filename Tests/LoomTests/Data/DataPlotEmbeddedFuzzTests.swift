import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Loom

/// Counts the elements of an XML document and collects the text of `<text>` elements.
final class SVGInspector: NSObject, XMLParserDelegate {
    var counts: [String: Int] = [:]
    var texts: [String] = []
    var rootName: String?
    private var inText = false

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        if rootName == nil { rootName = name }
        counts[name, default: 0] += 1
        if name == "text" { inText = true; texts.append("") }
    }

    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { inText = false }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if inText { texts[texts.count - 1] += string }
    }
}

@Suite struct DataLearningCurvePlotTests {
    func inspect(_ svg: String) -> (ok: Bool, inspector: SVGInspector) {
        let parser = XMLParser(data: Data(svg.utf8))
        let inspector = SVGInspector()
        parser.delegate = inspector
        return (parser.parse(), inspector)
    }

    @Test func svgIsWellFormedWithAxesTicksTitleAndLegend() throws {
        var curve = LearningCurve(title: "tagger <EWT> & \"friends\"", trainingXLabel: "step", validationName: "dev accuracy")
        for step in 0..<40 { curve.addTrainingLoss(x: Double(step), loss: 2.5 / Double(step + 1)) }
        curve.addTrainingLoss(x: 40, loss: .nan)
        for epoch in 1...5 { curve.addValidation(epoch: Double(epoch), value: 0.5 + 0.08 * Double(epoch)) }
        let (ok, svg) = inspect(LearningCurvePlot.svg(curve))
        #expect(ok)
        #expect(svg.rootName == "svg")
        #expect(svg.counts["polyline"] == 2)
        #expect(svg.counts["g"] == 4)   // two panels, each with a legend group
        #expect((svg.counts["line"] ?? 0) > 10)
        #expect(svg.texts.first == "tagger <EWT> & \"friends\"")
        #expect(svg.texts.contains("dev accuracy"))
        #expect(svg.texts.contains("training loss"))
        #expect(svg.texts.contains("epoch"))
        #expect(svg.texts.contains("step"))
        #expect(svg.texts.contains("0.90"))   // a validation tick (step 0.05)
    }

    @Test func emptySeriesSayNoData() {
        let (ok, svg) = inspect(LearningCurvePlot.svg(LearningCurve(title: "t")))
        #expect(ok)
        #expect(svg.texts.filter { $0 == "no data" }.count == 2)
        let single = LearningCurve(title: "t", trainingLoss: [(1, 3)], validation: [(1, 0.5)])
        #expect(inspect(LearningCurvePlot.svg(single)).ok)
    }

    @Test func niceTicksAreRound() {
        let unit = LearningCurvePlot.niceTicks(0, 1)
        #expect(unit.map { LearningCurvePlot.tickLabel($0, ticks: unit) } == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(LearningCurvePlot.niceTicks(3, 97) == [0, 20, 40, 60, 80, 100])
    }

    @Test func writeReplacesTheFileAndNamesABadPath() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("loom-plot-\(UUID().uuidString).svg").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        let curve = LearningCurve(title: "t", trainingLoss: [(0, 1), (1, 0.5)], validation: [(1, 0.7)])
        try LearningCurvePlot.write(curve, to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == LearningCurvePlot.svg(curve))
        let bad = "/no/such/folder/plot.svg"
        #expect(DataTestSupport.dataError { try LearningCurvePlot.write(curve, to: bad) }?.file == bad)
    }
}

@Suite struct DataEmbeddedDatasetTests {
    @Test func taggerCorpusNeedsContextToDisambiguate() throws {
        let corpus = EmbeddedDatasets.tagger()
        #expect(corpus.train.count == 700)
        #expect(corpus.test.count > 100)
        let trainTexts = Set(corpus.train.map { $0.words.joined(separator: " ") })
        #expect(corpus.test.allSatisfy { !trainTexts.contains($0.words.joined(separator: " ")) })
        let all = corpus.train + corpus.test
        #expect(all.allSatisfy { $0.words.count == $0.tags.count && !$0.words.isEmpty })

        var tagsOfWord: [String: [String: Int]] = [:]
        var tagOfContext: [String: Set<String>] = [:]
        for sentence in all {
            for i in sentence.words.indices {
                tagsOfWord[sentence.words[i], default: [:]][sentence.tags[i], default: 0] += 1
                let previous = i > 0 ? sentence.words[i - 1] : "<s>"
                let next = i + 1 < sentence.words.count ? sentence.words[i + 1] : "</s>"
                tagOfContext["\(previous) \(sentence.words[i]) \(next)", default: []].insert(sentence.tags[i])
            }
        }
        // Ambiguous words occur often with each of their tags.
        for (word, tags) in [("watch", ["NOUN", "VERB"]), ("fish", ["NOUN", "VERB"]), ("can", ["NOUN", "AUX"]),
                             ("like", ["VERB", "ADP"]), ("that", ["DET", "PRON", "SCONJ"])] {
            for tag in tags { #expect((tagsOfWord[word]?[tag] ?? 0) >= 10, "\(word) as \(tag): \(tagsOfWord[word] ?? [:])") }
        }
        // A word-only tagger (most frequent tag per word) is clearly wrong on some tokens...
        let total = tagsOfWord.values.reduce(0) { $0 + $1.values.reduce(0, +) }
        let unigramCorrect = tagsOfWord.values.reduce(0) { $0 + ($1.values.max() ?? 0) }
        #expect(Double(unigramCorrect) / Double(total) < 0.95)
        // ...while the neighbouring words always determine the tag.
        #expect(tagOfContext.values.allSatisfy { $0.count == 1 })
        // It round-trips through CoNLL-U.
        #expect(try CoNLLU.parse(CoNLLU.render(corpus.test)).map(\.words) == corpus.test.map(\.words))
    }

    @Test func sentimentNeedsWordOrder() throws {
        let data = EmbeddedDatasets.sentiment()
        #expect(data.train.count == 1200)
        let labels = data.train.map(\.label)
        #expect(Set(labels) == [0, 1])
        let positives = labels.filter { $0 == 1 }.count
        #expect(positives > 500 && positives < 700)
        // Texts with the same bag of words but opposite labels exist.
        var labelsOfBag: [String: Set<Int>] = [:]
        for example in data.train + data.test {
            labelsOfBag[example.tokens().sorted().joined(separator: " "), default: []].insert(example.label)
        }
        #expect(labelsOfBag.values.filter { $0.count == 2 }.count >= 20)
        // Every text goes through the TSV reader unchanged.
        let tsv = data.test.map { "\($0.label)\t\($0.text)" }.joined(separator: "\n")
        #expect(try LabeledText.parse(tsv, allowedLabels: [0, 1]).map(\.text) == data.test.map(\.text))
        #expect(data.train.contains { $0.text.contains(" not ") })
    }

    @Test func verseHasRegularStructure() {
        let text = EmbeddedDatasets.verse()
        #expect(text.unicodeScalars.count >= 48_000 && text.unicodeScalars.count < 60_000)
        #expect(text == EmbeddedDatasets.verse())
        #expect(text != EmbeddedDatasets.verse(seed: 1))
        let vocabulary = Vocabulary(counting: [text.unicodeScalars], order: .sorted)
        #expect(vocabulary.count > 30 && vocabulary.count < 60)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.filter { $0.hasPrefix("THE ") }.count > 50)
        #expect(lines.filter { $0.hasSuffix(".") }.count > 100)
    }

    @Test func seasonalSeriesHasTrendAndSeason() {
        let series = EmbeddedDatasets.seasonalSeries()
        #expect(series.values.count == 240)
        #expect(series.values == EmbeddedDatasets.seasonalSeries().values)
        #expect(series.values.allSatisfy { $0 > 0 && $0.isFinite })
        let firstYear = series.values[0..<12].reduce(0, +), lastYear = series.values[228..<240].reduce(0, +)
        #expect(lastYear > firstYear * 2)
        // Seasonal-naive (same month last year) beats persistence-free mean prediction.
        let values = series.values
        let naiveError = (12..<240).map { abs(values[$0] - values[$0 - 12]) }.reduce(0, +) / 228
        let lagSixError = (6..<240).map { abs(values[$0] - values[$0 - 6]) }.reduce(0, +) / 234
        #expect(naiveError < lagSixError / 2)
        #expect(series.name == "value")
    }
}

@Suite struct DataFuzzTests {
    static let validCoNLLU = "# c\n1\ta\t_\tDET\t_\t_\t_\t_\t_\t_\n2-3\tbc\t_\t_\t_\t_\t_\t_\t_\t_\n2\tb\t_\tNOUN\t_\t_\t_\t_\t_\t_\n\n1\tc\t_\tVERB\t_\t_\t_\t_\t_\t_\n"
    static let validTSV = "1\tgood film\n0\tnot good\n1\tnot bad\n"
    static let validCSV = "month,value\n1949-01,\"112\"\n1949-02,118\n1949-03,132\n"

    /// 300 random inputs: half random bytes, half damaged valid text.
    func inputs(seed: UInt64, valid: String) -> [[UInt8]] {
        var g = RandomGenerator(seed: seed)
        return (0..<300).map { i in i % 2 == 0 ? DataTestSupport.fuzzBytes(&g) : DataTestSupport.damagedText(valid, &g) }
    }

    /// Runs `parse` on each input: it must return or throw a `DataError` naming the source.
    func fuzz(_ inputs: [[UInt8]], _ parse: ([UInt8]) throws -> Void) -> (results: Int, errors: Int) {
        var results = 0, errors = 0
        for bytes in inputs {
            do {
                try parse(bytes)
                results += 1
            } catch let error as DataError {
                #expect(error.file == "fuzz")
                errors += 1
            } catch {
                Issue.record("unexpected error type: \(error)")
            }
        }
        return (results, errors)
    }

    @Test func coNLLUNeverCrashes() {
        let outcome = fuzz(inputs(seed: 1, valid: Self.validCoNLLU)) { _ = try CoNLLU.parse(bytes: $0, source: "fuzz") }
        #expect(outcome.results + outcome.errors == 300)
        #expect(outcome.errors > 0)
    }

    @Test func labeledTextNeverCrashes() {
        let outcome = fuzz(inputs(seed: 2, valid: Self.validTSV)) { _ = try LabeledText.parse(bytes: $0, source: "fuzz", allowedLabels: [0, 1]) }
        #expect(outcome.results + outcome.errors == 300)
        #expect(outcome.errors > 0)
    }

    @Test func plainTextNeverCrashes() {
        let outcome = fuzz(inputs(seed: 3, valid: "some verse\nand more\n")) { bytes in
            let text = try PlainText.decode(bytes: bytes, source: "fuzz")
            let vocabulary = Vocabulary(counting: [text.unicodeScalars], order: .sorted)
            #expect(vocabulary.decode(try vocabulary.encode(text.unicodeScalars, source: "fuzz")) == Array(text.unicodeScalars))
        }
        #expect(outcome.results + outcome.errors == 300)
        #expect(outcome.results > 0)
    }

    @Test func timeSeriesCSVNeverCrashes() {
        let outcome = fuzz(inputs(seed: 4, valid: Self.validCSV)) { _ = try TimeSeriesCSV.parse(bytes: $0, source: "fuzz") }
        #expect(outcome.results + outcome.errors == 300)
        #expect(outcome.errors > 0)
    }
}
