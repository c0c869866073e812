import Foundation
import Testing
@testable import Loom

/// The tagger's and classifier's model options end to end: character features, the GRU
/// cell, pretrained embeddings (with the export round trip) and their bad-input errors.
@Suite(.serialized) struct WordFeaturesToolTests {
    func expectBadInput(_ arguments: [String], mentions fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try LoomTool.run(arguments)
        #expect(result.status == 2, "loom \(arguments.joined(separator: " ")) exited \(result.status)", sourceLocation: sourceLocation)
        #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(fragment), "stderr \(result.stderr) should mention \(fragment)", sourceLocation: sourceLocation)
    }

    /// A tagger run smaller than the tool tests' usual tiny one (character features are the
    /// slow part of a debug build).
    func smallTagger(_ extra: [String]) throws -> LoomTool.Result {
        try LoomTool.run(["train", "tagger", "--epochs", "1", "--limit", "16", "--embedding-size", "8", "--hidden-size", "8"] + extra)
    }

    @Test func taggerTrainsWithEachCharacterFeatureAndCellAndEvaluatesItsCheckpoint() throws {
        let conllu = try LoomTool.file(CoNLLU.render(EmbeddedDatasets.tagger().test), suffix: ".conllu")
        var checksums: Set<String> = []
        for options in [["--char-features", "cnn"], ["--char-features", "lstm"], ["--cell", "gru"],
                        ["--char-features", "lstm", "--cell", "gru"]] {
            let checkpoint = LoomTool.temporaryPath(".safetensors")
            defer { try? FileManager.default.removeItem(atPath: checkpoint) }
            let run = try smallTagger(options + ["--save", checkpoint])
            #expect(run.status == 0, "\(options): \(run.stderr)")
            if let checksum = run.checksum { checksums.insert(checksum) }
            let trained = LoomTool.number(after: "test accuracy:", in: run.stdout)
            #expect(trained != nil, "\(options): \(run.stdout)")
            // The checkpoint alone rebuilds the model: same figure on the same test data.
            let evaluation = try LoomTool.run(["evaluate", "--checkpoint", checkpoint, "--data", conllu])
            #expect(evaluation.status == 0, "\(options): \(evaluation.stderr)")
            #expect(LoomTool.number(after: "accuracy:", in: evaluation.stdout) == trained, "\(options)")
            let names = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: checkpoint)).names
            if options.contains("cnn") { #expect(names.contains("characters.conv.weight")) }
            if options.contains("lstm") { #expect(names.contains("characters.lstm.weight_hh_l0_reverse")) }
            #expect(names.contains(options.contains("gru") ? "gru.weight_ih_l0" : "lstm.weight_ih_l0"), "\(names)")
        }
        #expect(checksums.count == 4, "every option trains a different model")
        let plain = try smallTagger([])
        #expect(plain.checksum.map { !checksums.contains($0) } == true)
    }

    @Test func characterFeaturesGiveTheSameBitsForAnyThreadCount() throws {
        for feature in ["cnn", "lstm"] {
            let one = try smallTagger(["--char-features", feature, "--threads", "1", "--seed", "5"])
            let two = try smallTagger(["--char-features", feature, "--threads", "2", "--seed", "5"])
            #expect(one.status == 0 && two.status == 0, "\(one.stderr) \(two.stderr)")
            #expect(one.checksum != nil && one.checksum == two.checksum, "\(feature)")
        }
    }

    @Test func classifierTrainsWithTheGRUCell() throws {
        let gru = try LoomTool.tinyTraining(.classifier, ["--cell", "gru"])
        let lstm = try LoomTool.tinyTraining(.classifier)
        #expect(gru.status == 0, "\(gru.stderr)")
        #expect(gru.stdout.contains("BiGRU"))
        #expect(gru.checksum != nil && gru.checksum != lstm.checksum)
    }

    /// Trains `task` tiny and saves it, exports its embedding, trains again from the exported
    /// vectors with the embedding frozen, exports again: the two files must be identical.
    func roundTrip(_ task: ToolTask) throws {
        let first = LoomTool.temporaryPath(".safetensors"), second = LoomTool.temporaryPath(".safetensors")
        let exported = LoomTool.temporaryPath(".txt"), reexported = LoomTool.temporaryPath(".txt")
        defer { for path in [first, second, exported, reexported] { try? FileManager.default.removeItem(atPath: path) } }
        let run = try LoomTool.tinyTraining(task, ["--save", first])
        #expect(run.status == 0, "\(run.stderr)")
        let export = try LoomTool.run(["export-embeddings", "--checkpoint", first, "--output", exported])
        #expect(export.status == 0, "\(export.stderr)")
        let vectors = try WordVectors.read(path: exported)
        #expect(vectors.dimension == 8 && !vectors.words.contains(SpecialToken.padding))

        // The width comes from the file (no --embedding-size); the frozen rows stay as read.
        var options = LoomTool.tiny[task]!
        let sizeFlag = options.firstIndex(of: "--embedding-size")!
        options.removeSubrange(sizeFlag...(sizeFlag + 1))
        let frozen = try LoomTool.run(["train", task.rawValue] + options
                                      + ["--embeddings", exported, "--freeze-embeddings", "--save", second, "--seed", "9"])
        #expect(frozen.status == 0, "\(frozen.stderr)")
        #expect(frozen.stdout.contains("embeddings: \(vectors.count) of \(vectors.count + 1) vocabulary entries start from"),
                "\(frozen.stdout)")
        let again = try LoomTool.run(["export-embeddings", "--checkpoint", second, "--output", reexported])
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try WordVectors.read(path: reexported) == vectors)
        #expect(try String(contentsOfFile: reexported, encoding: .utf8) == String(contentsOfFile: exported, encoding: .utf8))

        // Not frozen, the same start trains on.
        let trained = try LoomTool.run(["train", task.rawValue] + options + ["--embeddings", exported, "--save", second, "--seed", "9"])
        #expect(trained.status == 0, "\(trained.stderr)")
        _ = try LoomTool.run(["export-embeddings", "--checkpoint", second, "--output", reexported])
        #expect(try WordVectors.read(path: reexported) != vectors)
    }

    @Test func taggerEmbeddingsRoundTrip() throws { try roundTrip(.tagger) }

    @Test func classifierEmbeddingsRoundTrip() throws { try roundTrip(.classifier) }

    @Test func devAndTestWordsWithVectorsJoinTheVocabulary() throws {
        func sentence(_ words: [(String, String)]) -> String {
            words.enumerated().map { "\($0 + 1)\t\($1.0)\t_\t\($1.1)\t_\t_\t_\t_\t_\t_\n" }.joined() + "\n"
        }
        let train = try LoomTool.file(String(repeating: sentence([("The", "DET"), ("dog", "NOUN"), ("runs", "VERB")]), count: 4),
                                      suffix: ".conllu")
        let dev = try LoomTool.file(sentence([("The", "DET"), ("zebra", "NOUN"), ("runs", "VERB")]), suffix: ".conllu")
        let test = try LoomTool.file(sentence([("A", "DET"), ("yak", "NOUN"), ("sleeps", "VERB")]), suffix: ".conllu")
        // "the" serves "The" (lowercase fallback); "zebra" and "yak" are only in dev/test.
        let vectors = try LoomTool.file("the 1 2 3\ndog 4 5 6\nzebra 7 8 9\nyak 1 1 1\ncat 0 0 0\n", suffix: ".txt")
        let result = try LoomTool.run(["train", "tagger", "--data", train, "--dev", dev, "--test", test, "--embeddings", vectors,
                                       "--epochs", "1", "--hidden-size", "4"])
        #expect(result.status == 0, "\(result.stderr)")
        // <pad>, <unk>, The, dog, runs, then zebra and yak: 4 of 7 have vectors.
        #expect(result.stdout.contains("embeddings: 4 of 7 vocabulary entries start from"), "\(result.stdout)")
        #expect(result.stdout.contains("2 dev/test words added"))
    }

    @Test func badEmbeddingFilesAndFlagsGetCleanErrors() throws {
        let tagger = ["train", "tagger", "--epochs", "1", "--limit", "48", "--hidden-size", "8"]
        for (text, line) in [("a 1 2\nb 1 2 3\n", ":2"), ("a 1 2\nb 1 two\n", ":2:3"), ("a 1 2\nb 3 4\na 5 6\n", ":3"), ("", "")] {
            let path = try LoomTool.file(text, suffix: ".txt")
            try expectBadInput(tagger + ["--embeddings", path], mentions: path + line)
        }
        let missing = LoomTool.temporaryPath(".txt")
        try expectBadInput(tagger + ["--embeddings", missing], mentions: missing)
        let good = try LoomTool.file("a 1 2\n", suffix: ".txt")
        try expectBadInput(["train", "tagger", "--freeze-embeddings"], mentions: "--freeze-embeddings")
        try expectBadInput(["train", "tagger", "--embeddings", good, "--embedding-size", "4"], mentions: "--embedding-size")
        try expectBadInput(["train", "charlm", "--embeddings", good], mentions: "--embeddings")
        try expectBadInput(["train", "tagger", "--char-features", "rnn"], mentions: "--char-features")
        try expectBadInput(["train", "classifier", "--char-features", "cnn"], mentions: "--char-features")
        try expectBadInput(["train", "tagger", "--cell", "rnn"], mentions: "--cell")
        try expectBadInput(["train", "forecast", "--cell", "gru"], mentions: "--cell")
        try expectBadInput(["export-embeddings", "--checkpoint", missing, "--output", good], mentions: missing)
        try expectBadInput(["export-embeddings", "--output", good], mentions: "--checkpoint")
    }
}
