import Foundation

/// Wall-clock time in nanoseconds from a monotonic clock.
@inline(__always)
func monotonicNanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// The median of a non-empty list.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Runs `body` `warmup` times untimed, then `reps` timed times, and returns the median time
/// of one call in milliseconds.
func medianMilliseconds(reps: Int, warmup: Int = 2, _ body: () -> Void) -> Double {
    for _ in 0..<warmup { body() }
    var samples: [Double] = []
    samples.reserveCapacity(reps)
    for _ in 0..<reps {
        let start = monotonicNanoseconds()
        body()
        samples.append(Double(monotonicNanoseconds() - start) / 1e6)
    }
    return median(samples)
}

/// For operations far shorter than a millisecond: each timed sample runs `body` as many
/// times as fill about `sampleMilliseconds`, and the median over `reps` samples of the time
/// per call is returned, in milliseconds.
func medianMillisecondsBatched(reps: Int, sampleMilliseconds: Double = 20, _ body: () -> Void) -> Double {
    body()
    var calls = 1
    while true {
        let start = monotonicNanoseconds()
        for _ in 0..<calls { body() }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e6
        if elapsed >= sampleMilliseconds / 4 || calls >= 1 << 24 {
            calls = max(1, Int(Double(calls) * sampleMilliseconds / max(elapsed, 1e-3)))
            break
        }
        calls *= 4
    }
    var samples: [Double] = []
    samples.reserveCapacity(reps)
    for _ in 0..<reps {
        let start = monotonicNanoseconds()
        for _ in 0..<calls { body() }
        samples.append(Double(monotonicNanoseconds() - start) / 1e6 / Double(calls))
    }
    return median(samples)
}

/// Formats a number with a fixed count of decimals.
func formatted(_ value: Double, decimals: Int) -> String { String(format: "%.\(decimals)f", value) }

/// Rounds for JSON output (3 decimals for times, 2 for rates, like the PyTorch script).
func rounded(_ value: Double, decimals: Int) -> Double {
    let scale = pow(10, Double(decimals))
    return (value * scale).rounded() / scale
}

/// Pads text to a column width (left-aligned, or right-aligned for numbers).
func padded(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
}
