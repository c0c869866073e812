import Foundation
import Loom

// The model configs of PRODUCT.md ("loom-bench --json" contract), their FLOP counts (the
// same formula as tools/pytorch_bench.py `rnn_flops`), and the workloads that time them.

/// The recurrent cell of a config; the value is the number of gates (weight blocks).
enum CellKind: Int {
    case rnn = 1, gru = 3, lstm = 4
}

/// One benchmark config: B batch, T steps, I input, H hidden.
struct ModelConfig {
    enum Family {
        /// A recurrent layer on `[B, T, I]`; `lengthRange` makes a padded variable-length
        /// batch (lengths seeded-random in the range, the first one T).
        case recurrent(CellKind, layers: Int, bidirectional: Bool, lengthRange: ClosedRange<Int>?)
        /// One Adam step of Embedding(vocabulary, I) → BiLSTM(H) → Linear(tags) →
        /// masked cross-entropy, lengths seeded-random in `lengthRange`.
        case tagger(vocabulary: Int, tags: Int, lengthRange: ClosedRange<Int>)
    }

    let name: String
    let batch: Int, steps: Int, input: Int, hidden: Int
    let family: Family

    static let all: [ModelConfig] = [
        ModelConfig(name: "lstm-tiny", batch: 16, steps: 35, input: 32, hidden: 32,
                    family: .recurrent(.lstm, layers: 1, bidirectional: false, lengthRange: nil)),
        ModelConfig(name: "lstm-small", batch: 32, steps: 50, input: 64, hidden: 128,
                    family: .recurrent(.lstm, layers: 1, bidirectional: false, lengthRange: nil)),
        ModelConfig(name: "lstm-medium", batch: 64, steps: 100, input: 256, hidden: 256,
                    family: .recurrent(.lstm, layers: 1, bidirectional: false, lengthRange: nil)),
        ModelConfig(name: "lstm-large", batch: 32, steps: 100, input: 512, hidden: 512,
                    family: .recurrent(.lstm, layers: 1, bidirectional: false, lengthRange: nil)),
        ModelConfig(name: "gru-medium", batch: 64, steps: 100, input: 256, hidden: 256,
                    family: .recurrent(.gru, layers: 1, bidirectional: false, lengthRange: nil)),
        ModelConfig(name: "rnn-medium", batch: 64, steps: 100, input: 256, hidden: 256,
                    family: .recurrent(.rnn, layers: 1, bidirectional: false, lengthRange: nil)),
        ModelConfig(name: "bilstm2-packed", batch: 32, steps: 50, input: 64, hidden: 128,
                    family: .recurrent(.lstm, layers: 2, bidirectional: true, lengthRange: 10...50)),
        ModelConfig(name: "bilstm-long-100", batch: 32, steps: 100, input: 100, hidden: 128,
                    family: .recurrent(.lstm, layers: 1, bidirectional: true, lengthRange: 33...100)),
        ModelConfig(name: "bilstm-long-400", batch: 32, steps: 400, input: 100, hidden: 128,
                    family: .recurrent(.lstm, layers: 1, bidirectional: true, lengthRange: 133...400)),
        ModelConfig(name: "tagger-step", batch: 32, steps: 40, input: 100, hidden: 128,
                    family: .tagger(vocabulary: 10000, tags: 17, lengthRange: 5...40)),
    ]

    /// The sequence lengths of the batch: all T for a plain batch; seeded-random in the
    /// range (seed 0) for a variable-length one, the first forced to T for recurrent configs.
    var lengths: [Int] {
        var generator = RandomGenerator(seed: 0)
        func draw(_ range: ClosedRange<Int>) -> Int {
            range.lowerBound + generator.nextInt(below: range.count)
        }
        switch family {
        case .recurrent(_, _, _, let range):
            guard let range else { return Array(repeating: steps, count: batch) }
            var lengths = (0..<batch).map { _ in draw(range) }
            lengths[0] = steps
            return lengths
        case .tagger(_, _, let range):
            return (0..<batch).map { _ in draw(range) }
        }
    }

    /// Multiply-add FLOPs of one forward pass over the real (unpadded) steps:
    /// per layer and direction `2 · steps · gates · H · (input + H)`, the input of a layer
    /// after the first being `H · directions`; the tagger adds its output projection.
    var forwardFlops: Double {
        let steps = lengths.reduce(0, +)
        func recurrentFlops(_ kind: CellKind, layers: Int, bidirectional: Bool) -> Double {
            let directions = bidirectional ? 2 : 1
            var total = 0, layerInput = input
            for _ in 0..<layers {
                total += 2 * steps * kind.rawValue * hidden * (layerInput + hidden) * directions
                layerInput = hidden * directions
            }
            return Double(total)
        }
        switch family {
        case .recurrent(let kind, let layers, let bidirectional, _):
            return recurrentFlops(kind, layers: layers, bidirectional: bidirectional)
        case .tagger(_, let tags, _):
            return recurrentFlops(.lstm, layers: 1, bidirectional: true) + Double(2 * steps * 2 * hidden * tags)
        }
    }
}

/// The two timed closures of a config: forward without the tape, and forward + backward
/// of `sum(output)` (plus the optimizer step for the tagger).
struct ModelWorkload {
    let inference: () -> Void
    let train: () -> Void
}

/// Builds the workload of a config, or nil when the layers it needs do not exist yet.
func makeWorkload(_ config: ModelConfig) -> ModelWorkload? {
    switch config.family {
    case .recurrent(let kind, let layers, let bidirectional, let lengthRange):
        return makeRecurrentWorkload(config, kind: kind, layers: layers, bidirectional: bidirectional,
                                     variableLengths: lengthRange != nil)
    case .tagger(let vocabulary, let tags, _):
        return makeTaggerWorkload(config, vocabulary: vocabulary, tags: tags)
    }
}

/// RNN / GRU / LSTM configs.
///
/// TODO: when the recurrent layers land, build here (Float, seeded):
/// `RNN`/`GRU`/`LSTM(inputSize: config.input, hiddenSize: config.hidden, numLayers: layers,
/// bidirectional:, batchFirst: true)`, an input `randn([B, T, I])` with `requiresGrad`, and
/// for variable lengths the `config.lengths` as the batch's lengths. `inference`: the
/// forward in `withoutGradient`. `train`: zero the gradients, forward, `output.sum().backward()`.
func makeRecurrentWorkload(_ config: ModelConfig, kind: CellKind, layers: Int, bidirectional: Bool,
                           variableLengths: Bool) -> ModelWorkload? {
    nil
}

/// The tagger-step config.
///
/// TODO: when Embedding, LSTM, Linear, cross-entropy and Adam land, build here:
/// Embedding(vocabulary, config.input, paddingIndex: 0) → bidirectional LSTM(config.hidden,
/// batchFirst) → Linear(2 · hidden, tags) → cross-entropy with ignoreIndex on padded steps,
/// tokens and tags seeded-random for `config.lengths`. `train` is one full Adam step.
func makeTaggerWorkload(_ config: ModelConfig, vocabulary: Int, tags: Int) -> ModelWorkload? {
    nil
}

/// One timed row of the model benchmarks.
struct ModelResult {
    let config: String
    let threads: Int
    let mode: String
    let medianMilliseconds: Double
    let gflops: Double

    /// The JSON line of the loom-bench contract.
    var jsonLine: String {
        "{\"config\": \"\(config)\", \"threads\": \(threads), \"mode\": \"\(mode)\", "
            + "\"median_ms\": \(rounded(medianMilliseconds, decimals: 3)), \"gflops\": \(rounded(gflops, decimals: 2))}"
    }
}

/// Runs the model configs (all, or the one named by `--config`).
func runModelBenchmarks(_ options: BenchOptions) {
    let configs = ModelConfig.all.filter { options.config == nil || $0.name == options.config }
    if !options.json {
        print("threads: \(options.threads); 2 warm-up runs, then the median of \(options.reps)\n")
        print(padded("config", 18) + padded("mode", 11) + padded("median ms", 12, right: true)
              + padded("GFLOP/s", 10, right: true))
    }
    for config in configs {
        guard let workload = makeWorkload(config) else {
            if options.json {
                FileHandle.standardError.write(Data("loom-bench: \(config.name): not yet available\n".utf8))
            } else {
                print(padded(config.name, 18) + "not yet available")
            }
            continue
        }
        let flops = config.forwardFlops
        // Training does about three times the forward work (forward, and two products per
        // forward product in backward), as in the PyTorch script.
        for (mode, body, multiplier) in [("inference", workload.inference, 1.0), ("train", workload.train, 3.0)] {
            let milliseconds = medianMilliseconds(reps: options.reps, body)
            let result = ModelResult(config: config.name, threads: options.threads, mode: mode,
                                     medianMilliseconds: milliseconds,
                                     gflops: multiplier * flops / milliseconds / 1e6)
            if options.json {
                print(result.jsonLine)
            } else {
                print(padded(config.name, 18) + padded(mode, 11)
                      + padded(formatted(milliseconds, decimals: 3), 12, right: true)
                      + padded(formatted(result.gflops, decimals: 2), 10, right: true))
            }
        }
    }
}
