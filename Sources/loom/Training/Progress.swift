import Foundation
import Loom

/// Writes progress to standard output: a line updated in place with `\r` when stdout is a
/// terminal, plain lines (a few per epoch) when it is a file or a pipe.
struct ProgressPrinter {
    /// Whether stdout is a terminal.
    let interactive = isatty(STDOUT_FILENO) != 0
    private var lastUpdate = 0.0
    private var shownLength = 0

    /// Shows `text` as the current progress. At a terminal it replaces the previous
    /// progress line (at most ten times a second unless `force`); otherwise it is printed
    /// as a line when `force` is set (the caller decides how often).
    mutating func update(_ text: String, now: Double, force: Bool) {
        if interactive {
            guard force || now - lastUpdate >= 0.1 else { return }
            lastUpdate = now
            let padding = String(repeating: " ", count: max(0, shownLength - text.count))
            print("\r\(text)\(padding)", terminator: "")
            shownLength = text.count
            fflush(nil)  // nil: every output stream (avoids the global `stdout` in Swift 6)
        } else if force {
            print(text)
            fflush(nil)  // nil: every output stream (avoids the global `stdout` in Swift 6)
        }
    }

    /// Prints `text` as a permanent line, first clearing an in-place progress line.
    mutating func line(_ text: String) {
        if interactive && shownLength > 0 {
            print("\r\(String(repeating: " ", count: shownLength))\r", terminator: "")
            shownLength = 0
        }
        print(text)
        fflush(nil)  // nil: every output stream (avoids the global `stdout` in Swift 6)
    }
}

/// Seconds since an arbitrary fixed point (a monotonic clock).
func monotonicSeconds() -> Double {
    Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

/// The bookkeeping of one `loom train` run shared by every task: the step loop's optimizer
/// step with non-finite detection, progress and throughput, per-epoch summaries, the
/// learning curve, and the closing lines (test metric, checkpoint, plot, checksum).
struct TrainingSession {
    let epochs: Int
    let stepsPerEpoch: Int
    /// What throughput counts (`tokens`, `sequences`, `characters`).
    let unit: String
    /// The validation metric's name (`dev accuracy`).
    let metricName: String
    /// Print an epoch summary every this many epochs (and for the first and last).
    let summaryEvery: Int
    private(set) var curve: LearningCurve
    private var printer = ProgressPrinter()
    private let startTime = monotonicSeconds()
    private var epochStart = 0.0
    /// When the epoch's last training step ended (the rest of the epoch is the validation).
    private var lastStepEnd = 0.0
    /// The time spent in training steps only, over all epochs so far.
    private var stepSeconds = 0.0
    private var trainingSeconds = 0.0
    private(set) var epoch = 0
    private(set) var step = 0
    private var epochLossSum = 0.0
    private var epochItems = 0
    private var curveLossSum = 0.0
    private var curveLossCount = 0

    /// A session for `epochs` epochs of `stepsPerEpoch` optimizer steps each.
    init(title: String, epochs: Int, stepsPerEpoch: Int, unit: String, metricName: String) {
        self.epochs = epochs
        self.stepsPerEpoch = max(1, stepsPerEpoch)
        self.unit = unit
        self.metricName = metricName
        summaryEvery = epochs > 30 ? (epochs + 19) / 20 : 1
        curve = LearningCurve(title: title, trainingXLabel: "epoch", trainingLossName: "training loss",
                              validationName: metricName)
    }

    /// The running totals a checkpoint keeps so a resumed run prints and plots as the
    /// uninterrupted one would.
    struct Snapshot: Codable {
        var epochLossSum: Double, epochItems: Int, curveLossSum: Double, curveLossCount: Int
        var trainingSeconds: Double, stepSeconds: Double
        var trainingLoss: [[Double]], validation: [[Double]]
    }

    /// The running totals now.
    var snapshot: Snapshot {
        Snapshot(epochLossSum: epochLossSum, epochItems: epochItems, curveLossSum: curveLossSum, curveLossCount: curveLossCount,
                 trainingSeconds: trainingSeconds, stepSeconds: stepSeconds,
                 trainingLoss: curve.trainingLoss.map { [$0.x, $0.y] }, validation: curve.validation.map { [$0.x, $0.y] })
    }

    /// Continues from `snapshot`, taken `step` steps into `epoch` (call after `beginEpoch`).
    mutating func restore(_ snapshot: Snapshot, step: Int) {
        self.step = step
        epochLossSum = snapshot.epochLossSum
        epochItems = snapshot.epochItems
        curveLossSum = snapshot.curveLossSum
        curveLossCount = snapshot.curveLossCount
        trainingSeconds = snapshot.trainingSeconds
        stepSeconds = snapshot.stepSeconds
        curve.trainingLoss = snapshot.trainingLoss.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }
        curve.validation = snapshot.validation.compactMap { $0.count == 2 ? ($0[0], $0[1]) : nil }
    }

    /// Prints a line (clearing the in-place progress line first).
    mutating func say(_ text: String) { printer.line(text) }

    /// Starts epoch `epoch` (1-based).
    mutating func beginEpoch(_ epoch: Int) {
        self.epoch = epoch
        step = 0
        epochLossSum = 0
        epochItems = 0
        epochStart = monotonicSeconds()
    }

    /// One training step: clears the gradients, computes `lossOf(model)`, back-propagates,
    /// clips the gradient norm to `clipNorm` (or only measures it when nil), stops with a
    /// `NonFiniteValueError` if the loss or the norm is NaN or infinite, then lets
    /// `optimizer` update the model. `items` (tokens, sequences) feed the throughput.
    mutating func trainStep<M: Module, O: Optimizer>(_ model: inout M, _ optimizer: inout O, clipNorm: Double?, items: Int,
                                                     lossOf: (M) throws -> Tensor<Float>) throws
    where M.Scalar == Float, O.Scalar == Float {
        step += 1
        model.zeroGrad()
        let loss = try lossOf(model)
        let lossValue = Double(loss.item)
        try NonFiniteValueError.check(loss: lossValue, gradientNorm: nil, epoch: epoch, step: step)
        loss.backward()
        let norm = clipGradNorm(model, maxNorm: clipNorm ?? .infinity)
        try NonFiniteValueError.check(loss: lossValue, gradientNorm: norm, epoch: epoch, step: step)
        optimizer.step(&model)
        record(loss: lossValue, items: items)
    }

    private mutating func record(loss: Double, items: Int) {
        epochLossSum += loss
        epochItems += items
        curveLossSum += loss
        curveLossCount += 1
        let pointEvery = max(1, stepsPerEpoch / 20)
        if step % pointEvery == 0 || step == stepsPerEpoch {
            curve.addTrainingLoss(x: Double(epoch - 1) + Double(step) / Double(stepsPerEpoch),
                                  loss: curveLossSum / Double(curveLossCount))
            curveLossSum = 0
            curveLossCount = 0
        }
        let now = monotonicSeconds()
        lastStepEnd = now
        let elapsedEpoch = now - epochStart
        let done = (epoch - 1) * stepsPerEpoch + step
        let left = ProgressFormat.timeLeft(elapsed: trainingSeconds + elapsedEpoch, done: done, total: epochs * stepsPerEpoch)
        let text = ProgressFormat.progressLine(epoch: epoch, epochs: epochs, step: step, steps: stepsPerEpoch,
                                               loss: epochLossSum / Double(step),
                                               itemsPerSecond: Double(epochItems) / max(elapsedEpoch, 1e-9),
                                               unit: unit, secondsLeft: left)
        // Plain output: about five lines per epoch, none for epochs of a few steps.
        let plainEvery = max(1, stepsPerEpoch / 5)
        printer.update(text, now: now, force: stepsPerEpoch >= 10 && (step % plainEvery == 0))
    }

    /// Ends the epoch with the validation `metric` (already formatted in `metricText`).
    mutating func endEpoch(metric: Double, metricText: String) {
        let seconds = monotonicSeconds() - epochStart
        let epochStepSeconds = max(0, lastStepEnd - epochStart)
        trainingSeconds += seconds
        stepSeconds += epochStepSeconds
        curve.addValidation(epoch: Double(epoch), value: metric)
        if epoch == 1 || epoch == epochs || epoch % summaryEvery == 0 {
            let meanLoss = epochLossSum / Double(max(step, 1))
            let rate = ProgressFormat.rate(Double(epochItems) / max(seconds, 1e-9), unit: unit)
            say("epoch \(epoch)/\(epochs): train loss \(ProgressFormat.fixed(meanLoss, decimals: 4)), "
                + "\(metricName) \(metricText), \(ProgressFormat.duration(seconds)) (\(rate); "
                + "training steps \(ProgressFormat.duration(epochStepSeconds)))")
        }
    }

    /// The closing lines: `results` (e.g. `test accuracy: 0.9512`), then the checkpoint
    /// written to `options.save` with `metadata`, the SVG learning curve to `options.plot`,
    /// and last `weights-checksum: HEX`.
    mutating func finish<M: Module>(model: M, results: [String], metadata: [String: String], options: TrainOptions) throws
    where M.Scalar == Float {
        let perEpoch = Double(max(epochs, 1))
        say("training time: \(ProgressFormat.duration(trainingSeconds)) (\(ProgressFormat.duration(trainingSeconds / perEpoch)) per epoch; "
            + "training steps only \(ProgressFormat.duration(stepSeconds / perEpoch)) per epoch)")
        for result in results { say(result) }
        if options.save != nil && options.checkpointEvery != nil {
            say("checkpoint: \(options.save!) (training checkpoint)")
        } else if let path = options.save {
            try saveCheckpoint(model, to: URL(fileURLWithPath: path), metadata: metadata)
            say("checkpoint: \(path)")
        }
        if let path = options.plot {
            try LearningCurvePlot.write(curve, to: path)
            say("learning curve: \(path)")
        }
        say("weights-checksum: \(weightsChecksum(model))")
    }
}
