/// Sequences of token ids padded into one rectangular batch.
public struct PaddedBatch: Equatable, Sendable {
    /// The padded values, shape [B, T] (batch first), where T is the longest length in
    /// the batch (0 when every sequence is empty).
    public var values: IntTensor
    /// The real length of each sequence, `lengths.count == B`.
    public var lengths: [Int]

    /// A batch of `values` [B, T] with the real `lengths`.
    public init(values: IntTensor, lengths: [Int]) {
        self.values = values
        self.lengths = lengths
    }
}

/// Deterministic mini-batching: which examples go into which batch, and padding of
/// variable-length sequences. Shuffling uses Loom's `RandomGenerator`, so one seed fixes
/// the order of every epoch.
public enum Batching {
    /// The target value that losses skip (`ignoreIndex` of cross-entropy), used to pad targets.
    public static let ignoreIndex = -100

    /// The example indices `0..<count` in order, cut into batches of `batchSize` (the last
    /// batch may be smaller). `batchSize` must be positive (validate user flags first).
    public static func batchIndices(count: Int, batchSize: Int) -> [[Int]] {
        chunk(Array(0..<max(0, count)), batchSize: batchSize)
    }

    /// The example indices `0..<count` shuffled with `generator` (Fisher–Yates), cut into
    /// batches of `batchSize` (the last one may be smaller). Calling it once per epoch with
    /// one generator gives a new, reproducible order each epoch.
    public static func shuffledBatchIndices(count: Int, batchSize: Int, using generator: inout RandomGenerator) -> [[Int]] {
        var order = Array(0..<max(0, count))
        generator.shuffle(&order)
        return chunk(order, batchSize: batchSize)
    }

    /// `items` cut into consecutive groups of `batchSize` (the last may be smaller).
    public static func chunk<T>(_ items: [T], batchSize: Int) -> [[T]] {
        precondition(batchSize > 0, "Batching: batch size must be positive, got \(batchSize)")
        return stride(from: 0, to: items.count, by: batchSize).map {
            Array(items[$0..<min($0 + batchSize, items.count)])
        }
    }

    /// `sequences` padded with `paddingValue` at the end to the longest one: values
    /// [B, T] with T = the longest length, and the real lengths.
    public static func pad(_ sequences: [[Int]], paddingValue: Int = 0) -> PaddedBatch {
        let lengths = sequences.map(\.count)
        let steps = lengths.max() ?? 0
        var values = [Int](repeating: paddingValue, count: sequences.count * steps)
        for (row, sequence) in sequences.enumerated() {
            for (step, value) in sequence.enumerated() { values[row * steps + step] = value }
        }
        return PaddedBatch(values: IntTensor(shape: [sequences.count, steps], scalars: values), lengths: lengths)
    }

    /// Target sequences (tags, output symbols) padded with `ignoreIndex` (-100), so
    /// `crossEntropy` skips the padding: the loss is masked by the target lengths.
    public static func padTargets(_ targets: [[Int]]) -> PaddedBatch {
        pad(targets, paddingValue: ignoreIndex)
    }
}
