import Foundation

/// Saves every parameter of `model` under its PyTorch `state_dict` name as a safetensors file
/// at `url` (`F32` for a `Float` model, `F64` for `Double`), readable by PyTorch's
/// `safetensors.torch.load_file`.
///
/// The write is atomic: the bytes go to a temporary file in the same directory which then
/// replaces `url` by a rename, so a failure or crash mid-save never destroys the previous
/// checkpoint. `metadata` is stored in the header; `"format": "pt"` is added unless given.
/// Throws a `CheckpointError` naming the file if it cannot be written.
public func saveCheckpoint<M: Module>(_ model: M, to url: URL, metadata: [String: String] = [:]) throws(CheckpointError) {
    var fullMetadata = ["format": "pt"]
    fullMetadata.merge(metadata) { _, given in given }
    try SafeTensorsFile.write(model.stateDict(), metadata: fullMetadata, to: url)
}

/// Loads the parameters of `model` from the safetensors checkpoint at `url` by their PyTorch
/// `state_dict` names, converting from the file's dtype (`F64`, `F32`, `F16`, `BF16`, integers)
/// to the model's. Loaded parameters are new leaves that require a gradient: an optimizer that
/// holds state for the old parameters drops it and starts the new ones afresh (to resume
/// training with the optimizer's state, use `loadTrainingCheckpoint`). In a training
/// checkpoint only the model's tensors are read; its optimizer state and extra tensors are
/// not counted as unexpected.
///
/// Strict (the default): if the file lacks a parameter of the model, has a tensor the model
/// lacks, or holds a tensor of another shape, throws a `CheckpointError` listing every such
/// name (with both shapes) and leaves `model` unchanged. Not strict: loads each parameter
/// whose name and shape match and returns the differences. A truncated, corrupt or foreign
/// file is always refused with a `CheckpointError` naming the file and the problem.
@discardableResult
public func loadCheckpoint<M: Module>(into model: inout M, from url: URL, strict: Bool = true) throws(CheckpointError) -> StateDictMismatch {
    try loadCheckpoint(into: &model, from: try SafeTensorsFile(contentsOf: url), strict: strict)
}

/// Loads the parameters of `model` from an already opened safetensors file; see
/// `loadCheckpoint(into:from:strict:)` for the rules.
@discardableResult
public func loadCheckpoint<M: Module>(into model: inout M, from file: SafeTensorsFile, strict: Bool = true) throws(CheckpointError) -> StateDictMismatch {
    var shapes: [String: [Int]] = [:]
    let isTraining = file.metadata[TrainingCheckpointLayout.kindKey] == TrainingCheckpointLayout.kind
    for info in file.tensors where !isTraining || TrainingCheckpointLayout.isModelTensor(info.name) {
        shapes[info.name] = info.shape
    }
    return try model.loadParameters(shapes: shapes, strict: strict, source: file.source) { name in
        file.tensor(file.info(name)!)
    }
}
