import Foundation
import Loom

/// `loom sample --checkpoint PATH [--prime TEXT] [--length N] [--temperature X] [--seed N]`:
/// generates text from a character language model saved by `loom train charlm --save`.
enum SampleCommand {
    static func run(_ arguments: [String]) throws {
        let parsed = try ParsedArguments(arguments, command: "loom sample",
                                         valueOptions: ["--checkpoint", "--prime", "--length", "--temperature", "--seed", "--threads"])
        if parsed.has("--help") || parsed.has("-h") {
            print(Help.sample)
            return
        }
        try parsed.expectPositionals(atMost: 0)
        guard let path = try parsed.string("--checkpoint") else { throw ArgumentError("`loom sample` needs --checkpoint PATH") }
        let length = try parsed.int("--length", minimum: 0, maximum: 10_000_000) ?? 500
        let temperature = try parsed.positiveDouble("--temperature") ?? 0.8
        let seed = try parsed.seed("--seed") ?? 0
        if let threads = try parsed.int("--threads", minimum: 1, maximum: 1024) { setNumThreads(threads) }

        let (model, vocabulary) = try CharLMTask.load(try LoadedCheckpoint(path: path))
        let prime = parsed.rawString("--prime") ?? (vocabulary.index(of: "\n") != nil ? "\n" : String(vocabulary.tokens[0]))
        guard !prime.isEmpty else { throw ArgumentError("--prime needs at least one character") }
        var primeIds: [Int] = []
        for (position, character) in prime.unicodeScalars.enumerated() {
            guard let index = vocabulary.index(of: character) else {
                throw ArgumentError("--prime: character \(position + 1) (\(String(character).debugDescription)) is not in the model's vocabulary")
            }
            primeIds.append(index)
        }
        var generator = RandomGenerator(seed: seed)
        try CharLMTask.sample(model: model, vocabulary: vocabulary, primeIds: primeIds, length: length,
                              temperature: temperature, using: &generator) { piece in
            print(piece, terminator: "")
        }
        print()
    }
}
