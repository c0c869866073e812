import Foundation
import Loom

// The scaling sweep: training a BiLSTM(100→128) on a batch of 32 sequences with
// lengths uniform in [T/3, T] (Python's `random.Random(0)`, the first one T), for growing
// T. The time and the memory per real step (per unit of the sum of the lengths) must stay
// flat. Each T runs in a fresh process (`--sweep-point T`), so that the peak resident set
// size (`VmHWM` of /proc/self/status, the kernel's high-water mark) belongs to that T alone.

/// The maximum lengths the sweep visits.
let sweepSteps = [50, 100, 200, 400, 800]

/// What one sweep point measures.
struct SweepPoint {
    let steps: Int
    let realSteps: Int
    let trainMilliseconds: Double
    /// Resident set size after building the layer and the input, before any training, in KB.
    let baselineKB: Int
    /// The peak resident set size of the whole process, in KB.
    let peakKB: Int

    var line: String { "\(steps) \(realSteps) \(trainMilliseconds) \(baselineKB) \(peakKB)" }

    init(steps: Int, realSteps: Int, trainMilliseconds: Double, baselineKB: Int, peakKB: Int) {
        self.steps = steps
        self.realSteps = realSteps
        self.trainMilliseconds = trainMilliseconds
        self.baselineKB = baselineKB
        self.peakKB = peakKB
    }

    init?(line: String) {
        let fields = line.split(separator: " ")
        guard fields.count == 5, let steps = Int(fields[0]), let realSteps = Int(fields[1]),
              let milliseconds = Double(fields[2]), let baseline = Int(fields[3]), let peak = Int(fields[4]) else { return nil }
        self.init(steps: steps, realSteps: realSteps, trainMilliseconds: milliseconds, baselineKB: baseline, peakKB: peak)
    }
}

/// A field of /proc/self/status in KB (`VmHWM`, `VmRSS`), or the peak from `getrusage`
/// (`ru_maxrss`, KB on Linux) where /proc is missing.
func processMemoryKB(_ field: String) -> Int {
    if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
        for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
            let number = line.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces).split(separator: " ").first
            if let number, let value = Int(number) { return value }
        }
    }
    var usage = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    #else
    getrusage(RUSAGE_SELF, &usage)
    #endif
    return Int(usage.ru_maxrss)
}

/// Runs one T of the sweep in this process and prints its `SweepPoint` line.
func runSweepPoint(steps: Int, _ options: BenchOptions) {
    let batch = 32, input = 100, hidden = 128
    let lengths = pythonLengths(batch: batch, range: (steps / 3)...steps, firstLength: steps)
    var generator = RandomGenerator(seed: 0)
    let x = Tensor<Float>.randn([batch, steps, input], using: &generator).requiringGrad()
    let layer = LSTM<Float>(inputSize: input, hiddenSize: hidden, batchFirst: true, bidirectional: true, using: &generator)
    let parameters = layer.parameters()
    let baseline = processMemoryKB("VmRSS")
    let milliseconds = medianMilliseconds(reps: options.reps) {
        for parameter in parameters { parameter.zeroGrad() }
        x.zeroGrad()
        try! layer.forward(x, lengths: lengths, using: &generator).output.sum().backward()
    }
    let point = SweepPoint(steps: steps, realSteps: lengths.reduce(0, +), trainMilliseconds: milliseconds,
                           baselineKB: baseline, peakKB: processMemoryKB("VmHWM"))
    print(point.line)
}

/// The path of this executable, to start the sweep points in fresh processes.
private func executablePath() -> String {
    if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
    let argument = CommandLine.arguments[0]
    return argument.hasPrefix("/") ? argument : FileManager.default.currentDirectoryPath + "/" + argument
}

/// Runs every T of the sweep, each in a child process, and prints the table.
func runSweep(_ options: BenchOptions) {
    print("sweep: BiLSTM(100→128) train (forward + backward of sum(output)), B32, lengths uniform in [T/3, T] "
          + "(Python random.Random(0)), the first T; threads \(options.threads), median of \(options.reps) after 2 warm-ups;")
    print("each T in a fresh process; peak = VmHWM (/proc/self/status), extra = peak - RSS before training\n")
    print(padded("T", 6, right: true) + padded("real steps", 12, right: true) + padded("train ms", 11, right: true)
          + padded("µs/real step", 14, right: true) + padded("peak MB", 10, right: true)
          + padded("extra MB", 10, right: true) + padded("KB/real step", 14, right: true))
    for steps in sweepSteps {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executablePath())
        process.arguments = ["--sweep-point", String(steps), "--threads", String(options.threads), "--reps", String(options.reps)]
        let pipe = Pipe()
        process.standardOutput = pipe
        do {
            try process.run()
        } catch {
            print("T=\(steps): could not start a child process: \(error)")
            continue
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard process.terminationStatus == 0, let point = SweepPoint(line: text) else {
            print("T=\(steps): the child process failed (status \(process.terminationStatus)): \(text)")
            continue
        }
        let extraKB = point.peakKB - point.baselineKB
        print(padded(String(point.steps), 6, right: true) + padded(String(point.realSteps), 12, right: true)
              + padded(formatted(point.trainMilliseconds, decimals: 2), 11, right: true)
              + padded(formatted(point.trainMilliseconds * 1000 / Double(point.realSteps), decimals: 2), 14, right: true)
              + padded(formatted(Double(point.peakKB) / 1024, decimals: 1), 10, right: true)
              + padded(formatted(Double(extraKB) / 1024, decimals: 1), 10, right: true)
              + padded(formatted(Double(extraKB) / Double(point.realSteps), decimals: 2), 14, right: true))
    }
}
