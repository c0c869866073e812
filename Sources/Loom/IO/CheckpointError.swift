/// A thrown error for a checkpoint that cannot be read, written or loaded: checkpoints are
/// user input, so a bad one is reported, never trapped.
///
/// The message names the file (or `<memory>` for bytes not read from a file) and what is
/// wrong with it, for instance
/// `checkpoint model.safetensors: header length 9000000000 exceeds the file size (120 bytes)`.
public struct CheckpointError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The file the error is about, as given by the caller.
    public let file: String
    /// What is wrong, without the file name.
    public let reason: String
    /// For a checkpoint that does not match a model: what did not match (empty otherwise).
    public let mismatch: StateDictMismatch

    /// An error about `file` saying `reason`.
    public init(file: String, reason: String, mismatch: StateDictMismatch = StateDictMismatch()) {
        self.file = file
        self.reason = reason
        self.mismatch = mismatch
    }

    /// `checkpoint FILE: REASON`.
    public var description: String { "checkpoint \(file): \(reason)" }
}

/// How a set of named tensors differs from a model's parameters: the names the model has but
/// the tensors lack, the names the tensors have but the model lacks, and the names present in
/// both with different shapes. All lists are sorted by name.
public struct StateDictMismatch: Equatable, Sendable, CustomStringConvertible {
    /// A name present in both, with the shape the tensors hold and the shape the model expects.
    public struct ShapeMismatch: Equatable, Sendable {
        /// The parameter's `state_dict` name.
        public var name: String
        /// The shape stored in the checkpoint (or state dict).
        public var storedShape: [Int]
        /// The shape of the model's parameter.
        public var modelShape: [Int]
    }

    /// Parameters of the model with no tensor of that name.
    public var missing: [String] = []
    /// Tensors with no parameter of that name in the model.
    public var unexpected: [String] = []
    /// Names present in both whose shapes differ.
    public var misShaped: [ShapeMismatch] = []

    /// An empty mismatch (everything matched).
    public init() {}

    /// Whether every name matched with the right shape.
    public var isEmpty: Bool { missing.isEmpty && unexpected.isEmpty && misShaped.isEmpty }

    /// `missing: a, b; unexpected: c; mis-shaped: d (checkpoint [4, 3], model [4, 4])`, listing
    /// every name; `no differences` when empty.
    public var description: String {
        var parts: [String] = []
        if !missing.isEmpty { parts.append("missing: " + missing.joined(separator: ", ")) }
        if !unexpected.isEmpty { parts.append("unexpected: " + unexpected.joined(separator: ", ")) }
        if !misShaped.isEmpty {
            parts.append("mis-shaped: " + misShaped.map {
                "\($0.name) (checkpoint \($0.storedShape), model \($0.modelShape))"
            }.joined(separator: ", "))
        }
        return parts.isEmpty ? "no differences" : parts.joined(separator: "; ")
    }
}
