import Foundation
import Loom

/// What `loom sample` and `loom evaluate` need to rebuild a model from its checkpoint
/// alone: the task, the sizes, the vocabularies, the forecaster's scale. Stored as JSON in
/// the safetensors header's `__metadata__` under the key `loom` (and the task, readable at
/// a glance, under `loom.task`).
struct CheckpointDescription: Codable {
    /// The metadata key holding the JSON.
    static let metadataKey = "loom"

    var task: String
    var embeddingSize: Int?
    var hiddenSize: Int
    var layers: Int?
    /// The word vocabulary by index (tagger, classifier).
    var words: [String]?
    /// The tags by index (tagger), or the UPOS tags of the symbol table (lemmatizer).
    var tags: [String]?
    /// The recurrent cell, `lstm` or `gru` (tagger, classifier; absent means `lstm`).
    var cell: String?
    /// The tagger's character features, `cnn` or `lstm` (absent means none).
    var charFeatures: String?
    /// The tagger's character vocabulary by index (`<pad>`, `<unk>`, then the characters).
    var characterTokens: [String]?
    /// The lemmatizer's symbol table by index (specials, UPOS tags, then code points).
    var symbols: [String]?
    /// The lemmatizer's lexicon: (form, upos, lemma) rows; absent when it was turned off.
    var lexicon: [[String]]?
    /// The lemmatizer's beam width (0: greedy).
    var beam: Int?
    /// Whether the lemmatizer has its edit classifier (absent means no).
    var editClasses: Bool?
    /// The lemmatizer's attention size.
    var attentionSize: Int?
    /// The characters in index order (charlm).
    var characters: String?
    /// `--max-tokens` of the classifier, if given.
    var maxTokens: Int?
    /// The forecaster's divisor (the training part's maximum) and window length.
    var scale: Double?
    var windowSize: Int?

    /// The `__metadata__` entries for this description.
    func metadata() throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: try encoder.encode(self), as: UTF8.self)
        return [Self.metadataKey: json, "loom.task": task]
    }
}

/// A checkpoint opened for `loom sample` / `loom evaluate`: its file and its description.
struct LoadedCheckpoint {
    let path: String
    let file: SafeTensorsFile
    let description: CheckpointDescription

    /// Opens the checkpoint at `path`; throws (naming the path) when the file is missing,
    /// not safetensors, or was not written by `loom train`.
    init(path: String) throws {
        self.path = path
        file = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: path))
        guard let json = file.metadata[CheckpointDescription.metadataKey] else {
            throw ToolError("checkpoint \(path): not written by `loom train` (no \"\(CheckpointDescription.metadataKey)\" entry in its metadata)")
        }
        do {
            description = try JSONDecoder().decode(CheckpointDescription.self, from: Data(json.utf8))
        } catch {
            throw ToolError("checkpoint \(path): its \"\(CheckpointDescription.metadataKey)\" metadata is not a valid model description")
        }
    }

    /// A required field of the description, or an error naming the checkpoint.
    func require<T>(_ value: T?, _ field: String) throws -> T {
        guard let value else { throw ToolError("checkpoint \(path): the model description lacks \"\(field)\"") }
        return value
    }

    /// Loads the weights into `model` (strict: every name and shape must match).
    func load<M: Module>(into model: inout M) throws {
        try loadCheckpoint(into: &model, from: file)
    }
}
