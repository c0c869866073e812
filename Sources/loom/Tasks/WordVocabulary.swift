import Loom

/// The word vocabulary of the tagger and the classifier: `<pad>` = 0, `<unk>` = 1, then the
/// training words seen at least `minCount` times, most frequent first.
enum WordVocabulary {
    /// The special entries, in index order.
    static let specials = [SpecialToken.padding, SpecialToken.unknown]

    /// The vocabulary of the words in `sentences`.
    static func counting<Sentences: Sequence>(_ sentences: Sentences, minCount: Int) -> Vocabulary<String>
    where Sentences.Element == [String] {
        Vocabulary(specials: specials, counting: sentences, minCount: minCount, unknown: SpecialToken.unknown)
    }

    /// The vocabulary a checkpoint saved as `entries` (its `entryTexts`).
    static func restore(_ entries: [String], source: String) throws -> Vocabulary<String> {
        try Vocabulary(entries: entries, specialCount: specials.count, unknown: SpecialToken.unknown, source: source)
    }
}
