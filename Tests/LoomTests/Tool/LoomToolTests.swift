import Foundation
import Testing
@testable import Loom

/// Runs the built `loom` executable as a subprocess. SwiftPM builds every product of the
/// package before the tests (`swift build --build-tests`, `swift test`), so the binary sits
/// next to the test bundle in the products folder; a missing binary fails the test.
/// The tasks of `loom train` (the tool's own enum is not visible to the tests).
enum ToolTask: String, CaseIterable {
    case tagger, classifier, charlm, forecast, lemmatizer
}

enum LoomTool {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
        /// The hex of the last `weights-checksum:` line, or nil.
        var checksum: String? {
            stdout.split(separator: "\n").last { $0.hasPrefix("weights-checksum: ") }
                .map { String($0.dropFirst("weights-checksum: ".count)) }
        }
    }

    /// The products folders to look in: the test bundle's own folder first, then the
    /// package's `.build/debug` found from this source file.
    static var executable: URL? {
        var candidates: [URL] = []
        if let bundleFolder = Bundle.main.executableURL?.deletingLastPathComponent() { candidates.append(bundleFolder) }
        candidates.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        for bundle in Bundle.allBundles { candidates.append(bundle.bundleURL.deletingLastPathComponent()) }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        return candidates.map { $0.appendingPathComponent("loom") }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Runs `loom arguments` (with `environment` added to this process's environment) and
    /// collects its exit status and output.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        guard let executable else {
            Issue.record("the loom executable was not found next to the test bundle or in .build/debug; build it with `swift build --build-tests`")
            throw CancellationError()
        }
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read stderr on another thread so neither pipe can fill up and block the child.
        final class Box: @unchecked Sendable { var data = Data() }
        let errorBox = Box()
        let errorHandle = err.fileHandleForReading
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errorBox.data = errorHandle.readDataToEndOfFile() }
        let outputData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outputData, as: UTF8.self),
                      stderr: String(decoding: errorBox.data, as: UTF8.self))
    }

    /// A fresh temporary path with `suffix`.
    static func temporaryPath(_ suffix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("loom-tool-test-\(UUID().uuidString)\(suffix)").path
    }

    /// Writes `text` to a fresh temporary file.
    static func file(_ text: String, suffix: String) throws -> String {
        let path = temporaryPath(suffix)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Tiny model sizes so a run takes about a second in a debug build.
    static let tiny: [ToolTask: [String]] = [
        .tagger: ["--epochs", "1", "--limit", "48", "--embedding-size", "8", "--hidden-size", "8"],
        .classifier: ["--epochs", "1", "--limit", "64", "--embedding-size", "8", "--hidden-size", "8"],
        .charlm: ["--epochs", "1", "--limit", "3300", "--embedding-size", "8", "--hidden-size", "8"],
        .forecast: ["--epochs", "3", "--hidden-size", "4"],
        .lemmatizer: ["--epochs", "1", "--embedding-size", "8", "--hidden-size", "8", "--beam", "2"] + lemmatizerFiles,
    ]

    /// Small CoNLL-U files drawn from the embedded inflection corpus for the lemmatizer: an
    /// untrained decoder runs every test pair to its step limit, which the whole embedded
    /// test part makes too slow for a debug build.
    static let lemmatizerFiles: [String] = {
        let corpus = EmbeddedDatasets.inflections(trainCount: 30, testCount: 8)
        let train = try! file(CoNLLU.render(corpus.train), suffix: ".conllu")
        let test = try! file(CoNLLU.render(corpus.test), suffix: ".conllu")
        return ["--data", train, "--test", test]
    }()

    static func tinyTraining(_ task: ToolTask, _ extra: [String] = []) throws -> Result {
        try run(["train", task.rawValue] + tiny[task]! + extra)
    }

    /// The number after `prefix` on the first line of `text` that starts with it.
    static func number(after prefix: String, in text: String) -> Double? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else { return nil }
        let rest = line.dropFirst(prefix.count).drop { $0 == " " }
        return Double(rest.prefix { $0.isNumber || $0 == "." || $0 == "-" })
    }
}

/// The `loom` tool end to end. Serialized: each run already uses the machine's cores.
@Suite(.serialized) struct LoomToolTests {
    /// Exit code 2, exactly one line on stderr containing `fragment`, and no crash trace.
    func expectBadInput(_ arguments: [String], mentions fragment: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try LoomTool.run(arguments)
        #expect(result.status == 2, "loom \(arguments.joined(separator: " ")) exited \(result.status)", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stderr.contains(fragment), "stderr \(result.stderr) should mention \(fragment)", sourceLocation: sourceLocation)
        #expect(!result.stderr.contains("Fatal error") && !result.stderr.contains("Stack dump"), sourceLocation: sourceLocation)
    }

    @Test func helpAndNoArguments() throws {
        for arguments in [[], ["--help"], ["help"], ["-h"]] {
            let result = try LoomTool.run(arguments)
            #expect(result.status == 0)
            #expect(result.stdout.contains("loom train tagger|classifier|charlm|forecast|lemmatizer"))
        }
        for topic in ["train", "sample", "evaluate"] {
            let result = try LoomTool.run(["help", topic])
            #expect(result.status == 0)
            #expect(result.stdout.hasPrefix("loom \(topic)"))
        }
        let trainHelp = try LoomTool.run(["train", "--help"])
        #expect(trainHelp.status == 0 && trainHelp.stdout.contains("--max-tokens"))
        try expectBadInput(["help", "bogus"], mentions: "bogus")
    }

    @Test func commandLineErrorsNameTheFlag() throws {
        let folder = LoomTool.temporaryPath("-missing-folder")
        let cases: [([String], String)] = [
            (["bogus"], "unknown command \"bogus\""),
            (["train"], "needs a task"),
            (["train", "parser"], "unknown task \"parser\""),
            (["train", "tagger", "--epoch", "3"], "--epoch"),
            (["train", "tagger", "--epochs", "-1"], "--epochs"),
            (["train", "tagger", "--epochs", "three"], "--epochs"),
            (["train", "tagger", "--epochs", "0"], "--epochs"),
            (["train", "tagger", "--batch-size", "0"], "--batch-size"),
            (["train", "tagger", "--lr", "0"], "--lr"),
            (["train", "tagger", "--lr", "fast"], "--lr"),
            (["train", "tagger", "--lr", "nan"], "--lr"),
            (["train", "tagger", "--seed", "-3"], "--seed"),
            (["train", "tagger", "--threads", "0"], "--threads"),
            (["train", "tagger", "--data"], "--data"),
            (["train", "tagger", "--epochs", "1", "--epochs", "2"], "--epochs"),
            (["train", "tagger", "--max-tokens", "10"], "--max-tokens"),
            (["train", "classifier", "--max-tokens", "0"], "--max-tokens"),
            (["train", "tagger", "--dev", "x.conllu"], "--dev"),
            (["train", "tagger", "--save", folder + "/model.safetensors"], "--save"),
            (["train", "tagger", "--plot", folder + "/curve.svg"], "--plot"),
            (["train", "tagger", "extra", "words"], "unexpected argument"),
            (["sample"], "--checkpoint"),
            (["sample", "--checkpoint", "m.safetensors", "--temperature", "0"], "--temperature"),
            (["sample", "--checkpoint", "m.safetensors", "--length", "-5"], "--length"),
            (["evaluate", "--checkpoint", "m.safetensors"], "--data"),
        ]
        for (arguments, fragment) in cases {
            try expectBadInput(arguments, mentions: fragment)
        }
    }

    @Test func malformedDataFilesNameFileAndLine() throws {
        let conllu = try LoomTool.file("# sent_id = 1\n1\tThe\tthe\tDET\tDT\t_\t2\tdet\t_\t_\n2\tdog\tdog\tNOUN\n", suffix: ".conllu")
        try expectBadInput(["train", "tagger", "--data", conllu], mentions: "\(conllu):3")
        let tsv = try LoomTool.file("1\tgood film\n0 no tab here\n", suffix: ".tsv")
        try expectBadInput(["train", "classifier", "--data", tsv], mentions: "\(tsv):2")
        let label = try LoomTool.file("1\tgood film\n7\tbad film\n", suffix: ".tsv")
        try expectBadInput(["train", "classifier", "--data", label], mentions: "\(label):2")
        let csv = try LoomTool.file("month,value\n1,10\n2,11\n3,abc\n4,12\n", suffix: ".csv")
        try expectBadInput(["train", "forecast", "--data", csv], mentions: "\(csv):4")
        let shortSeries = try LoomTool.file("month,value\n1,10\n2,11\n", suffix: ".csv")
        try expectBadInput(["train", "forecast", "--data", shortSeries], mentions: shortSeries)
        let textPath = LoomTool.temporaryPath(".txt")
        try Data([0x61, 0x62, 0x0A, 0x63, 0xFF, 0xFE, 0x0A]).write(to: URL(fileURLWithPath: textPath))
        try expectBadInput(["train", "charlm", "--data", textPath], mentions: "\(textPath):2")
        let missing = LoomTool.temporaryPath(".conllu")
        try expectBadInput(["train", "tagger", "--data", missing], mentions: missing)
        // A dev file whose tag the training data never used names the dev file and line.
        let train = try LoomTool.file("1\tThe\tthe\tDET\t_\t_\t_\t_\t_\t_\n2\tdog\tdog\tNOUN\t_\t_\t_\t_\t_\t_\n", suffix: ".conllu")
        let dev = try LoomTool.file("\n1\tRun\trun\tVERB\t_\t_\t_\t_\t_\t_\n", suffix: ".conllu")
        try expectBadInput(["train", "tagger", "--data", train, "--dev", dev], mentions: "\(dev):2")
        // Checkpoints: missing, garbage, and a file that is not a loom checkpoint.
        let garbage = try LoomTool.file("not a safetensors file at all", suffix: ".safetensors")
        try expectBadInput(["evaluate", "--checkpoint", garbage, "--data", conllu], mentions: garbage)
        try expectBadInput(["sample", "--checkpoint", missing], mentions: missing)
    }

    @Test func everyTaskTrainsOnItsEmbeddedDefault() throws {
        for task in ToolTask.allCases {
            let result = try LoomTool.tinyTraining(task)
            #expect(result.status == 0, "\(task): \(result.stderr)")
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.last?.hasPrefix("weights-checksum: ") == true, "\(task): \(result.stdout)")
            #expect(result.checksum?.count == 16)
            #expect(result.stdout.contains("epoch 1/"), "\(task) prints an epoch summary")
            #expect(result.stdout.contains("test "), "\(task) reports a test metric")
        }
    }

    @Test func sameSeedSameChecksumAnyThreadCount() throws {
        // The tagger has dropout between its layers and shuffles every epoch.
        let options = ["--epochs", "2", "--limit", "24", "--embedding-size", "8", "--hidden-size", "16"]
        let first = try LoomTool.run(["train", "tagger", "--seed", "7", "--threads", "1"] + options)
        let again = try LoomTool.run(["train", "tagger", "--seed", "7", "--threads", "1"] + options)
        let twoThreads = try LoomTool.run(["train", "tagger", "--seed", "7", "--threads", "2"] + options)
        let otherSeed = try LoomTool.run(["train", "tagger", "--seed", "8", "--threads", "1"] + options)
        #expect(first.checksum != nil, "\(first.stdout)\(first.stderr)")
        #expect(first.checksum == again.checksum)
        #expect(first.checksum == twoThreads.checksum)
        #expect(first.checksum != otherSeed.checksum)
    }

    /// A model trained on one SIMD path is reproduced bit for bit on every other one the
    /// machine can run, at any thread count. A hidden size of 40 is not a multiple of any
    /// vector width, so every kernel's tail is exercised.
    @Test func sameChecksumOnEverySIMDPathAndThreadCount() throws {
        let options = ["train", "tagger", "--seed", "3", "--epochs", "1", "--limit", "24",
                       "--embedding-size", "12", "--hidden-size", "40"]
        var checksums: [String: String] = [:]
        for path in InstructionSet.available {
            for threads in [1, 2] {
                let result = try LoomTool.run(options + ["--threads", "\(threads)"], environment: ["LOOM_ISA": path.rawValue])
                checksums["LOOM_ISA=\(path.rawValue) --threads \(threads)"] = result.checksum ?? "none: \(result.stderr)"
            }
        }
        #expect(InstructionSet.available.count >= 2, "this machine runs only \(InstructionSet.available)")
        #expect(Set(checksums.values).count == 1, "\(checksums)")
    }

    /// With subnormal numbers flushed to zero (`--flush-denormals`), the worker threads flush
    /// as the main thread does, so the weights are still the same for any thread count.
    @Test func flushDenormalsKeepsOneChecksumForAnyThreadCount() throws {
        let options = ["train", "tagger", "--seed", "3", "--epochs", "1", "--limit", "24",
                       "--embedding-size", "12", "--hidden-size", "40", "--flush-denormals"]
        var checksums: [Int: String] = [:]
        for threads in [1, 2] {
            let result = try LoomTool.run(options + ["--threads", "\(threads)"])
            #expect(result.stdout.contains("subnormal numbers: flushed to zero"), "\(result.stdout)\(result.stderr)")
            checksums[threads] = result.checksum ?? "none: \(result.stderr)"
        }
        #expect(checksums[1] == checksums[2], "\(checksums)")
    }

    @Test func nonFiniteLossStopsWithItsEpochAndStep() throws {
        // A learning rate of 1e30 throws the weights to ~1e30 in one Adam step; the next
        // prediction squared overflows Float.
        let result = try LoomTool.run(["train", "forecast", "--epochs", "5", "--hidden-size", "4", "--lr", "1e30"])
        #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("non-finite loss"))
        #expect(result.stderr.contains("epoch 2, step 1"), "\(result.stderr)")
        #expect(!result.stdout.contains("weights-checksum"))
    }

    @Test func sampleFromASavedCharacterModel() throws {
        let checkpoint = LoomTool.temporaryPath(".safetensors")
        let plot = LoomTool.temporaryPath(".svg")
        let training = try LoomTool.tinyTraining(.charlm, ["--save", checkpoint, "--plot", plot])
        #expect(training.status == 0, "\(training.stderr)")
        #expect(training.stdout.contains("checkpoint: \(checkpoint)"))
        let svg = try String(contentsOfFile: plot, encoding: .utf8)
        #expect(svg.contains("<svg") && svg.contains("</svg>"))

        let arguments = ["sample", "--checkpoint", checkpoint, "--prime", "the ", "--length", "40", "--seed", "3"]
        let sample = try LoomTool.run(arguments)
        #expect(sample.status == 0, "\(sample.stderr)")
        #expect(sample.stdout.hasPrefix("the "))
        #expect(sample.stdout.unicodeScalars.count == 4 + 40 + 1, "prime, 40 characters and a newline: \(sample.stdout.debugDescription)")
        let again = try LoomTool.run(arguments)
        #expect(again.stdout == sample.stdout, "the same seed gives the same text")
        try expectBadInput(["sample", "--checkpoint", checkpoint, "--prime", "日本"], mentions: "--prime")

        // The charlm checkpoint is not a tagger: evaluate on a CoNLL-U file reads it as text.
        let tagger = LoomTool.temporaryPath(".safetensors")
        #expect(try LoomTool.tinyTraining(.tagger, ["--save", tagger]).status == 0)
        try expectBadInput(["sample", "--checkpoint", tagger], mentions: "charlm")
    }

    @Test func evaluateReproducesTheTestMetricOfTraining() throws {
        // Each saved model is evaluated on the embedded test part written to a file: the
        // figure must equal the one `loom train` printed for the same data.
        let taggerCheckpoint = LoomTool.temporaryPath(".safetensors")
        let taggerRun = try LoomTool.tinyTraining(.tagger, ["--save", taggerCheckpoint])
        let conllu = try LoomTool.file(CoNLLU.render(EmbeddedDatasets.tagger().test), suffix: ".conllu")
        let taggerEval = try LoomTool.run(["evaluate", "--checkpoint", taggerCheckpoint, "--data", conllu])
        #expect(taggerEval.status == 0, "\(taggerEval.stderr)")
        let taggerTrained = LoomTool.number(after: "test accuracy:", in: taggerRun.stdout)
        #expect(taggerTrained != nil)
        #expect(LoomTool.number(after: "accuracy:", in: taggerEval.stdout) == taggerTrained)

        let classifierCheckpoint = LoomTool.temporaryPath(".safetensors")
        let classifierRun = try LoomTool.tinyTraining(.classifier, ["--save", classifierCheckpoint])
        let tsv = try LoomTool.file(EmbeddedDatasets.sentiment().test.map { "\($0.label)\t\($0.text)\n" }.joined(), suffix: ".tsv")
        let classifierEval = try LoomTool.run(["evaluate", "--checkpoint", classifierCheckpoint, "--data", tsv])
        #expect(classifierEval.status == 0, "\(classifierEval.stderr)")
        let classifierTrained = LoomTool.number(after: "test accuracy:", in: classifierRun.stdout)
        #expect(classifierTrained != nil)
        #expect(LoomTool.number(after: "accuracy:", in: classifierEval.stdout) == classifierTrained)

        let forecastCheckpoint = LoomTool.temporaryPath(".safetensors")
        let forecastRun = try LoomTool.tinyTraining(.forecast, ["--save", forecastCheckpoint])
        let series = EmbeddedDatasets.seasonalSeries()
        let csv = try LoomTool.file("month,value\n" + series.values.enumerated().map { "\($0),\($1)\n" }.joined(), suffix: ".csv")
        let forecastEval = try LoomTool.run(["evaluate", "--checkpoint", forecastCheckpoint, "--data", csv])
        #expect(forecastEval.status == 0, "\(forecastEval.stderr)")
        let forecastTrained = LoomTool.number(after: "test RMSE:", in: forecastRun.stdout)
        #expect(forecastTrained != nil)
        #expect(LoomTool.number(after: "RMSE:", in: forecastEval.stdout) == forecastTrained)

        // A tagger checkpoint evaluated on a TSV file: the CoNLL-U reader names the file.
        try expectBadInput(["evaluate", "--checkpoint", taggerCheckpoint, "--data", tsv], mentions: tsv)
    }
}
