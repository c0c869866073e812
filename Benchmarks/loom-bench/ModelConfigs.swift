import Foundation
import Loom

// The model configs compared with PyTorch (the "loom-bench --json" contract), their FLOP counts (the
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
        /// An LSTM cell spelled out from ops, looped over time in Swift (eager op speed).
        case customLoop
        /// An LSTM cell (optionally layer-normalized) written as a `RecurrentCell` and run by
        /// `Recurrence`; `lengthRange` as for `.recurrent`.
        case customCell(layerNorm: Bool, lengthRange: ClosedRange<Int>?)
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
        ModelConfig(name: "custom-loop-lstm-small", batch: 32, steps: 50, input: 64, hidden: 128,
                    family: .customLoop),
        ModelConfig(name: "custom-lstm-small", batch: 32, steps: 50, input: 64, hidden: 128,
                    family: .customCell(layerNorm: false, lengthRange: nil)),
        ModelConfig(name: "custom-lnlstm-packed", batch: 32, steps: 50, input: 64, hidden: 128,
                    family: .customCell(layerNorm: true, lengthRange: 10...50)),
    ]

    /// The sequence lengths of the batch, exactly as `tools/pytorch_bench.py` draws them:
    /// all T for a plain batch; otherwise Python's `random.Random(0)`, one `randint(lo, hi)`
    /// per sequence, and for recurrent configs the first one forced to T.
    var lengths: [Int] {
        switch family {
        case .customLoop:
            return Array(repeating: steps, count: batch)
        case .recurrent(_, _, _, let range), .customCell(_, let range):
            guard let range else { return Array(repeating: steps, count: batch) }
            return pythonLengths(batch: batch, range: range, firstLength: steps)
        case .tagger(_, _, let range):
            return pythonLengths(batch: batch, range: range, firstLength: nil)
        }
    }

    /// The padded time axis of the batch: T, or for the tagger the longest length (as the
    /// PyTorch script pads to `max(lengths)`).
    var paddedSteps: Int {
        switch family {
        case .recurrent, .customLoop, .customCell: return steps
        case .tagger: return lengths.max() ?? 0
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
        case .customLoop, .customCell:
            return recurrentFlops(.lstm, layers: 1, bidirectional: false)
        }
    }
}

/// The two timed closures of a config: forward without the tape, and forward + backward
/// of `sum(output)` (plus the optimizer step for the tagger).
struct ModelWorkload {
    let inference: () -> Void
    let train: () -> Void
}

extension ModelWorkload {
    /// `forward` without the tape, and for training: clear the gradients of `parameters`
    /// and `input`, then backpropagate `sum(forward())`.
    init(sumOf forward: @escaping () -> Tensor<Float>, input: Tensor<Float>, parameters: [Tensor<Float>]) {
        self.init(
            inference: { withoutGradient { _ = forward() } },
            train: {
                for parameter in parameters { parameter.zeroGrad() }
                input.zeroGrad()
                forward().sum().backward()
            })
    }
}

/// `random.Random(0)`, `[rng.randint(lo, hi) for _ in range(batch)]`, then `lengths[0] =
/// firstLength` when given: the lengths of `tools/pytorch_bench.py`.
func pythonLengths(batch: Int, range: ClosedRange<Int>, firstLength: Int?) -> [Int] {
    var generator = PythonRandom(seed: 0)
    var lengths = (0..<batch).map { _ in generator.randint(range.lowerBound, range.upperBound) }
    if let firstLength, !lengths.isEmpty { lengths[0] = firstLength }
    return lengths
}

/// Builds the workload of a config, or nil when the layers it needs do not exist yet.
func makeWorkload(_ config: ModelConfig) -> ModelWorkload? {
    switch config.family {
    case .recurrent(let kind, let layers, let bidirectional, let lengthRange):
        return makeRecurrentWorkload(config, kind: kind, layers: layers, bidirectional: bidirectional,
                                     variableLengths: lengthRange != nil)
    case .tagger(let vocabulary, let tags, _):
        return makeTaggerWorkload(config, vocabulary: vocabulary, tags: tags)
    case .customLoop:
        return makeCustomLoopWorkload(config)
    case .customCell(let layerNorm, _):
        return makeCustomCellWorkload(config, layerNorm: layerNorm)
    }
}

/// RNN / GRU / LSTM configs: the layer (Float, seeded) on a `randn([B, T, I])` input that
/// requires a gradient, as in the PyTorch script. Fixed-length configs run without
/// lengths (PyTorch runs them unpacked); variable-length ones pass `config.lengths`.
/// `inference`: the forward under `withoutGradient`. `train`: clear the gradients (of the
/// parameters and of x, like `zero_grad(set_to_none=True)` and `x.grad = None`), forward,
/// `output.sum().backward()`.
func makeRecurrentWorkload(_ config: ModelConfig, kind: CellKind, layers: Int, bidirectional: Bool,
                           variableLengths: Bool) -> ModelWorkload? {
    var generator = RandomGenerator(seed: 0)
    let x = Tensor<Float>.randn([config.batch, config.steps, config.input], using: &generator).requiringGrad()
    let lengths: [Int]? = variableLengths ? config.lengths : nil
    let forward: () -> Tensor<Float>
    let parameters: [Tensor<Float>]
    switch kind {
    case .lstm:
        let layer = LSTM<Float>(inputSize: config.input, hiddenSize: config.hidden, numLayers: layers,
                                batchFirst: true, bidirectional: bidirectional, using: &generator)
        forward = { try! layer.forward(x, lengths: lengths, using: &generator).output }
        parameters = layer.parameters()
    case .gru:
        let layer = GRU<Float>(inputSize: config.input, hiddenSize: config.hidden, numLayers: layers,
                               batchFirst: true, bidirectional: bidirectional, using: &generator)
        forward = { try! layer.forward(x, lengths: lengths, using: &generator).output }
        parameters = layer.parameters()
    case .rnn:
        let layer = RNN<Float>(inputSize: config.input, hiddenSize: config.hidden, numLayers: layers,
                               nonlinearity: .tanh, batchFirst: true, bidirectional: bidirectional, using: &generator)
        forward = { try! layer.forward(x, lengths: lengths, using: &generator).output }
        parameters = layer.parameters()
    }
    return ModelWorkload(sumOf: forward, input: x, parameters: parameters)
}

/// The model of the tagger-step config: Embedding → bidirectional LSTM → Linear.
struct BenchTagger: Module {
    var embedding: Embedding<Float>
    var lstm: LSTM<Float>
    var linear: Linear<Float>

    mutating func visit(_ visitor: ModuleVisitor<Float>) {
        visitor.module("embedding", &embedding)
        visitor.module("lstm", &lstm)
        visitor.module("linear", &linear)
    }

    /// The logits `[B, T, tags]` of a padded token batch `[B, T]` with its lengths.
    func logits(_ tokens: IntTensor, lengths: [Int], using generator: inout RandomGenerator) -> Tensor<Float> {
        let embedded = embedding(tokens)
        let output = try! lstm.forward(embedded, lengths: lengths, using: &generator).output
        return linear(output)
    }
}

/// The tagger-step config: Embedding(vocabulary, config.input, paddingIndex: 0) →
/// bidirectional LSTM(config.hidden, batchFirst) → Linear(2 · hidden, tags) → cross-entropy
/// with ignoreIndex -100 over `[B·T, tags]`; tokens random in `1..<vocabulary` and tags in
/// `0..<tags` on the real steps, 0 and -100 past each length (the PyTorch script's layout;
/// the token values themselves differ). `train` is one full Adam (lr 1e-3) step, gradients
/// cleared first; `inference` the logits without the tape.
func makeTaggerWorkload(_ config: ModelConfig, vocabulary: Int, tags: Int) -> ModelWorkload? {
    var generator = RandomGenerator(seed: 0)
    let lengths = config.lengths
    let batch = config.batch, time = config.paddedSteps
    var tokenValues = [Int](repeating: 0, count: batch * time)
    var tagValues = [Int](repeating: -100, count: batch * time)
    for (b, length) in lengths.enumerated() {
        for t in 0..<length {
            tokenValues[b * time + t] = 1 + generator.nextInt(below: vocabulary - 1)
            tagValues[b * time + t] = generator.nextInt(below: tags)
        }
    }
    let tokens = IntTensor(shape: [batch, time], scalars: tokenValues)
    let targets = IntTensor(shape: [batch * time], scalars: tagValues)
    var model = BenchTagger(
        embedding: Embedding(vocabulary, config.input, paddingIndex: 0, using: &generator),
        lstm: LSTM(inputSize: config.input, hiddenSize: config.hidden, batchFirst: true, bidirectional: true, using: &generator),
        linear: Linear(2 * config.hidden, tags, using: &generator))
    var optimizer = Adam<Float>(learningRate: 1e-3)
    return ModelWorkload(
        inference: { withoutGradient { _ = model.logits(tokens, lengths: lengths, using: &generator) } },
        train: {
            model.zeroGrad()
            let logits = model.logits(tokens, lengths: lengths, using: &generator)
            crossEntropy(logits.reshaped([batch * time, tags]), targets, ignoreIndex: -100).backward()
            optimizer.step(&model)
        })
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
        for (mode, body, multiplier) in [("inference", workload.inference, 1.0), ("train", workload.train, 3.0)]
            where options.mode == nil || options.mode == mode {
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
