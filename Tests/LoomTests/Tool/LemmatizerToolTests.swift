import Foundation
import Testing
@testable import Loom

/// `loom train lemmatizer` and `loom evaluate` on its checkpoints, end to end on small files.
@Suite(.serialized) struct LemmatizerToolTests {
    static let small = ["--epochs", "1", "--embedding-size", "8", "--hidden-size", "8", "--beam", "2"]

    /// A CoNLL-U file of one-token sentences `(form, upos, lemma)`.
    static func conllu(_ tokens: [(String, String, String)]) throws -> String {
        try LoomTool.file(tokens.map { "1\t\($0.0)\t\($0.2)\t\($0.1)\t_\t_\t_\t_\t_\t_\n\n" }.joined(), suffix: ".conllu")
    }

    @Test func evaluateReproducesTheTestMetricOfTraining() throws {
        let checkpoint = LoomTool.temporaryPath(".safetensors")
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        let run = try LoomTool.run(["train", "lemmatizer"] + Self.small + LoomTool.lemmatizerFiles + ["--save", checkpoint])
        #expect(run.status == 0, "\(run.stderr)")
        for fragment in ["lowercase baseline", "lexicon", "seq2seq greedy", "seq2seq beam 2", "edit + beam 2", "lexicon + edit + beam 2",
                         "unseen (form, upos) tokens", "test decoding:", "test accuracy:"] {
            #expect(run.stdout.contains(fragment), "missing \(fragment) in \(run.stdout)")
        }
        let testFile = LoomTool.lemmatizerFiles[3]
        let evaluation = try LoomTool.run(["evaluate", "--checkpoint", checkpoint, "--data", testFile])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        let trained = LoomTool.number(after: "test accuracy:", in: run.stdout)
        #expect(trained != nil)
        #expect(LoomTool.number(after: "accuracy:", in: evaluation.stdout) == trained)
    }

    @Test func theLexiconAnswersSeenPairsWithTheirMostFrequentLemmaTiesToTheFirst() throws {
        // "ab"/NOUN is lemmatized "x" twice and "y" twice: the tie goes to "x", seen first.
        let train = try Self.conllu([("ab", "NOUN", "x"), ("ab", "NOUN", "y"), ("ab", "NOUN", "y"), ("ab", "NOUN", "x"),
                                     ("cd", "VERB", "c"), ("ef", "ADJ", "e")])
        let dev = try Self.conllu([("ab", "NOUN", "x"), ("ab", "NOUN", "y"), ("cd", "VERB", "c"), ("zz", "NOUN", "zz")])
        let test = try Self.conllu([("ab", "NOUN", "x"), ("cd", "VERB", "c")])
        let run = try LoomTool.run(["train", "lemmatizer", "--data", train, "--dev", dev, "--test", test] + Self.small)
        #expect(run.status == 0, "\(run.stderr)")
        // Dev: the lexicon gets "ab"→x and "cd"→c right, "ab"→y wrong; "zz" falls back to its lowercase form.
        #expect(LoomTool.number(after: "dev: 4 tokens; lowercase baseline 0.2500, lexicon", in: run.stdout) == 0.75)
        #expect(run.stdout.contains("dev: unseen (form, upos) tokens 1 (25.0%)"))
        // Every test pair was seen, so lexicon + beam is exact whatever the network learned.
        #expect(LoomTool.number(after: "test accuracy:", in: run.stdout) == 1)

        let withoutLexicon = try LoomTool.run(["train", "lemmatizer", "--data", train, "--dev", dev, "--test", test, "--lexicon", "off"]
                                              + Self.small)
        #expect(withoutLexicon.status == 0, "\(withoutLexicon.stderr)")
        #expect(!withoutLexicon.stdout.contains("lexicon"))
        #expect(withoutLexicon.stdout.contains("test accuracy: ") && withoutLexicon.stdout.contains("(edit + beam 2, 2 tokens)"))
    }

    @Test func theEditClassifierAnswersUnseenFormsThatAreTheirOwnLemma() throws {
        // Every training lemma is its form, so the edit classifier learns "identity"; the test
        // forms are long and unseen, which a character decoder trained on short words cannot
        // copy, while the identity edit answers them exactly.
        let words = ["ab", "ba", "abc", "cab", "bca", "aab", "bba", "cc", "ca", "ac", "bc", "cb", "abca", "bcab", "caba", "aa"]
        let train = try Self.conllu(words.map { ($0, "NOUN", $0) })
        let unseen = ["abcabcabcabcabca", "cbacbacbacbacbac", "bacbacbacbacbacb"]
        let test = try Self.conllu(unseen.map { ($0, "NOUN", $0) })
        let run = try LoomTool.run(["train", "lemmatizer", "--data", train, "--dev", test, "--test", test, "--epochs", "30",
                                    "--lr", "0.05", "--embedding-size", "8", "--hidden-size", "8", "--beam", "2"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("test: unseen (form, upos) tokens 3 (100.0%)"), "\(run.stdout)")
        #expect(LoomTool.number(after: "test accuracy:", in: run.stdout) == 1, "\(run.stdout)")
    }

    @Test func withoutEditClassesTheModelIsTheReferenceSetUp() throws {
        let checkpoint = LoomTool.temporaryPath(".safetensors")
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        let run = try LoomTool.run(["train", "lemmatizer"] + Self.small + LoomTool.lemmatizerFiles
                                   + ["--edit-classes", "off", "--save", checkpoint])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.contains("edit"), "\(run.stdout)")
        #expect(run.stdout.contains("(lexicon + beam 2, "), "\(run.stdout)")
        let names = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: checkpoint)).names
        #expect(!names.contains { $0.hasPrefix("edit.") } && names.contains("decoder.weight_ih"), "\(names)")
        let evaluation = try LoomTool.run(["evaluate", "--checkpoint", checkpoint, "--data", LoomTool.lemmatizerFiles[3]])
        #expect(evaluation.status == 0, "\(evaluation.stderr)")
        #expect(LoomTool.number(after: "accuracy:", in: evaluation.stdout) == LoomTool.number(after: "test accuracy:", in: run.stdout))
    }

    @Test func greedyOnlyWithBeamZero() throws {
        let run = try LoomTool.run(["train", "lemmatizer"] + Self.small.dropLast(2) + ["--beam", "0"] + LoomTool.lemmatizerFiles)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("lexicon + edit + greedy") && !run.stdout.contains("beam 0"))
    }

    @Test func badInputGetsCleanErrors() throws {
        func expectBadInput(_ arguments: [String], mentions fragment: String) throws {
            let result = try LoomTool.run(arguments)
            #expect(result.status == 2, "loom \(arguments.joined(separator: " ")) exited \(result.status)")
            #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains(fragment), "\(result.stderr)")
        }
        let emptyLemma = try LoomTool.file("1\tdogs\t\tNOUN\t_\t_\t_\t_\t_\t_\n", suffix: ".conllu")
        try expectBadInput(["train", "lemmatizer", "--data", emptyLemma], mentions: "\(emptyLemma):1: LEMMA (column 3) is empty")
        try expectBadInput(["train", "lemmatizer", "--beam", "-1"], mentions: "--beam")
        try expectBadInput(["train", "lemmatizer", "--lexicon", "maybe"], mentions: "--lexicon maybe: expected on or off")
        try expectBadInput(["train", "lemmatizer", "--edit-classes", "yes"], mentions: "--edit-classes yes: expected on or off")
        try expectBadInput(["train", "tagger", "--beam", "2"],
                           mentions: "--beam, --lexicon and --edit-classes apply only to `loom train lemmatizer`")
        try expectBadInput(["train", "classifier", "--edit-classes", "off"], mentions: "apply only to `loom train lemmatizer`")
        try expectBadInput(["train", "tagger", "--lexicon", "off"], mentions: "apply only to `loom train lemmatizer`")
        let missing = LoomTool.temporaryPath(".conllu")
        try expectBadInput(["train", "lemmatizer", "--data", missing], mentions: missing)
    }
}
