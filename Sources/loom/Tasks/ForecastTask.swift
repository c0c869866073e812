import Foundation
import Loom

/// The forecaster: LSTM(1 → 32) over a window of 12 scaled values → the last hidden state
/// → Linear(32, 1), the next value; trained with MSE.
struct ForecastModel: Module {
    var lstm: LSTM<Float>
    var output: Linear<Float>

    /// A model drawing its initial weights from `generator`.
    init(hiddenSize: Int, using generator: inout RandomGenerator) {
        lstm = LSTM(inputSize: 1, hiddenSize: hiddenSize, batchFirst: true, using: &generator)
        output = Linear(hiddenSize, 1, using: &generator)
    }

    mutating func visit(_ visitor: ModuleVisitor<Float>) {
        visitor.module("lstm", &lstm)
        visitor.module("output", &output)
    }

    /// The predicted next values `[N, 1]` for windows `[N, window, 1]`.
    func predict(_ windows: Tensor<Float>, using generator: inout RandomGenerator) throws -> Tensor<Float> {
        let (_, hN, _) = try lstm.forward(windows, lengths: nil, using: &generator)
        return output(hN.select(dim: 0, index: 0))
    }
}

enum ForecastTask {
    struct Defaults {
        static let hiddenSize = 32, windowSize = 12, testCount = 24, season = 12
        static let learningRate = 1e-2
        static let epochsEmbedded = 300, epochsRealData = 300
    }

    static func train(_ options: TrainOptions) throws {
        if options.test != nil {
            throw ArgumentError("--test does not apply to `loom train forecast`: the test part is the last \(Defaults.testCount) points of the series")
        }
        if options.limit != nil { throw ArgumentError("--limit does not apply to `loom train forecast`") }
        let source = options.data ?? "<embedded seasonal series>"
        let series = try options.data.map { try TimeSeriesCSV.read(path: $0) } ?? EmbeddedDatasets.seasonalSeries()
        let split = try Windows.forecastSplit(series.values, windowSize: Defaults.windowSize, testCount: Defaults.testCount, source: source)
        var train = split.train, dev: ForecastWindows
        if let devPath = options.dev {
            let devSeries = try TimeSeriesCSV.read(path: devPath)
            dev = Windows.sliding(split.scaler.scaled(devSeries.values), windowSize: Defaults.windowSize)
            guard dev.count > 0 else {
                throw DataError(file: devPath, message: "the series has \(devSeries.values.count) values; a dev window needs at least \(Defaults.windowSize + 1)")
            }
        } else {
            let count = TrainDevSplit.devCount(of: train.count)
            let cut = train.count - count
            dev = ForecastWindows(inputs: Array(train.inputs[cut...]), targets: Array(train.targets[cut...]),
                                  targetIndices: Array(train.targetIndices[cut...]))
            train = ForecastWindows(inputs: Array(train.inputs[..<cut]), targets: Array(train.targets[..<cut]),
                                    targetIndices: Array(train.targetIndices[..<cut]))
        }
        guard train.count > 0 else { throw DataError(file: source, message: "no training windows left after holding out the dev part") }

        let hiddenSize = options.hiddenSize ?? Defaults.hiddenSize
        let batchSize = options.batchSize ?? train.count  // full batch
        let epochs = options.epochs ?? (options.data == nil ? Defaults.epochsEmbedded : Defaults.epochsRealData)
        print("forecast on \(options.dataName) (column \"\(series.name)\", \(series.values.count) values): "
              + "\(train.count) training windows, \(dev.count) dev, test = last \(split.test.count) points one step ahead; "
              + "scaled by the training maximum \(split.scaler.scale)")

        var generator = RandomGenerator(seed: options.seed)
        var model = ForecastModel(hiddenSize: hiddenSize, using: &generator)
        var optimizer = Adam<Float>(learningRate: Float(options.learningRate ?? Defaults.learningRate))
        print("model: LSTM(1 → \(hiddenSize)) over windows of \(Defaults.windowSize) → Linear(\(hiddenSize), 1); "
              + "\(model.parameterCount) parameters; batch \(batchSize == train.count ? "full (\(batchSize))" : "\(batchSize)"), "
              + "Adam lr \(optimizer.learningRate), \(epochs) epochs, seed \(options.seed)")

        let inputs = train.inputTensor(Float.self), targets = train.targetTensor(Float.self)
        let stepsPerEpoch = (train.count + batchSize - 1) / batchSize
        let description = CheckpointDescription(task: TaskKind.forecast.rawValue, hiddenSize: hiddenSize,
                                                layers: 1, scale: split.scaler.scale, windowSize: Defaults.windowSize)
        var checkpointing = Checkpointing(options: options, metadata: try description.metadata(), stepsPerEpoch: stepsPerEpoch)
        try checkpointing.resume(from: options.resume, model: &model, optimizer: &optimizer, generator: &generator)
        var session = TrainingSession(title: "forecast on \(options.dataName)", epochs: epochs, stepsPerEpoch: stepsPerEpoch,
                                      unit: "sequences", metricName: "dev RMSE")
        for epoch in checkpointing.epochs(through: epochs) {
            checkpointing.begin(epoch, in: &session)
            let batches = checkpointing.batches(for: epoch) {
                batchSize >= train.count
                    ? [Array(0..<train.count)]
                    : Batching.shuffledBatchIndices(count: train.count, batchSize: batchSize, using: &generator)
            }
            for (index, batch) in batches.enumerated() where index >= checkpointing.firstStep(of: epoch) {
                let rows = IntTensor(batch)
                let (batchInputs, batchTargets) = batch.count == train.count
                    ? (inputs, targets) : (inputs.indexSelect(dim: 0, index: rows), targets.indexSelect(dim: 0, index: rows))
                // No clipping in the reference set-up; the norm is still measured to catch NaN/inf.
                try session.trainStep(&model, &optimizer, clipNorm: nil, items: batch.count) { model in
                    mseLoss(try model.predict(batchInputs, using: &generator), batchTargets)
                }
                try checkpointing.afterStep(epoch: epoch, step: index + 1, batches: batches, model: model, optimizer: optimizer,
                                            generator: generator, session: session)
            }
            let rmse = try Self.rmse(of: model, on: dev, scaler: split.scaler)
            session.endEpoch(metric: rmse, metricText: ProgressFormat.fixed(rmse, decimals: 3))
        }
        try checkpointing.finish(epochs: epochs, model: model, optimizer: optimizer, generator: generator, session: session)

        let testRMSE = try Self.rmse(of: model, on: split.test, scaler: split.scaler)
        let naive = Self.seasonalNaiveRMSE(series.values, targetIndices: split.test.targetIndices)
        try session.finish(model: model, results: [
            "test RMSE: \(ProgressFormat.fixed(testRMSE, decimals: 3)) (last \(split.test.count) points, one step ahead, data units); "
                + "seasonal-naive RMSE: \(ProgressFormat.fixed(naive, decimals: 3)) (season \(Defaults.season))",
        ], metadata: try description.metadata(), options: options)
    }

    /// The root-mean-square error in the data's units of `model` on `windows`.
    static func rmse(of model: ForecastModel, on windows: ForecastWindows, scaler: MaxScaler) throws -> Double {
        guard windows.count > 0 else { return .nan }
        var unused = RandomGenerator(seed: 0)
        let predictions = try withoutGradient { try model.predict(windows.inputTensor(Float.self), using: &unused).scalars }
        var sum = 0.0
        for (prediction, target) in zip(predictions, windows.targets) {
            let error = scaler.unscaled(Double(prediction)) - scaler.unscaled(target)
            sum += error * error
        }
        return (sum / Double(windows.count)).squareRoot()
    }

    /// The RMSE of predicting each target `series[t]` by `series[t - 12]` (same month last year).
    static func seasonalNaiveRMSE(_ series: [Double], targetIndices: [Int]) -> Double {
        let usable = targetIndices.filter { $0 >= Defaults.season }
        guard !usable.isEmpty else { return .nan }
        let sum = usable.reduce(0.0) { total, t in
            let error = series[t] - series[t - Defaults.season]
            return total + error * error
        }
        return (sum / Double(usable.count)).squareRoot()
    }

    /// `loom evaluate` for a forecaster checkpoint on a CSV file: the last 24 points one
    /// step ahead, scaled with the training scale stored in the checkpoint.
    static func evaluate(_ checkpoint: LoadedCheckpoint, dataPath: String) throws {
        let description = checkpoint.description
        let scaler = MaxScaler(fittingTo: [try checkpoint.require(description.scale, "scale")])
        let windowSize = description.windowSize ?? Defaults.windowSize
        var generator = RandomGenerator(seed: 0)
        var model = ForecastModel(hiddenSize: description.hiddenSize, using: &generator)
        try checkpoint.load(into: &model)
        let series = try TimeSeriesCSV.read(path: dataPath).values
        let needed = windowSize + Defaults.testCount
        guard series.count >= needed else {
            throw DataError(file: dataPath, message: "the series has \(series.count) values; evaluating the last \(Defaults.testCount) points needs at least \(needed)")
        }
        let test = Windows.sliding(scaler.scaled(series), windowSize: windowSize, targets: (series.count - Defaults.testCount)..<series.count)
        let rmse = try rmse(of: model, on: test, scaler: scaler)
        let naive = seasonalNaiveRMSE(series, targetIndices: test.targetIndices)
        print("forecaster \(checkpoint.path) on \(dataPath): last \(test.count) of \(series.count) values, one step ahead")
        print("RMSE: \(ProgressFormat.fixed(rmse, decimals: 3)); seasonal-naive RMSE: \(ProgressFormat.fixed(naive, decimals: 3)) (season \(Defaults.season))")
    }
}
