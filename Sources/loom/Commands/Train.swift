import Loom

/// `loom train TASK [options]`: parses and validates the options, sets the thread count and
/// the handling of subnormal numbers, and hands over to the task.
enum TrainCommand {
    static func run(_ arguments: [String]) throws {
        let parsed = try ParsedArguments(arguments, command: "loom train", valueOptions: TrainOptions.valueOptions,
                                         switchOptions: TrainOptions.switchOptions)
        if parsed.has("--help") || parsed.has("-h") {
            print(Help.train)
            return
        }
        let options = try TrainOptions(parsed)
        if let threads = options.threads { setNumThreads(threads) }
        if options.flushDenormals {
            guard setFlushDenormal(true) else { throw ArgumentError("--flush-denormals: this CPU cannot flush subnormal numbers to zero") }
            print("subnormal numbers: flushed to zero (--flush-denormals)")
        }
        switch options.task {
        case .tagger: try TaggerTask.train(options)
        case .classifier: try ClassifierTask.train(options)
        case .charlm: try CharLMTask.train(options)
        case .forecast: try ForecastTask.train(options)
        case .lemmatizer: try LemmatizerTask.train(options)
        }
    }
}
