import Foundation

/// Where a training run stands between two optimizer steps: the epoch, how many of its
/// batches are done, and the epoch's batch order (drawn at its start, so a resumed run
/// continues the same order).
public struct TrainingPosition: Codable, Equatable, Sendable {
    /// The epoch in progress (1-based).
    public var epoch: Int
    /// How many of the epoch's batches are done.
    public var step: Int
    /// The epoch's batches, as indices into the training set (empty when the order is not
    /// drawn at random).
    public var batches: [[Int]]

    /// A position `step` batches into `epoch`, whose batch order is `batches`.
    public init(epoch: Int, step: Int, batches: [[Int]] = []) {
        self.epoch = epoch
        self.step = step
        self.batches = batches
    }
}

/// What `loadTrainingCheckpoint` restores besides the model and the optimizer.
public struct TrainingResumePoint<Scalar: TensorScalar> {
    /// The random generator as it was at the checkpoint.
    public var generator: RandomGenerator
    /// The position in the data.
    public var position: TrainingPosition
    /// The extra tensors saved with the checkpoint (a carried recurrent state, say).
    public var extraTensors: [String: Tensor<Scalar>]
    /// The caller's metadata saved with the checkpoint.
    public var metadata: [String: String]
}

/// The layout of a training checkpoint inside its safetensors file.
enum TrainingCheckpointLayout {
    /// Metadata key marking a training checkpoint, and its value.
    static let kindKey = "loom.checkpoint", kind = "training"
    static let positionKey = "loom.position", generatorKey = "loom.generator"
    /// Tensor name prefixes of the optimizer state and the extra tensors; the model's
    /// parameters keep their own names, so the file loads into PyTorch as a state dict plus
    /// these entries.
    static let optimizerPrefix = "optimizer.", extraPrefix = "extra."

    /// Whether a tensor of a training checkpoint belongs to the model.
    static func isModelTensor(_ name: String) -> Bool {
        !name.hasPrefix(optimizerPrefix) && !name.hasPrefix(extraPrefix)
    }
}

/// Saves everything needed to resume training exactly — the model's parameters, the
/// optimizer's state, the random generator, the position in the data and any `extraTensors`
/// (such as a recurrent state carried across batches) — as one safetensors file at `url`.
///
/// The write is atomic (a temporary file, then a rename), so the file on disk is always either
/// the previous checkpoint or this one, even if the process is killed mid-write. The model's
/// parameters keep their `state_dict` names; `loadCheckpoint(into:from:)` reads the model
/// part alone, and `loadTrainingCheckpoint` everything.
public func saveTrainingCheckpoint<M: Module, O: Optimizer>(
    model: M, optimizer: O, generator: RandomGenerator, position: TrainingPosition,
    extraTensors: [String: Tensor<M.Scalar>] = [:], metadata: [String: String] = [:], to url: URL
) throws(CheckpointError) where O.Scalar == M.Scalar {
    typealias Layout = TrainingCheckpointLayout
    var tensors = model.stateDict()
    for (name, tensor) in optimizer.stateDict().sorted(by: { $0.key < $1.key }) {
        tensors.append((Layout.optimizerPrefix + name, tensor.detached()))
    }
    for (name, tensor) in extraTensors.sorted(by: { $0.key < $1.key }) {
        tensors.append((Layout.extraPrefix + name, tensor.detached()))
    }
    var fullMetadata = ["format": "pt"]
    fullMetadata.merge(metadata) { _, given in given }
    fullMetadata[Layout.kindKey] = Layout.kind
    fullMetadata[Layout.generatorKey] = generator.stateWords.map { String($0, radix: 16) }.joined(separator: ",")
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    guard let position = try? encoder.encode(position) else {
        throw CheckpointError(file: url.path, reason: "cannot encode the training position")
    }
    fullMetadata[Layout.positionKey] = String(decoding: position, as: UTF8.self)
    try SafeTensorsFile.write(tensors, metadata: fullMetadata, to: url)
}

/// Restores a checkpoint written by `saveTrainingCheckpoint`: loads the model's parameters
/// into `model` (strictly: every name and shape must match), replaces `optimizer`'s state
/// (each entry checked against the shape of its parameter), and returns the generator, the
/// position and the extra tensors. Throws a `CheckpointError` naming the file if it is not a
/// training checkpoint, does not match the model, or holds inconsistent optimizer state; the
/// model and optimizer are then unchanged.
public func loadTrainingCheckpoint<M: Module, O: Optimizer>(
    from url: URL, into model: inout M, optimizer: inout O
) throws(CheckpointError) -> TrainingResumePoint<M.Scalar> where O.Scalar == M.Scalar {
    typealias Layout = TrainingCheckpointLayout
    let file = try SafeTensorsFile(contentsOf: url)
    func fail(_ reason: String) -> CheckpointError { CheckpointError(file: file.source, reason: reason) }
    guard file.metadata[Layout.kindKey] == Layout.kind else {
        throw fail("not a training checkpoint (it holds no optimizer state or data position; "
                   + "it was saved without checkpointing during training)")
    }
    let words = (file.metadata[Layout.generatorKey] ?? "").split(separator: ",").compactMap { UInt64($0, radix: 16) }
    guard let generator = RandomGenerator(stateWords: words) else {
        throw fail("the random generator state \"\(file.metadata[Layout.generatorKey] ?? "")\" is not four hexadecimal words")
    }
    guard let positionJSON = file.metadata[Layout.positionKey],
          let position = try? JSONDecoder().decode(TrainingPosition.self, from: Data(positionJSON.utf8)),
          position.epoch >= 1, position.step >= 0 else {
        throw fail("the training position is missing or malformed")
    }
    var optimizerState: [String: Tensor<M.Scalar>] = [:]
    var extraTensors: [String: Tensor<M.Scalar>] = [:]
    for info in file.tensors {
        if info.name.hasPrefix(Layout.optimizerPrefix) {
            optimizerState[String(info.name.dropFirst(Layout.optimizerPrefix.count))] = file.tensor(info)
        } else if info.name.hasPrefix(Layout.extraPrefix) {
            extraTensors[String(info.name.dropFirst(Layout.extraPrefix.count))] = file.tensor(info)
        }
    }
    // Every optimizer entry must belong to a parameter of the same shape.
    let shapes = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.tensor.shape) })
    for (name, tensor) in optimizerState where !name.hasSuffix(".step") {
        let key = name.split(separator: ".").dropFirst().dropLast().joined(separator: ".")
        guard let shape = shapes[key] else { throw fail("optimizer state \"\(name)\" names no parameter of the model") }
        guard shape == tensor.shape else {
            throw fail("optimizer state \"\(name)\" has shape \(tensor.shape), the parameter \(shape)")
        }
    }
    var newOptimizer = optimizer
    do {
        try newOptimizer.load(stateDict: optimizerState)
    } catch {
        throw fail(error.description)
    }
    var newModel = model
    try loadCheckpoint(into: &newModel, from: file)
    model = newModel
    optimizer = newOptimizer
    return TrainingResumePoint(generator: generator, position: position, extraTensors: extraTensors, metadata: file.metadata)
}
