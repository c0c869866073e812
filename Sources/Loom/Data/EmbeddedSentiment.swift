extension EmbeddedDatasets {
    /// The classifier's default data: `trainCount` training and up to `testCount` test
    /// reviews (label 1 positive, 0 negative; test texts identical to a training text are
    /// dropped), generated from templates with negation and contrast. Deterministic.
    public static func sentiment(trainCount: Int = 1200, testCount: Int = 300) -> EmbeddedSplit<LabeledExample> {
        split(trainCount: trainCount, testCount: testCount, trainSeed: 0x5E47, testSeed: 0x5E48,
              key: { $0.text }, make: sentimentExample)
    }

    /// `count` reviews of the sentiment templates drawn with `seed`.
    public static func sentimentExamples(count: Int, seed: UInt64) -> [LabeledExample] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in sentimentExample(&generator) }
    }

    static let positiveWords = ["good", "great", "wonderful", "excellent", "fun", "lovely", "brilliant", "charming"]
    static let negativeWords = ["bad", "awful", "boring", "terrible", "dull", "weak", "poor", "silly"]
    static let reviewSubjects = ["the movie", "the film", "the plot", "the acting", "the music", "the story",
                                 "the ending", "this show", "the cast", "the script"]
    static let intensifiers = ["very", "really", "quite", "truly"]

    /// One review with its label.
    static func sentimentExample(_ g: inout RandomGenerator) -> LabeledExample {
        let positive = chance(0.5, &g)
        func word(_ isPositive: Bool) -> String { pick(isPositive ? positiveWords : negativeWords, &g) }
        let subject = pick(reviewSubjects, &g)
        let verb = chance(0.5, &g) ? "is" : "was"
        var text: String
        switch g.nextInt(below: 6) {
        case 0: // plain: "the plot was very good"
            let intensity = chance(0.4, &g) ? pick(intensifiers, &g) + " " : ""
            text = "\(subject) \(verb) \(intensity)\(word(positive))"
        case 1: // negated: "the plot was not good" (negative)
            text = "\(subject) \(verb) not \(word(!positive))"
        case 2: // "the plot was good , not bad": the first adjective wins
            text = "\(subject) \(verb) \(word(positive)) , not \(word(!positive))"
        case 3: // "the plot was not bad but great": the adjective after "but" wins
            text = "\(subject) \(verb) not \(word(!positive)) but \(word(positive))"
        case 4: // "i did not like the plot" / "i loved the plot"
            if chance(0.5, &g) {
                let verbs = positive ? ["liked", "loved", "enjoyed"] : ["hated", "disliked"]
                text = "i \(pick(verbs, &g)) \(subject)"
            } else {
                let verbs = positive ? ["hate", "dislike"] : ["like", "love", "enjoy"]
                text = "i did not \(pick(verbs, &g)) \(subject)"
            }
        default: // "the acting was bad but the story was great": the clause after "but" wins
            let other = pick(reviewSubjects.filter { $0 != subject }, &g)
            text = "\(other) \(verb) \(word(!positive)) but \(subject) \(verb) \(word(positive))"
        }
        return LabeledExample(label: positive ? 1 : 0, text: text)
    }
}
