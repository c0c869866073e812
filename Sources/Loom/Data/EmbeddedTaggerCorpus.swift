extension EmbeddedDatasets {
    /// The tagger's default corpus: `trainCount` training and up to `testCount` test
    /// sentences (test sentences identical to a training sentence are dropped), tagged
    /// with UPOS, from a small grammar with ambiguous words. Deterministic.
    public static func tagger(trainCount: Int = 700, testCount: Int = 200) -> EmbeddedSplit<TaggedSentence> {
        split(trainCount: trainCount, testCount: testCount, trainSeed: 0x7A66, testSeed: 0x7E57,
              key: { $0.words.joined(separator: " ") }, make: taggerSentence)
    }

    /// `count` sentences of the tagger grammar drawn with `seed`.
    public static func taggerSentences(count: Int, seed: UInt64) -> [TaggedSentence] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in taggerSentence(&generator) }
    }

    // Word classes. The ambiguous ones are the point: a noun after a determiner or an
    // adjective, a verb after a subject, a modal or "to".
    static let ambiguousTransitive = ["watch", "book", "light", "play", "cook", "drink", "ring"]
    static let ambiguousIntransitive = ["fish", "run", "duck", "dance", "walk", "play", "cook", "drink"]
    static let ambiguousThirdPerson = ["watches", "books", "lights", "plays", "cooks", "drinks", "rings", "runs", "walks", "dances"]
    static let plainNouns = ["man", "dog", "girl", "boy", "teacher", "bird", "room", "lake", "table", "car", "garden", "city"]
    static let ambiguousNouns = ["watch", "book", "light", "play", "drink", "ring", "fish", "run", "duck", "dance", "walk", "can"]
    static let pluralNouns = ["kids", "dogs", "birds", "teachers", "friends", "students", "watches", "books", "ducks", "cans", "lights"]
    static let subjectPluralNouns = ["kids", "dogs", "birds", "teachers", "friends", "students"]
    static let subjectPronouns = ["i", "we", "they", "you"]
    static let names = ["Anna", "Tom", "Maria", "Ben"]
    static let determiners = ["the", "a", "this", "that"]
    static let pluralDeterminers = ["the", "these", "those"]
    static let adjectives = ["old", "new", "small", "big", "red", "quiet", "empty", "broken", "heavy", "bright"]
    static let modals = ["can", "will", "should", "must", "might"]
    static let prepositions = ["in", "near", "on", "under", "with", "by"]
    static let adverbs = ["often", "always", "quickly", "today", "here"]
    static let numbers = ["two", "three", "five"]
    static let plainThirdPerson = ["sleeps", "sits", "waits", "stands", "smiles"]
    static let wantVerbs = ["like", "want", "love", "need", "hate"]
    static let thinkVerbs = ["think", "know", "say", "hope"]
    static let seemVerbs = ["looks", "sounds", "seems"]

    /// Builds one tagged sentence word by word.
    struct SentenceBuilder {
        var words: [String] = []
        var tags: [String] = []
        mutating func add(_ word: String, _ tag: String) {
            words.append(word)
            tags.append(tag)
        }
    }

    /// One sentence of the grammar.
    static func taggerSentence(_ g: inout RandomGenerator) -> TaggedSentence {
        var s = SentenceBuilder()
        switch g.nextInt(below: 8) {
        case 0: // SUBJ [ADV] V OBJ [PP] .    "we often watch the old duck near the lake ."
            pluralSubject(&s, &g)
            if chance(0.3, &g) { s.add(pick(adverbs, &g), "ADV") }
            let verb = chance(0.7, &g) ? pick(ambiguousTransitive, &g) : pick(wantVerbs, &g)
            s.add(verb, "VERB")
            object(&s, &g)
            if chance(0.4, &g) { prepositionalPhrase(&s, &g) }
        case 1: // SUBJ MODAL [not] V [ADV] .   "the dog can run quickly ."
            anySubject(&s, &g)
            s.add(pick(modals, &g), "AUX")
            if chance(0.3, &g) { s.add("not", "PART") }
            s.add(pick(ambiguousIntransitive, &g), "VERB")
            if chance(0.4, &g) { s.add(pick(adverbs, &g), "ADV") }
        case 2: // DET [ADJ] N be [not] ADJ .   "the can is not empty ."
            nounPhrase(&s, &g, nouns: ambiguousNouns)
            s.add(chance(0.5, &g) ? "is" : "was", "AUX")
            if chance(0.3, &g) { s.add("not", "PART") }
            s.add(pick(adjectives, &g), "ADJ")
        case 3: // SUBJ like to V [PP] .   "i like to fish in the lake ."
            pluralSubject(&s, &g)
            s.add(pick(wantVerbs, &g), "VERB")
            s.add("to", "PART")
            s.add(pick(ambiguousIntransitive, &g), "VERB")
            if chance(0.5, &g) { prepositionalPhrase(&s, &g) }
        case 4: // it looks like a duck .
            let subject = pick(["it", "this", "that"], &g)
            s.add(subject, "PRON")
            s.add(pick(seemVerbs, &g), "VERB")
            s.add("like", "ADP")
            nounPhrase(&s, &g, nouns: ambiguousNouns + plainNouns)
        case 5: // SUBJ think that CLAUSE .
            s.add(pick(subjectPronouns, &g), "PRON")
            s.add(pick(thinkVerbs, &g), "VERB")
            s.add("that", "SCONJ")
            if chance(0.5, &g) {
                anySubject(&s, &g)
                s.add(pick(modals, &g), "AUX")
                s.add(pick(ambiguousIntransitive, &g), "VERB")
            } else {
                nounPhrase(&s, &g, nouns: plainNouns)
                s.add(pick(ambiguousThirdPerson, &g), "VERB")
                object(&s, &g)
            }
        case 6: // they run and we watch .
            s.add(pick(subjectPronouns, &g), "PRON")
            s.add(pick(ambiguousIntransitive, &g), "VERB")
            s.add(chance(0.5, &g) ? "and" : "but", "CCONJ")
            s.add(pick(subjectPronouns, &g), "PRON")
            s.add(pick(ambiguousTransitive, &g), "VERB")
            if chance(0.5, &g) { object(&s, &g) }
        default: // the man watches two ducks [PP] .  /  the girl sleeps near the can .
            nounPhrase(&s, &g, nouns: plainNouns)
            if chance(0.6, &g) {
                s.add(pick(ambiguousThirdPerson, &g), "VERB")
                object(&s, &g)
            } else {
                s.add(pick(plainThirdPerson, &g), "VERB")
                prepositionalPhrase(&s, &g)
            }
        }
        s.add(".", "PUNCT")
        return TaggedSentence(words: s.words, tags: s.tags)
    }

    /// A subject that takes a verb's base form: a pronoun, a name pair, or a plural noun phrase.
    static func pluralSubject(_ s: inout SentenceBuilder, _ g: inout RandomGenerator) {
        switch g.nextInt(below: 4) {
        case 0, 1: s.add(pick(subjectPronouns, &g), "PRON")
        case 2:
            s.add(pick(names, &g), "PROPN")
            s.add("and", "CCONJ")
            s.add(pick(names, &g), "PROPN")
        default:
            s.add(pick(pluralDeterminers, &g), "DET")
            if chance(0.4, &g) { s.add(pick(adjectives, &g), "ADJ") }
            s.add(pick(subjectPluralNouns, &g), "NOUN")
        }
    }

    /// A subject for a modal: a plural subject, a name or a singular noun phrase.
    static func anySubject(_ s: inout SentenceBuilder, _ g: inout RandomGenerator) {
        switch g.nextInt(below: 3) {
        case 0: pluralSubject(&s, &g)
        case 1: s.add(pick(names, &g), "PROPN")
        default: nounPhrase(&s, &g, nouns: plainNouns)
        }
    }

    /// DET [ADJ] NOUN.
    static func nounPhrase(_ s: inout SentenceBuilder, _ g: inout RandomGenerator, nouns: [String]) {
        s.add(pick(determiners, &g), "DET")
        if chance(0.4, &g) { s.add(pick(adjectives, &g), "ADJ") }
        s.add(pick(nouns, &g), "NOUN")
    }

    /// An object: a singular noun phrase (often an ambiguous noun), NUM + plural, or a name.
    static func object(_ s: inout SentenceBuilder, _ g: inout RandomGenerator) {
        switch g.nextInt(below: 5) {
        case 0, 1, 2: nounPhrase(&s, &g, nouns: ambiguousNouns + plainNouns)
        case 3:
            s.add(pick(numbers, &g), "NUM")
            s.add(pick(pluralNouns, &g), "NOUN")
        default: s.add(pick(names, &g), "PROPN")
        }
    }

    /// ADP DET [ADJ] NOUN.
    static func prepositionalPhrase(_ s: inout SentenceBuilder, _ g: inout RandomGenerator) {
        s.add(pick(prepositions, &g), "ADP")
        nounPhrase(&s, &g, nouns: ambiguousNouns + plainNouns)
    }
}
