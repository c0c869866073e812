import Loom

/// `--embeddings PATH`: starting a word embedding from pretrained vectors.
enum PretrainedEmbeddings {
    /// The vector for `word`: its own, else its lowercase form's (GloVe's files are
    /// lowercase, treebank words are not).
    static func vector(for word: String, in vectors: WordVectors) -> ArraySlice<Float>? {
        vectors.vector(for: word) ?? vectors.vector(for: word.lowercased())
    }

    /// `vocabulary` followed by the words of `sequences` (dev and test text) that it lacks but
    /// `vectors` has, in order of first appearance: the rows those words get start from their
    /// vectors, so the model reads them instead of `<unk>` although training never saw them.
    static func extend<Sequences: Sequence>(_ vocabulary: Vocabulary<String>, with sequences: Sequences, from vectors: WordVectors)
        -> (vocabulary: Vocabulary<String>, added: Int) where Sequences.Element == [String] {
        var tokens = vocabulary.tokens
        var seen = Set(vocabulary.entryTexts)
        for sequence in sequences {
            for word in sequence where !seen.contains(word) && vector(for: word, in: vectors) != nil {
                seen.insert(word)
                tokens.append(word)
            }
        }
        let extended = Vocabulary(specials: vocabulary.specials, tokens: tokens, unknown: SpecialToken.unknown)
        return (extended, extended.count - vocabulary.count)
    }

    /// Copies the vector of every vocabulary entry found in `vectors` into its row of
    /// `embedding` (the padding row is left as it is) and returns how many were found.
    static func load(_ vectors: WordVectors, into embedding: inout Embedding<Float>, vocabulary: Vocabulary<String>) -> Int {
        precondition(embedding.embeddingDim == vectors.dimension && embedding.numEmbeddings == vocabulary.count)
        let width = vectors.dimension
        var found = 0
        embedding.weight.withUnsafeMutableBufferPointer { table in
            for (row, word) in vocabulary.entryTexts.enumerated() where row != embedding.paddingIndex {
                guard let vector = vector(for: word, in: vectors) else { continue }
                for (j, value) in vector.enumerated() { table[row * width + j] = value }
                found += 1
            }
        }
        return found
    }

    /// `load`, then the line that says how many entries start from the file at `path`.
    static func start(_ embedding: inout Embedding<Float>, from vectors: WordVectors, path: String, vocabulary: Vocabulary<String>,
                      addedWords: Int, frozen: Bool) {
        let found = load(vectors, into: &embedding, vocabulary: vocabulary)
        print("embeddings: \(found) of \(vocabulary.count) vocabulary entries start from \(path) "
              + "(\(vectors.count) vectors of \(vectors.dimension)); \(addedWords) dev/test words added"
              + (frozen ? "; frozen" : ""))
    }

    /// The rows of a trained `embedding` as word vectors, one per vocabulary entry except
    /// `<pad>` and entries the text format cannot hold (empty, or containing whitespace).
    static func export(_ embedding: Tensor<Float>, vocabulary: [String]) -> (vectors: WordVectors, skipped: Int) {
        let width = embedding.shape[1], table = embedding.scalars
        var words: [String] = [], values: [Float] = [], skipped = 0
        for (row, word) in vocabulary.enumerated() where word != SpecialToken.padding {
            guard !word.isEmpty, !word.contains(where: \.isWhitespace) else { skipped += 1; continue }
            words.append(word)
            values.append(contentsOf: table[row * width ..< (row + 1) * width])
        }
        return (WordVectors(words: words, dimension: width, values: values), skipped)
    }
}
