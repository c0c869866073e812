/// Holding out part of a training set as a development (validation) set.
public enum TrainDevSplit {
    /// The number of examples held out from `count` for a `fraction` (0...1): the fraction
    /// rounded down, but at least 1 when `count` ≥ 2 and `fraction` > 0, so the dev set is
    /// never empty while the training set keeps at least one example.
    public static func devCount(of count: Int, fraction: Double = 0.1) -> Int {
        guard count >= 2, fraction > 0 else { return 0 }
        let raw = Int((Double(count) * min(fraction, 1)).rounded(.down))
        return min(max(raw, 1), count - 1)
    }

    /// `items` split in file order: the first part for training and the LAST `fraction`
    /// (10% by default; see `devCount(of:fraction:)` for rounding) as the dev set, as
    /// `loom train --dev` defaults to (5,000 lines give 4,500 train and 500 dev).
    public static func splitLast<T>(_ items: [T], fraction: Double = 0.1) -> (train: [T], dev: [T]) {
        let dev = devCount(of: items.count, fraction: fraction)
        let cut = items.count - dev
        return (Array(items[..<cut]), Array(items[cut...]))
    }
}
