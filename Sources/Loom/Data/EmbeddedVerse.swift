extension EmbeddedDatasets {
    /// The character model's default text: verse with a regular structure — poems with an
    /// upper-case title, stanzas of four lines rhyming ABAB, a blank line between stanzas
    /// and two between poems — about `characterCount` characters (it stops at the end of
    /// the poem that reaches the count). Deterministic for a given `seed`.
    public static func verse(characterCount: Int = 48_000, seed: UInt64 = 0xC4A7) -> String {
        var g = RandomGenerator(seed: seed)
        var text = ""
        while text.unicodeScalars.count < characterCount {
            text += poem(&g)
        }
        return text
    }

    static let rhymeGroups: [[String]] = [
        ["moon", "tune", "noon", "dune", "june"],
        ["night", "light", "flight", "height", "kite"],
        ["sea", "tree", "bee", "key", "lee"],
        ["day", "way", "bay", "clay", "spray"],
        ["rain", "lane", "plain", "chain", "grain"],
        ["hill", "mill", "sill", "rill", "will"],
        ["shore", "door", "floor", "oar", "core"],
        ["stone", "bone", "throne", "cone", "zone"],
    ]
    static let verseNouns = ["river", "wind", "heart", "bird", "star", "rose", "lamb", "ship", "bell", "field", "flame", "cloud"]
    static let verseAdjectives = ["silver", "quiet", "golden", "distant", "gentle", "hollow", "ancient", "tender", "restless", "pale"]
    static let verseVerbs = ["sings", "sleeps", "waits", "turns", "dreams", "falls", "burns", "calls", "drifts", "weeps"]
    static let versePrepositions = ["beneath", "upon", "across", "beyond", "within", "along", "above", "toward"]
    static let verseAdverbs = ["softly", "slowly", "gladly", "always", "never", "still", "once more"]

    /// One poem: a title and two to four stanzas.
    static func poem(_ g: inout RandomGenerator) -> String {
        var text = "THE " + pick(["SONG", "BALLAD", "DREAM", "LAMENT", "HYMN"], &g) + " OF THE "
            + pick(verseNouns, &g).uppercased() + "\n\n"
        let stanzas = 2 + g.nextInt(below: 3)
        for stanza in 0..<stanzas {
            var groups = rhymeGroups
            g.shuffle(&groups)
            var a = groups[0], b = groups[1]
            g.shuffle(&a)
            g.shuffle(&b)
            let ends = [a[0], b[0], a[1], b[1]]
            let punctuation = [",", ";", ",", "."]
            for (index, end) in ends.enumerated() {
                let line = verseLine(ending: end, &g)
                text += line.prefix(1).uppercased() + line.dropFirst() + punctuation[index] + "\n"
            }
            text += stanza + 1 < stanzas ? "\n" : "\n\n"
        }
        return text
    }

    /// One line ending in the word `end`.
    static func verseLine(ending end: String, _ g: inout RandomGenerator) -> String {
        let noun = pick(verseNouns, &g), adjective = pick(verseAdjectives, &g)
        let verb = pick(verseVerbs, &g), preposition = pick(versePrepositions, &g)
        switch g.nextInt(below: 4) {
        case 0: return "the \(adjective) \(noun) \(verb) \(preposition) the \(end)"
        case 1: return "and every \(noun) \(verb) \(pick(verseAdverbs, &g)) \(preposition) the \(end)"
        case 2: return "o \(noun) of the \(adjective) \(end)"
        default: return "while \(noun)s \(verb.dropLast()) \(preposition) the \(adjective) \(end)"
        }
    }
}
