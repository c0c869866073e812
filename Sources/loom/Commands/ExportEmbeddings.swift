import Foundation
import Loom

/// `loom export-embeddings --checkpoint PATH --output PATH`: writes the word embedding of a
/// tagger or classifier checkpoint as GloVe-style text vectors, one line per vocabulary word
/// (`<pad>` left out), readable back with `--embeddings`.
enum ExportEmbeddingsCommand {
    static func run(_ arguments: [String]) throws {
        let parsed = try ParsedArguments(arguments, command: "loom export-embeddings", valueOptions: ["--checkpoint", "--output"])
        if parsed.has("--help") || parsed.has("-h") {
            print(Help.exportEmbeddings)
            return
        }
        try parsed.expectPositionals(atMost: 0)
        guard let checkpointPath = try parsed.string("--checkpoint") else {
            throw ArgumentError("`loom export-embeddings` needs --checkpoint PATH")
        }
        guard let output = try parsed.string("--output") else { throw ArgumentError("`loom export-embeddings` needs --output PATH") }
        try TrainOptions.checkWritable(output, flag: "--output")
        let checkpoint = try LoadedCheckpoint(path: checkpointPath)
        let task = checkpoint.description.task
        guard task == TaskKind.tagger.rawValue || task == TaskKind.classifier.rawValue else {
            throw ToolError("checkpoint \(checkpointPath): a \(task) model has no word embedding (tagger and classifier checkpoints do)")
        }
        let words = try checkpoint.require(checkpoint.description.words, "words")
        let table: Tensor<Float> = try checkpoint.file.tensor("embedding.weight")
        guard table.rank == 2, table.shape[0] == words.count else {
            throw ToolError("checkpoint \(checkpointPath): embedding.weight \(table.shape) does not match its \(words.count) words")
        }
        let (vectors, skipped) = PretrainedEmbeddings.export(table, vocabulary: words)
        try vectors.write(to: output)
        print("wrote \(vectors.count) vectors of \(vectors.dimension) to \(output)"
              + (skipped > 0 ? " (\(skipped) words left out: empty or containing whitespace)" : ""))
    }
}
