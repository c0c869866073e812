import Foundation
import Loom

// `loom-bench --memory-soak`: memory stays flat over long training. Trains the tagger-step
// config (Embedding → BiLSTM → Linear → masked cross-entropy → Adam) for 10,000 steps and
// reports the resident set size (VmRSS) at steps 1,000, 5,000 and 10,000. A leaked tape
// node, tensor or scratch buffer per step would show as growth between the readings.

/// Runs the soak and prints its readings.
func runMemorySoak(_ options: BenchOptions) {
    let name = options.config ?? "tagger-step"
    guard let config = ModelConfig.all.first(where: { $0.name == name }), let workload = makeWorkload(config) else {
        print("loom-bench --memory-soak: unknown config \(name)")
        return
    }
    let checkpoints: Set<Int> = [1, 1_000, 5_000, 10_000]
    var readings: [(step: Int, megabytes: Double)] = []
    let start = monotonicNow()
    for step in 1...10_000 {
        workload.train()
        if checkpoints.contains(step) {
            readings.append((step, Double(processMemoryKB("VmRSS")) / 1024))
        }
    }
    let seconds = monotonicNow() - start
    if options.json {
        let fields = readings.map { "\"rss_mb_at_\($0.step)\": \(($0.megabytes * 10).rounded() / 10)" }.joined(separator: ", ")
        print("{\"config\": \"\(name)\", \"threads\": \(options.threads), \"steps\": 10000, \(fields)}")
    } else {
        print("\(name): 10,000 training steps in \(String(format: "%.1f", seconds)) s")
        for (step, megabytes) in readings {
            print("  resident after step \(String(step).padding(toLength: 6, withPad: " ", startingAt: 0)) \(String(format: "%.1f", megabytes)) MB")
        }
        if let first = readings.first(where: { $0.step == 1_000 }), let last = readings.last {
            print("  growth from step 1,000 to 10,000: \(String(format: "%+.1f", last.megabytes - first.megabytes)) MB")
        }
    }
}

/// Seconds on a monotonic clock.
private func monotonicNow() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
