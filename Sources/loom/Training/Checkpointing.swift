import Foundation
import Loom

/// `--save PATH --checkpoint-every N` and `--resume PATH` for every task: writes a training
/// checkpoint (model, optimizer, generator, data position, running totals) every N optimizer
/// steps and at the end, and restarts a run from one so that it ends with the same weights as
/// the uninterrupted run.
///
/// A task drives it from its epoch loop: `resume` once after building the model, then per
/// epoch `begin` (which restores a resumed epoch's totals), `batches` (the saved order for a
/// resumed epoch, a fresh draw otherwise), skipping the first `firstStep` batches, and
/// `afterStep` after each optimizer step; `finish` after the last epoch.
struct Checkpointing {
    /// The metadata key of the session's running totals.
    static let sessionKey = "loom.session"

    let path: String?
    let every: Int?
    /// The model description the checkpoints carry (and a resumed one must match).
    let metadata: [String: String]
    let stepsPerEpoch: Int
    private var resumed: TrainingResumePoint<Float>?
    private var snapshot: TrainingSession.Snapshot?

    init(options: TrainOptions, metadata: [String: String], stepsPerEpoch: Int) {
        path = options.save
        every = options.checkpointEvery
        self.metadata = metadata
        self.stepsPerEpoch = max(1, stepsPerEpoch)
    }

    /// With `--resume PATH`: loads model, optimizer state and generator from it, after
    /// checking that it was written for the same model. Without it, does nothing.
    mutating func resume<M: Module, O: Optimizer>(from resumePath: String?, model: inout M, optimizer: inout O,
                                                  generator: inout RandomGenerator) throws
    where M.Scalar == Float, O.Scalar == Float {
        guard let resumePath else { return }
        let url = URL(fileURLWithPath: resumePath)
        let file = try SafeTensorsFile(contentsOf: url)
        let key = CheckpointDescription.metadataKey
        guard let stored = file.metadata[key] else {
            throw ToolError("--resume \(resumePath): not written by `loom train` (no \"\(key)\" entry in its metadata)")
        }
        guard stored == metadata[key] else {
            throw ToolError("--resume \(resumePath): written for another model or data (task \(file.metadata["loom.task"] ?? "?"), "
                            + "this run: \(metadata["loom.task"] ?? "?")); resume with the same task, data and size options")
        }
        let point = try loadTrainingCheckpoint(from: url, into: &model, optimizer: &optimizer)
        generator = point.generator
        resumed = point
        if let json = point.metadata[Self.sessionKey] {
            snapshot = try? Self.decoder.decode(TrainingSession.Snapshot.self, from: Data(json.utf8))
        }
    }

    /// The epochs still to run, up to `epochs`.
    func epochs(through epochs: Int) -> StrideThrough<Int> {
        stride(from: resumed?.position.epoch ?? 1, through: epochs, by: 1)
    }

    /// Whether `epoch` is the one the run resumes in.
    private func isResumed(_ epoch: Int) -> Bool { resumed?.position.epoch == epoch }

    /// Starts `epoch` in `session`, restoring the running totals of a resumed epoch.
    func begin(_ epoch: Int, in session: inout TrainingSession) {
        session.beginEpoch(epoch)
        if isResumed(epoch), let position = resumed?.position, let snapshot {
            session.restore(snapshot, step: position.step)
        }
    }

    /// The epoch's batches: the saved order when resuming inside it, else `draw()`.
    func batches(for epoch: Int, draw: () -> [[Int]]) -> [[Int]] {
        if isResumed(epoch), let saved = resumed?.position.batches, !saved.isEmpty { return saved }
        return draw()
    }

    /// How many of the epoch's batches are already done.
    func firstStep(of epoch: Int) -> Int { isResumed(epoch) ? resumed!.position.step : 0 }

    /// The extra tensors saved with the checkpoint, when resuming inside `epoch`.
    func extraTensors(for epoch: Int) -> [String: Tensor<Float>] {
        isResumed(epoch) ? resumed!.extraTensors : [:]
    }

    /// After the optimizer step that finished batch `step` (1-based) of `epoch`: writes a
    /// checkpoint when the run's step count is a multiple of `--checkpoint-every`.
    func afterStep<M: Module, O: Optimizer>(epoch: Int, step: Int, batches: [[Int]], model: M, optimizer: O,
                                            generator: RandomGenerator, session: TrainingSession,
                                            extraTensors: [String: Tensor<Float>] = [:]) throws
    where M.Scalar == Float, O.Scalar == Float {
        guard let every, path != nil else { return }
        let runStep = (epoch - 1) * stepsPerEpoch + step
        guard runStep % every == 0 else { return }
        try save(TrainingPosition(epoch: epoch, step: step, batches: batches), model: model, optimizer: optimizer,
                 generator: generator, session: session, extraTensors: extraTensors)
    }

    /// After the last epoch: with `--checkpoint-every`, the file at `--save` becomes a training
    /// checkpoint of the finished run (resuming it only repeats the closing lines).
    func finish<M: Module, O: Optimizer>(epochs: Int, model: M, optimizer: O, generator: RandomGenerator,
                                         session: TrainingSession) throws
    where M.Scalar == Float, O.Scalar == Float {
        guard every != nil, path != nil else { return }
        try save(TrainingPosition(epoch: epochs + 1, step: 0), model: model, optimizer: optimizer,
                 generator: generator, session: session)
    }

    private func save<M: Module, O: Optimizer>(_ position: TrainingPosition, model: M, optimizer: O,
                                               generator: RandomGenerator, session: TrainingSession,
                                               extraTensors: [String: Tensor<Float>] = [:]) throws
    where M.Scalar == Float, O.Scalar == Float {
        guard let path else { return }
        var metadata = self.metadata
        metadata[Self.sessionKey] = String(decoding: try Self.encoder.encode(session.snapshot), as: UTF8.self)
        try saveTrainingCheckpoint(model: model, optimizer: optimizer, generator: generator, position: position,
                                   extraTensors: extraTensors, metadata: metadata, to: URL(fileURLWithPath: path))
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return encoder
    }()

    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return decoder
    }()
}
