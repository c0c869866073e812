import Foundation
import Loom

/// A user-facing failure that is neither a data error nor a flag error (e.g. a checkpoint
/// written by another program). `main` prints it and exits with code 2.
struct ToolError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The tasks of `loom train`.
enum TaskKind: String, CaseIterable {
    case tagger, classifier, charlm, forecast, lemmatizer
}

/// The options of `loom train TASK`, validated: every number is in range and every output
/// folder exists, so training never starts with a value that would fail later.
struct TrainOptions {
    var task: TaskKind
    var data: String?
    var dev: String?
    var test: String?
    /// nil: the task's default (which differs between the embedded default and real data).
    var epochs: Int?
    var batchSize: Int?
    var learningRate: Double?
    var seed: UInt64 = 0
    var threads: Int?
    var save: String?
    /// Write a training checkpoint to `save` every this many optimizer steps (and at the end).
    var checkpointEvery: Int?
    /// A training checkpoint to continue from.
    var resume: String?
    var plot: String?
    var maxTokens: Int?
    var embeddingSize: Int?
    var hiddenSize: Int?
    var limit: Int?
    /// The tagger's character features (`--char-features`).
    var charFeatures: CharacterFeatureKind = .none
    /// The recurrent cell of the tagger and the classifier (`--cell`).
    var cell: RecurrentCellKind = .lstm
    /// Pretrained word vectors to start the embedding from (`--embeddings`).
    var embeddings: String?
    /// Keep the pretrained vectors fixed (`--freeze-embeddings`).
    var freezeEmbeddings = false
    /// The lemmatizer's beam width (`--beam`; 0 decodes greedily); nil: the default.
    var beam: Int?
    /// Whether the lemmatizer answers seen (form, upos) pairs from its lexicon (`--lexicon`).
    var lexicon = true
    /// Whether the lemmatizer has its edit classifier (`--edit-classes`).
    var editClasses = true
    /// Flush subnormal numbers to zero (`--flush-denormals`, PyTorch's `torch.set_flush_denormal(True)`).
    var flushDenormals = false

    /// Every option `loom train` accepts.
    static let valueOptions: Set<String> = [
        "--data", "--dev", "--test", "--epochs", "--batch-size", "--lr", "--seed", "--threads", "--save", "--plot",
        "--checkpoint-every", "--resume",
        "--max-tokens", "--embedding-size", "--hidden-size", "--limit",
        "--char-features", "--cell", "--embeddings", "--beam", "--lexicon", "--edit-classes",
    ]

    /// The switches (options without a value) `loom train` accepts.
    static let switchOptions: Set<String> = ["--help", "-h", "--freeze-embeddings", "--flush-denormals"]

    /// The options of `loom train` from its parsed command line.
    init(_ arguments: ParsedArguments) throws {
        try arguments.expectPositionals(atMost: 1)
        guard let name = arguments.positionals.first else {
            throw ArgumentError("`loom train` needs a task: \(TaskKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let task = TaskKind(rawValue: name) else {
            throw ArgumentError("unknown task \"\(name)\" for `loom train` (tasks: \(TaskKind.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self.task = task
        data = try arguments.string("--data")
        dev = try arguments.string("--dev")
        test = try arguments.string("--test")
        if data == nil {
            if dev != nil { throw ArgumentError("--dev needs --data (the embedded default has its own dev part)") }
            if test != nil { throw ArgumentError("--test needs --data (the embedded default has its own test part)") }
        }
        epochs = try arguments.int("--epochs", minimum: 1, maximum: 1_000_000)
        batchSize = try arguments.int("--batch-size", minimum: 1, maximum: 1_000_000)
        learningRate = try arguments.positiveDouble("--lr")
        seed = try arguments.seed("--seed") ?? 0
        threads = try arguments.int("--threads", minimum: 1, maximum: 1024)
        flushDenormals = arguments.has("--flush-denormals")
        save = try arguments.string("--save")
        plot = try arguments.string("--plot")
        checkpointEvery = try arguments.int("--checkpoint-every", minimum: 1)
        if checkpointEvery != nil && save == nil {
            throw ArgumentError("--checkpoint-every needs --save PATH (where the training checkpoint is written)")
        }
        resume = try arguments.string("--resume")
        if let resume, !FileManager.default.fileExists(atPath: resume) {
            throw ArgumentError("--resume \(resume): no such file")
        }
        maxTokens = try arguments.int("--max-tokens", minimum: 1)
        if maxTokens != nil && task != .classifier {
            throw ArgumentError("--max-tokens applies only to `loom train classifier`")
        }
        embeddingSize = try arguments.int("--embedding-size", minimum: 1, maximum: 100_000)
        hiddenSize = try arguments.int("--hidden-size", minimum: 1, maximum: 100_000)
        limit = try arguments.int("--limit", minimum: 1)
        if embeddingSize != nil && task == .forecast {
            throw ArgumentError("--embedding-size does not apply to `loom train forecast` (its input is one number per step)")
        }
        if let name = try arguments.string("--char-features") {
            guard let kind = CharacterFeatureKind(rawValue: name) else {
                throw ArgumentError("--char-features \(name): expected one of \(CharacterFeatureKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard task == .tagger else { throw ArgumentError("--char-features applies only to `loom train tagger`") }
            charFeatures = kind
        }
        if let name = try arguments.string("--cell") {
            guard let kind = RecurrentCellKind(rawValue: name) else {
                throw ArgumentError("--cell \(name): expected one of \(RecurrentCellKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard task == .tagger || task == .classifier else {
                throw ArgumentError("--cell applies only to `loom train tagger` and `loom train classifier`")
            }
            cell = kind
        }
        embeddings = try arguments.string("--embeddings")
        freezeEmbeddings = arguments.has("--freeze-embeddings")
        if embeddings != nil && task != .tagger && task != .classifier {
            throw ArgumentError("--embeddings applies only to `loom train tagger` and `loom train classifier`")
        }
        if freezeEmbeddings && embeddings == nil {
            throw ArgumentError("--freeze-embeddings needs --embeddings PATH (the vectors to keep fixed)")
        }
        if embeddings != nil && embeddingSize != nil {
            throw ArgumentError("--embedding-size cannot be combined with --embeddings (the width comes from the vectors file)")
        }
        beam = try arguments.int("--beam", minimum: 0, maximum: 1000)
        if let value = try arguments.string("--lexicon") {
            guard value == "on" || value == "off" else { throw ArgumentError("--lexicon \(value): expected on or off") }
            lexicon = value == "on"
        }
        if let value = try arguments.string("--edit-classes") {
            guard value == "on" || value == "off" else { throw ArgumentError("--edit-classes \(value): expected on or off") }
            editClasses = value == "on"
        }
        if (beam != nil || arguments.contains("--lexicon") || arguments.contains("--edit-classes")) && task != .lemmatizer {
            throw ArgumentError("--beam, --lexicon and --edit-classes apply only to `loom train lemmatizer`")
        }
        if let save { try Self.checkWritable(save, flag: "--save") }
        if let plot { try Self.checkWritable(plot, flag: "--plot") }
    }

    /// Throws unless the folder that would hold `path` exists and `path` is not a folder.
    static func checkWritable(_ path: String, flag: String) throws {
        let url = URL(fileURLWithPath: path)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ArgumentError("\(flag) \(path): is a folder, expected a file path")
        }
        let folder = url.deletingLastPathComponent().path
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ArgumentError("\(flag) \(path): the folder \(folder) does not exist")
        }
    }

    /// A short name of the training data for titles and messages.
    var dataName: String {
        data.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "the embedded default"
    }
}
