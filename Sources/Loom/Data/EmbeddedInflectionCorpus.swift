extension EmbeddedDatasets {
    /// The lemmatizer's default corpus: `trainCount` training and up to `testCount` test
    /// sentences (test sentences identical to a training sentence are dropped) with UPOS
    /// tags and lemmas, from an invented English-like lexicon inflected by English spelling
    /// rules (plural `-s`/`-es`/`-ies`, `-ed`/`-ing` with e-dropping and y-to-i, `-er`/`-est`,
    /// a few irregular forms, a capital at the start of a sentence). The stems are made-up
    /// syllables, so a lemmatizer must learn the rules rather than a word list, and test
    /// sentences use inflections of the stems that training never showed. Deterministic.
    public static func inflections(trainCount: Int = 600, testCount: Int = 200) -> EmbeddedSplit<TaggedSentence> {
        let lexicon = InflectionLexicon()
        return split(trainCount: trainCount, testCount: testCount, trainSeed: 0x1E44A, testSeed: 0x7E57A,
                     key: { $0.words.joined(separator: " ") }, make: lexicon.sentence)
    }
}

/// The invented lexicon of `EmbeddedDatasets.inflections` and its inflection rules.
struct InflectionLexicon: Sendable {
    let nouns: [String]
    let verbs: [String]
    let adjectives: [String]

    static let onsets = ["b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w",
                         "br", "cl", "dr", "gr", "pl", "st", "tr", "sp", "fl"]
    static let vowels = ["a", "e", "i", "o", "u", "ai", "ea", "oo", "ou"]
    static let codas = ["", "n", "t", "m", "l", "r", "p", "ck", "sh", "x", "s", "nd", "rk", "y", "e", "ch"]
    static let irregularNouns = [("child", "children"), ("mouse", "mice"), ("man", "men"), ("foot", "feet"), ("tooth", "teeth")]
    static let irregularVerbs = [("go", "went", "gone"), ("see", "saw", "seen"), ("take", "took", "taken"),
                                 ("write", "wrote", "written"), ("run", "ran", "run"), ("eat", "ate", "eaten")]
    static let names = ["Anna", "Tom", "Maria", "Ben", "Lena", "Omar"]
    /// Function words as (form, UPOS, lemma).
    static let determiners = [("the", "DET", "the"), ("a", "DET", "a"), ("this", "DET", "this"), ("these", "DET", "this"),
                              ("those", "DET", "that")]
    static let pronouns = [("she", "PRON", "she"), ("her", "PRON", "she"), ("they", "PRON", "they"), ("them", "PRON", "they"),
                           ("him", "PRON", "he"), ("we", "PRON", "we"), ("us", "PRON", "we")]
    static let auxiliaries = [("is", "AUX", "be"), ("was", "AUX", "be"), ("were", "AUX", "be"), ("has", "AUX", "have"),
                              ("had", "AUX", "have")]
    static let adpositions = [("in", "ADP", "in"), ("near", "ADP", "near"), ("with", "ADP", "with")]

    init() {
        var generator = RandomGenerator(seed: 0x1E8)
        var seen = Set<String>()
        func stems(_ count: Int) -> [String] {
            var result: [String] = []
            while result.count < count {
                var stem = EmbeddedDatasets.pick(Self.onsets, &generator) + EmbeddedDatasets.pick(Self.vowels, &generator)
                if EmbeddedDatasets.chance(0.4, &generator) {
                    stem += EmbeddedDatasets.pick(["n", "r", "l", "m", "st", "t"], &generator)
                        + EmbeddedDatasets.pick(Self.onsets, &generator) + EmbeddedDatasets.pick(Self.vowels, &generator)
                }
                stem += EmbeddedDatasets.pick(Self.codas, &generator)
                if seen.insert(stem).inserted { result.append(stem) }
            }
            return result
        }
        nouns = stems(160)
        verbs = stems(120)
        adjectives = stems(50)
    }

    static func isVowel(_ c: Character) -> Bool { "aeiou".contains(c) }

    /// `-s`, `-es` after a sibilant, `-ies` for a consonant and y.
    static func sibilantOrY(_ stem: String, plain: String, sibilant: String, y: String) -> String {
        let letters = Array(stem)
        if stem.hasSuffix("s") || stem.hasSuffix("x") || stem.hasSuffix("sh") || stem.hasSuffix("ch") { return stem + sibilant }
        if letters.count >= 2 && letters.last == "y" && !isVowel(letters[letters.count - 2]) { return String(letters.dropLast()) + y }
        return stem + plain
    }

    /// `-ed`/`-ing` (or `-er`/`-est`) with a final e dropped and a consonant's y turned to i.
    static func suffixed(_ stem: String, _ suffix: String) -> String {
        let letters = Array(stem)
        if letters.last == "e" { return String(letters.dropLast()) + suffix }
        if suffix != "ing" && letters.count >= 2 && letters.last == "y" && !isVowel(letters[letters.count - 2]) {
            return String(letters.dropLast()) + "i" + suffix
        }
        return stem + suffix
    }

    /// A noun token: a stem or an irregular noun, singular or plural.
    func noun(_ generator: inout RandomGenerator) -> (String, String, String) {
        if EmbeddedDatasets.chance(0.08, &generator) {
            let (singular, plural) = EmbeddedDatasets.pick(Self.irregularNouns, &generator)
            return (EmbeddedDatasets.chance(0.5, &generator) ? plural : singular, "NOUN", singular)
        }
        let stem = EmbeddedDatasets.pick(nouns, &generator)
        let form = EmbeddedDatasets.chance(0.5, &generator) ? Self.sibilantOrY(stem, plain: "s", sibilant: "es", y: "ies") : stem
        return (form, "NOUN", stem)
    }

    /// A verb token: a stem or an irregular verb, in one of its forms.
    func verb(_ generator: inout RandomGenerator) -> (String, String, String) {
        if EmbeddedDatasets.chance(0.1, &generator) {
            let (base, past, participle) = EmbeddedDatasets.pick(Self.irregularVerbs, &generator)
            return (EmbeddedDatasets.pick([base, past, participle, Self.suffixed(base, "ing")], &generator), "VERB", base)
        }
        let stem = EmbeddedDatasets.pick(verbs, &generator)
        let forms = [stem, Self.sibilantOrY(stem, plain: "s", sibilant: "es", y: "ies"), Self.suffixed(stem, "ed"),
                     Self.suffixed(stem, "ing")]
        return (EmbeddedDatasets.pick(forms, &generator), "VERB", stem)
    }

    /// An adjective token: plain, comparative or superlative.
    func adjective(_ generator: inout RandomGenerator) -> (String, String, String) {
        let stem = EmbeddedDatasets.pick(adjectives, &generator)
        let forms = [stem, stem, Self.suffixed(stem, "er"), Self.suffixed(stem, "est")]
        return (EmbeddedDatasets.pick(forms, &generator), "ADJ", stem)
    }

    /// A noun phrase: a determiner, maybe an adjective, a noun; or a pronoun or a name.
    func nounPhrase(_ generator: inout RandomGenerator) -> [(String, String, String)] {
        switch generator.nextInt(below: 6) {
        case 0: return [EmbeddedDatasets.pick(Self.pronouns, &generator)]
        case 1: let name = EmbeddedDatasets.pick(Self.names, &generator); return [(name, "PROPN", name)]
        case 2, 3: return [EmbeddedDatasets.pick(Self.determiners, &generator), adjective(&generator), noun(&generator)]
        default: return [EmbeddedDatasets.pick(Self.determiners, &generator), noun(&generator)]
        }
    }

    /// One sentence: subject, maybe an auxiliary, verb, object, maybe a prepositional
    /// phrase, a full stop; the first word capitalized (its lemma keeps its case rules).
    func sentence(_ generator: inout RandomGenerator) -> TaggedSentence {
        var tokens = nounPhrase(&generator)
        if EmbeddedDatasets.chance(0.3, &generator) { tokens.append(EmbeddedDatasets.pick(Self.auxiliaries, &generator)) }
        tokens.append(verb(&generator))
        tokens += nounPhrase(&generator)
        if EmbeddedDatasets.chance(0.4, &generator) {
            tokens.append(EmbeddedDatasets.pick(Self.adpositions, &generator))
            tokens += nounPhrase(&generator)
        }
        tokens.append((".", "PUNCT", "."))
        if let first = tokens.first, first.1 != "PROPN" {
            tokens[0].0 = first.0.prefix(1).uppercased() + first.0.dropFirst()
        }
        return TaggedSentence(words: tokens.map(\.0), tags: tokens.map(\.1), lemmas: tokens.map(\.2))
    }
}
