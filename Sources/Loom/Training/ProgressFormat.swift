/// Text for training progress: durations, rates and the progress line of the `loom` tool.
/// Pure functions of their inputs, so they can be tested without a clock or a terminal.
package enum ProgressFormat {
    /// A duration for people: `0.4s`, `12.3s`, `2m05s`, `1h02m`. Negative or non-finite
    /// durations give `--`.
    package static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--" }
        if seconds < 60 { return "\(fixed(seconds, decimals: 1))s" }
        let whole = Int(seconds.rounded())
        if whole < 3600 { return "\(whole / 60)m\(twoDigits(whole % 60))s" }
        return "\(whole / 3600)h\(twoDigits((whole % 3600) / 60))m"
    }

    /// A rate with a unit per second and thousands shortened: `850 tokens/s`,
    /// `12.4k tokens/s`, `3.10M tokens/s`.
    package static func rate(_ perSecond: Double, unit: String) -> String {
        guard perSecond.isFinite, perSecond >= 0 else { return "-- \(unit)/s" }
        if perSecond >= 1_000_000 { return "\(fixed(perSecond / 1_000_000, decimals: 2))M \(unit)/s" }
        if perSecond >= 1_000 { return "\(fixed(perSecond / 1_000, decimals: 1))k \(unit)/s" }
        return "\(fixed(perSecond, decimals: 0)) \(unit)/s"
    }

    /// `value` with exactly `decimals` digits after the point (no Foundation formatting,
    /// so the text is the same under every locale). Non-finite values print as Swift does.
    package static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite else { return "\(value)" }
        var scale = 1.0
        for _ in 0..<max(0, decimals) { scale *= 10 }
        let scaled = (abs(value) * scale).rounded()
        guard scaled < 9e15 else { return "\(value)" }
        let units = Int64(scaled)
        let integer = units / Int64(scale)
        let fraction = units % Int64(scale)
        let sign = value < 0 && units != 0 ? "-" : ""
        guard decimals > 0 else { return "\(sign)\(integer)" }
        let fractionDigits = String(fraction)
        return "\(sign)\(integer).\(String(repeating: "0", count: decimals - fractionDigits.count))\(fractionDigits)"
    }

    /// The estimated time left when `done` of `total` steps took `elapsed` seconds
    /// (linear extrapolation); nil before the first step.
    package static func timeLeft(elapsed: Double, done: Int, total: Int) -> Double? {
        guard done > 0, total >= done else { return nil }
        return elapsed / Double(done) * Double(total - done)
    }

    /// The progress line:
    /// `epoch 2/5  step 120/390  loss 0.4321  12.3k tokens/s  left 1m23s`.
    package static func progressLine(epoch: Int, epochs: Int, step: Int, steps: Int, loss: Double,
                                    itemsPerSecond: Double, unit: String, secondsLeft: Double?) -> String {
        "epoch \(epoch)/\(epochs)  step \(step)/\(steps)  loss \(fixed(loss, decimals: 4))  "
            + "\(rate(itemsPerSecond, unit: unit))  left \(secondsLeft.map(duration) ?? "--")"
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
