import Foundation
import Testing
@testable import Loom

@Suite struct DataCoNLLUTests {
    static let sample = """
    # sent_id = a
    # text = I can't run.
    1\tI\tI\tPRON\tPRP\t_\t3\tnsubj\t_\t_
    2-3\tcan't\t_\t_\t_\t_\t_\t_\t_\t_
    2\tca\tcan\tAUX\tMD\t_\t4\taux\t_\t_
    3\tn't\tnot\tPART\tRB\t_\t4\tadvmod\t_\t_
    4\trun\trun\tVERB\tVB\t_\t0\troot\t_\tSpaceAfter=No
    5\t.\t.\tPUNCT\t.\t_\t4\tpunct\t_\t_

    # sent_id = b
    1\tWatch\twatch\tVERB\tVB\t_\t0\troot\t_\t_
    1.1\tout\t_\tADP\tRP\t_\t_\t_\t1:compound\t_
    2\tit\tit\tPRON\tPRP\t_\t1\tobj\t_\t_

    """

    @Test func readsFormsAndTagsSkippingCommentsMultiwordAndEmptyNodes() throws {
        let sentences = try CoNLLU.parse(Self.sample, source: "x.conllu")
        #expect(sentences.count == 2)
        #expect(sentences[0].words == ["I", "ca", "n't", "run", "."])
        #expect(sentences[0].tags == ["PRON", "AUX", "PART", "VERB", "PUNCT"])
        #expect(sentences[0].line == 3)
        #expect(sentences[1].words == ["Watch", "it"])
        #expect(sentences[1].tags == ["VERB", "PRON"])
        #expect(sentences[1].line == 11)
    }

    @Test func lemmasAreReadAndRendered() throws {
        let sentences = try CoNLLU.parse(Self.sample, source: "x.conllu")
        #expect(sentences[0].lemmas == ["I", "can", "not", "run", "."])
        #expect(sentences[1].lemmas == ["watch", "it"])
        #expect(try CoNLLU.parse(CoNLLU.render(sentences)).map(\.lemmas) == sentences.map(\.lemmas))
        let error = DataTestSupport.dataError { try CoNLLU.parse("1\tdogs\t\tNOUN\t_\t_\t_\t_\t_\t_\n", source: "l.conllu") }
        #expect(error?.description == "l.conllu:1: LEMMA (column 3) is empty")
    }

    @Test func embeddedInflectionCorpusIsDeterministicWithUnseenTestForms() {
        let corpus = EmbeddedDatasets.inflections()
        #expect(corpus.train.count == 600 && corpus.test.count > 150)
        #expect(corpus.train == EmbeddedDatasets.inflections().train)
        let trainKeys = Set(corpus.train.flatMap { s in s.words.indices.map { "\(s.words[$0])/\(s.tags[$0])" } })
        let testTokens = corpus.test.flatMap { s in s.words.indices.map { (s.words[$0], s.tags[$0], s.lemmas[$0]) } }
        // Some test (form, upos) pairs never occur in training: the lemmatizer must generalize.
        #expect(testTokens.contains { !trainKeys.contains("\($0.0)/\($0.1)") })
        // The rules: a plural in -ies comes from a stem in -y, a capitalized first word keeps a lowercase lemma.
        for (form, upos, lemma) in testTokens where upos == "NOUN" && form.lowercased().hasSuffix("ies") && form.lowercased() != lemma + "s" {
            #expect(lemma.hasSuffix("y") && form.lowercased() == lemma.dropLast() + "ies", "\(form) → \(lemma)")
        }
        for sentence in corpus.train where sentence.tags[0] != "PROPN" {
            #expect(sentence.lemmas[0] == sentence.lemmas[0].lowercased())
        }
    }

    @Test func xposColumnCanBeChosen() throws {
        let sentences = try CoNLLU.parse(Self.sample, tagColumn: .xpos)
        #expect(sentences[0].tags == ["PRP", "MD", "RB", "VB", "."])
    }

    @Test func crlfEndingsAndMissingFinalNewlineAndExtraBlankLines() throws {
        let text = "\u{FEFF}1\ta\t_\tDET\t_\t_\t_\t_\t_\t_\r\n2\tb\t_\tNOUN\t_\t_\t_\t_\t_\t_\r\n\r\n\r\n \t\n1\tc\t_\tVERB\t_\t_\t_\t_\t_\t_"
        let sentences = try CoNLLU.parse(text)
        #expect(sentences == [
            TaggedSentence(words: ["a", "b"], tags: ["DET", "NOUN"], line: 1),
            TaggedSentence(words: ["c"], tags: ["VERB"], line: 6),
        ])
    }

    @Test func emptyInputHasNoSentences() throws {
        #expect(try CoNLLU.parse("").isEmpty)
        #expect(try CoNLLU.parse("# only a comment\n\n").isEmpty)
    }

    @Test func renderThenParseGivesTheSameSentences() throws {
        let sentences = [TaggedSentence(words: ["the", "can"], tags: ["DET", "NOUN"], line: 1),
                         TaggedSentence(words: ["we", "fish", "."], tags: ["PRON", "VERB", "PUNCT"], line: 4)]
        #expect(try CoNLLU.parse(CoNLLU.render(sentences)) == sentences)
    }

    @Test func wrongColumnCountNamesFileAndLine() {
        let text = "# c\n1\ta\t_\tDET\t_\t_\t_\t_\t_\t_\n2\tb\t_\tNOUN\t_\t_\t_\n"
        let error = DataTestSupport.dataError { try CoNLLU.parse(text, source: "en.conllu") }
        #expect(error?.description == "en.conllu:3: expected 10 tab-separated columns, got 7")
        #expect(error?.line == 3)
    }

    @Test func badIDEmptyFormAndEmptyTagAreErrors() {
        let badID = "x\ta\t_\tDET\t_\t_\t_\t_\t_\t_\n"
        #expect(DataTestSupport.dataError { try CoNLLU.parse(badID, source: "f") }?.description
                == "f:1: ID (column 1) \"x\" is not a word index (1, 2, ...), a range (3-4) or an empty node (8.1)")
        let zeroID = "0\ta\t_\tDET\t_\t_\t_\t_\t_\t_\n"
        #expect(DataTestSupport.dataError { try CoNLLU.parse(zeroID, source: "f") }?.line == 1)
        let emptyForm = "1\ta\t_\tDET\t_\t_\t_\t_\t_\t_\n2\t\t_\tNOUN\t_\t_\t_\t_\t_\t_\n"
        #expect(DataTestSupport.dataError { try CoNLLU.parse(emptyForm, source: "f") }?.description
                == "f:2: FORM (column 2) is empty")
        let emptyTag = "1\ta\t_\t\t_\t_\t_\t_\t_\t_\n"
        #expect(DataTestSupport.dataError { try CoNLLU.parse(emptyTag, source: "f") }?.description
                == "f:1: UPOS (column 4) is empty")
    }

    @Test func outOfSequenceIDsMeanAMissingBlankLine() {
        let text = "1\ta\t_\tDET\t_\t_\t_\t_\t_\t_\n2\tb\t_\tNOUN\t_\t_\t_\t_\t_\t_\n1\tc\t_\tVERB\t_\t_\t_\t_\t_\t_\n"
        let error = DataTestSupport.dataError { try CoNLLU.parse(text, source: "f") }
        #expect(error?.line == 3)
        #expect(error?.message.contains("out of sequence, expected 3") == true)
    }

    @Test func invalidUTF8NamesTheLine() {
        var bytes = Array("1\ta\t_\tDET\t_\t_\t_\t_\t_\t_\n".utf8)
        bytes += [0x32, 0x09, 0xC3, 0x28] + Array("\t_\tNOUN\t_\t_\t_\t_\t_\t_\n".utf8)
        let error = DataTestSupport.dataError { try CoNLLU.parse(bytes: bytes, source: "u.conllu") }
        #expect(error?.description == "u.conllu:2: the text is not valid UTF-8")
    }

    @Test func readsAFileAndNamesAMissingOne() throws {
        let path = try DataTestSupport.temporaryFile(Self.sample, suffix: ".conllu")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try CoNLLU.read(path: path).count == 2)
        let missing = path + ".missing"
        #expect(DataTestSupport.dataError { try CoNLLU.read(path: missing) }?.description == "\(missing): no such file")
        let directory = FileManager.default.temporaryDirectory.path
        #expect(DataTestSupport.dataError { try CoNLLU.read(path: directory) }?.message == "is a directory, expected a file")
    }

    static let ewtTrain = "/work/shared/data/pos_tagging/en_ewt-ud-train.conllu"

    /// The real UD English EWT training file, when present on this machine (skipped otherwise).
    @Test(.enabled(if: FileManager.default.fileExists(atPath: ewtTrain)))
    func udEnglishEWTTrainCounts() throws {
        let sentences = try CoNLLU.read(path: Self.ewtTrain)
        #expect(sentences.count == 12_544)
        #expect(sentences.reduce(0) { $0 + $1.words.count } == 204_577)
        #expect(Set(sentences.flatMap(\.tags)).count == 17)
    }
}
