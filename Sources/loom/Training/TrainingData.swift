import Loom

/// The train, dev and test parts of a task's data: read from `--data` (with `--dev` and
/// `--test`, or the last 10% of `--data` as dev), or the embedded default (its last 10% as
/// dev), the training part cut to `--limit`.
struct TrainingData<Example: Sendable> {
    var train: [Example]
    var dev: [Example]
    var test: [Example]?
    /// The name of the training data in messages: the `--data` path or `embeddedName`.
    var trainSource: String

    /// Loads the parts with `read` (one file) or `embedded`; throws a `DataError` naming the
    /// training data when nothing is left to train on (`unit`: "sentences", "examples").
    init(_ options: TrainOptions, read: (String) throws -> [Example], embedded: () -> EmbeddedSplit<Example>,
         embeddedName: String, unit: String) throws {
        trainSource = options.data ?? embeddedName
        if let path = options.data {
            let all = try read(path)
            if let devPath = options.dev {
                (train, dev) = (all, try read(devPath))
            } else {
                (train, dev) = TrainDevSplit.splitLast(all)
            }
            test = try options.test.map(read)
        } else {
            let split = embedded()
            (train, dev) = TrainDevSplit.splitLast(split.train)
            test = split.test
        }
        if let limit = options.limit { train = Array(train.prefix(limit)) }
        guard !train.isEmpty else { throw DataError(file: trainSource, message: "no \(unit) to train on") }
    }
}
