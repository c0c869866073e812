import Loom
import Foundation

/// The command line of loom-bench.
struct BenchOptions {
    var json = false
    var threads = 1
    var config: String? = nil
    var reps = 7
    var kernels = false
    var sweep = false
    var bandwidth = false
    var pointwise = false
    var memory = false
    var memorySoak = false
    /// The SIMD path to run (`--isa`), or nil for the default (`LOOM_ISA` or the detected one).
    var isa: InstructionSet?
    /// Internal: one point of the sweep, run in a fresh process by `--sweep`.
    var sweepPoint: Int? = nil
    var printLengths = false
    /// Only this mode of the model configs ("inference" or "train"), for profiling.
    var mode: String? = nil

    static let usage = """
        usage: loom-bench [--json] [--threads N] [--config NAME] [--reps R] [--kernels] [--pointwise] [--sweep] [--bandwidth] [--memory] [--memory-soak] [--print-lengths]
          --json        one JSON object per line instead of a table
          --threads N   threads the kernels may use (default 1)
          --config NAME run only this model config (see the list below)
          --reps R      timed repetitions per measurement; the median is reported (default 7)
          --kernels     run the kernel microbenchmarks (gemm) instead of the model configs
          --pointwise   the elementwise work per element: the exp, log, tanh and sigmoid ops, and
                        the fused LSTM, GRU and RNN step kernels on a B32 H128 step
          --sweep       the scaling sweep: BiLSTM(100→128) training, B32, lengths in [T/3, T],
                        T = 50 ... 800, each T in a fresh process (time and peak memory per real step)
          --bandwidth   memory bandwidth (read, copy, triad) against the streaming work of a training
                        step on a 76,487 x 100 embedding (dense Adam, embedding backward, clipGradNorm)
          --memory      the peak memory of one training step above the process's baseline
          --memory-soak 10,000 training steps of tagger-step (or --config), resident size at steps
                        1,000, 5,000 and 10,000 (memory stays flat)
          --isa NAME    run the SIMD path NAME (avx512, avx2, neon, generic) instead of the default
          --mode MODE   time only "inference" or "train" (for profiling)
          --print-lengths  print each config's sequence lengths (to check them against Python's)
        configs: \(ModelConfig.all.map(\.name).joined(separator: ", "))
        """

    /// Parses the arguments; throws a message naming the bad argument.
    static func parse(_ arguments: [String]) throws -> BenchOptions {
        var options = BenchOptions()
        var index = 0
        func value(for flag: String) throws -> String {
            index += 1
            guard index < arguments.count else { throw BenchError("\(flag) needs a value") }
            return arguments[index]
        }
        func positiveInt(for flag: String) throws -> Int {
            let text = try value(for: flag)
            guard let number = Int(text), number > 0 else {
                throw BenchError("\(flag) expects a positive integer, got '\(text)'")
            }
            return number
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--json": options.json = true
            case "--kernels": options.kernels = true
            case "--sweep": options.sweep = true
            case "--bandwidth": options.bandwidth = true
            case "--pointwise": options.pointwise = true
            case "--memory": options.memory = true
            case "--memory-soak": options.memorySoak = true
            case "--isa":
                let name = try value(for: argument)
                guard let path = InstructionSet(rawValue: name) else {
                    throw BenchError("--isa expects one of \(InstructionSet.allCases.map(\.rawValue).joined(separator: ", ")), got '\(name)'")
                }
                options.isa = path
            case "--print-lengths": options.printLengths = true
            case "--mode":
                let mode = try value(for: argument)
                guard mode == "inference" || mode == "train" else {
                    throw BenchError("--mode expects inference or train, got '\(mode)'")
                }
                options.mode = mode
            case "--sweep-point": options.sweepPoint = try positiveInt(for: argument)
            case "--threads": options.threads = try positiveInt(for: argument)
            case "--reps": options.reps = try positiveInt(for: argument)
            case "--config":
                let name = try value(for: argument)
                guard ModelConfig.all.contains(where: { $0.name == name }) else {
                    throw BenchError("unknown config '\(name)'; known: \(ModelConfig.all.map(\.name).joined(separator: ", "))")
                }
                options.config = name
            case "--help", "-h":
                throw BenchError(usage, isHelp: true)
            default:
                throw BenchError("unknown argument '\(argument)'\n\(usage)")
            }
            index += 1
        }
        return options
    }
}

/// A command-line error: printed, then the tool exits non-zero (zero for `--help`).
struct BenchError: Error {
    let message: String
    let isHelp: Bool
    init(_ message: String, isHelp: Bool = false) { self.message = message; self.isHelp = isHelp }
}
