import Foundation
import Loom

// loom-bench: kernel microbenchmarks (`--kernels`) and the model configs compared with PyTorch.
// See Benchmarks/README.md.

do {
    let options = try BenchOptions.parse(Array(CommandLine.arguments.dropFirst()))
    Threads.defaultCount = options.threads
    InstructionSet.with(options.isa ?? InstructionSet.current) { run(options) }
} catch let error as BenchError {
    if error.isHelp {
        print(error.message)
        exit(0)
    }
    FileHandle.standardError.write(Data("loom-bench: \(error.message)\n".utf8))
    exit(2)
}

/// Runs the benchmarks the options select.
func run(_ options: BenchOptions) {
    if let steps = options.sweepPoint {
        runSweepPoint(steps: steps, options)
    } else if options.sweep {
        runSweep(options)
    } else if options.printLengths {
        for config in ModelConfig.all where options.config == nil || config.name == options.config {
            print("\(config.name) \(config.lengths.map(String.init).joined(separator: " "))")
        }
    } else if options.pointwise {
        runPointwiseBenchmarks(options)
    } else if options.bandwidth {
        runBandwidthBenchmarks(options)
    } else if options.memorySoak {
        runMemorySoak(options)
    } else if options.memory {
        runMemoryBenchmarks(options)
    } else if options.kernels {
        runKernelBenchmarks(options)
    } else {
        runModelBenchmarks(options)
    }
}
