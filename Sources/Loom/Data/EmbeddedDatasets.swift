/// A training and a test part of an embedded dataset.
public struct EmbeddedSplit<Example: Sendable>: Sendable {
    /// The training examples (the `loom` tool holds out the last 10% of them as dev set).
    public var train: [Example]
    /// The test examples (generated with another seed; none repeats a training example).
    public var test: [Example]

    /// A split of `train` and `test` examples.
    public init(train: [Example], test: [Example]) {
        self.train = train
        self.test = test
    }
}

/// The embedded default datasets of the `loom` tool's four examples, generated in code
/// (deterministically, from fixed seeds) so the package ships no third-party data. Each is
/// small enough to train in well under a minute, yet each needs what its model offers:
///
/// - `tagger()`: sentences from a small English grammar tagged with UPOS, where words like
///   "watch", "fish", "can", "like", "that" take different tags depending on their
///   neighbours, so a tagger must use context.
/// - `sentiment()`: template reviews with negation and contrast ("not good but great",
///   "great , not bad"), where pairs of sentences with the same words have opposite
///   labels, so the classifier must use word order.
/// - `verse()`: verse-like text with a regular structure (titles, four-line stanzas,
///   rhymes) for the character language model.
/// - `seasonalSeries()`: a monthly series with trend, yearly seasonality and noise.
public enum EmbeddedDatasets {
    /// Picks a uniformly random element of a non-empty array.
    static func pick<T>(_ items: [T], _ generator: inout RandomGenerator) -> T {
        items[generator.nextInt(below: items.count)]
    }

    /// Whether a draw with probability `p` succeeds.
    static func chance(_ p: Double, _ generator: inout RandomGenerator) -> Bool {
        generator.nextUnit() < p
    }

    /// `count` examples from `make`, then drops every test example that equals a training
    /// one (the test part then has at most `testCount` examples).
    static func split<T: Hashable & Sendable>(trainCount: Int, testCount: Int, trainSeed: UInt64, testSeed: UInt64,
                                              key: (T) -> String, make: (inout RandomGenerator) -> T) -> EmbeddedSplit<T> {
        var trainGenerator = RandomGenerator(seed: trainSeed)
        let train = (0..<trainCount).map { _ in make(&trainGenerator) }
        let seen = Set(train.map(key))
        var testGenerator = RandomGenerator(seed: testSeed)
        let test = (0..<testCount).map { _ in make(&testGenerator) }.filter { !seen.contains(key($0)) }
        return EmbeddedSplit(train: train, test: test)
    }
}
