// The `loom` command-line tool: train the four example models, sample text from a
// character model, evaluate a saved model.
//
// Exit status: 0 success; 1 training stopped because the loss or the gradient norm became
// NaN or infinite (reported with the epoch and step); 2 bad input (command line, data file,
// checkpoint), reported as one line on stderr naming the flag or the file and line.

import Foundation
import Loom

/// Runs the command named by the first argument.
func runLoom(_ arguments: [String]) throws {
    guard let command = arguments.first else {
        print(Help.overview)
        return
    }
    let rest = Array(arguments.dropFirst())
    switch command {
    case "train": try TrainCommand.run(rest)
    case "sample": try SampleCommand.run(rest)
    case "evaluate": try EvaluateCommand.run(rest)
    case "export-embeddings": try ExportEmbeddingsCommand.run(rest)
    case "help", "--help", "-h":
        guard let topic = rest.first else {
            print(Help.overview)
            return
        }
        guard rest.count == 1, let text = Help.topic(topic) else {
            throw ArgumentError("no help for \"\(rest.joined(separator: " "))\" (topics: \(Help.topics.joined(separator: ", ")))")
        }
        print(text)
    default:
        throw ArgumentError("unknown command \"\(command)\" (commands: train, sample, evaluate, export-embeddings, help; see `loom --help`)")
    }
}

/// Prints `message` as one line on standard error.
func printError(_ message: String) {
    fflush(nil)  // nil: every output stream (avoids the global `stdout` in Swift 6)
    FileHandle.standardError.write(Data("loom: \(message)\n".utf8))
}

MemoryTuning.keepFreedMemoryForReuse()
do {
    try runLoom(Array(CommandLine.arguments.dropFirst()))
} catch let error as NonFiniteValueError {
    printError("training stopped: \(error)")
    exit(1)
} catch {
    printError("\(error)")
    exit(2)
}
