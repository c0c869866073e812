import Loom

/// `loom evaluate --checkpoint PATH --data PATH`: rebuilds the model from the checkpoint's
/// metadata and reports its metric on the data file (the format follows the task).
enum EvaluateCommand {
    static func run(_ arguments: [String]) throws {
        let parsed = try ParsedArguments(arguments, command: "loom evaluate", valueOptions: ["--checkpoint", "--data", "--threads"])
        if parsed.has("--help") || parsed.has("-h") {
            print(Help.evaluate)
            return
        }
        try parsed.expectPositionals(atMost: 0)
        guard let checkpointPath = try parsed.string("--checkpoint") else { throw ArgumentError("`loom evaluate` needs --checkpoint PATH") }
        guard let dataPath = try parsed.string("--data") else { throw ArgumentError("`loom evaluate` needs --data PATH") }
        if let threads = try parsed.int("--threads", minimum: 1, maximum: 1024) { setNumThreads(threads) }
        let checkpoint = try LoadedCheckpoint(path: checkpointPath)
        switch TaskKind(rawValue: checkpoint.description.task) {
        case .tagger: try TaggerTask.evaluate(checkpoint, dataPath: dataPath)
        case .classifier: try ClassifierTask.evaluate(checkpoint, dataPath: dataPath)
        case .charlm: try CharLMTask.evaluate(checkpoint, dataPath: dataPath)
        case .forecast: try ForecastTask.evaluate(checkpoint, dataPath: dataPath)
        case .lemmatizer: try LemmatizerTask.evaluate(checkpoint, dataPath: dataPath)
        case nil: throw ToolError("checkpoint \(checkpointPath): unknown task \"\(checkpoint.description.task)\"")
        }
    }
}
