import Loom

/// The tagger's character features (`--char-features`): a vector per word computed from its
/// characters and appended to the word's embedding.
enum CharacterFeatureKind: String, CaseIterable {
    /// No character features.
    case none
    /// Embedding(Vc, 30) → Conv1d(30 → 50, kernel 3, padding 1) → tanh → max over the word's
    /// own characters: 50 features.
    case cnn
    /// Embedding(Vc, 32) → BiLSTM(32) over every word slot of the batch at once (the padding
    /// slots are sequences of length zero) → the final forward and backward states: 64.
    case lstm
}

extension CharacterFeatureKind {
    /// The number of features each word gets (0 for none).
    var width: Int {
        switch self {
        case .none: 0
        case .cnn: 50
        case .lstm: 64
        }
    }
}

/// The characters of a padded sentence batch `[B, T]`, laid out for one kind of features.
enum CharacterBatch {
    /// Every word slot, for the BiLSTM: character ids `[B·T, L]`, L the longest word of the
    /// batch, 0-padded (the slots past a sentence's end are all padding), and the character
    /// count of every slot (0 for the padding slots).
    case slots(characters: IntTensor, lengths: [Int])
    /// The real words, for the convolution, in groups of similar length, each padded only to
    /// its own longest word (the convolution's result does not depend on the padding); and
    /// for every slot its row in `[zero row; the groups' words in order]` (0 for a padding
    /// slot).
    case groups([(characters: IntTensor, lengths: [Int])], slotRows: IntTensor)

    /// Real words per length group.
    static let groupSize = 128

    /// The batch of `sentences` (each a list of words, each word a list of character ids),
    /// padded to `steps` word slots per sentence, laid out for `kind` (cnn or lstm).
    init(_ sentences: [[[Int]]], steps: Int, for kind: CharacterFeatureKind) {
        var words: [[Int]] = [], slots: [Int] = []  // the real words and their slots, in sentence order
        for (b, sentence) in sentences.enumerated() {
            for (t, word) in sentence.enumerated() {
                words.append(word)
                slots.append(b * steps + t)
            }
        }
        let slotCount = sentences.count * steps
        if kind == .lstm {
            let longest = Swift.max(1, words.map(\.count).max() ?? 1)
            var ids = [Int](repeating: 0, count: slotCount * longest)
            var lengths = [Int](repeating: 0, count: slotCount)
            for (word, slot) in zip(words, slots) {
                lengths[slot] = word.count
                for (i, id) in word.enumerated() { ids[slot * longest + i] = id }
            }
            self = .slots(characters: IntTensor(shape: [slotCount, longest], scalars: ids), lengths: lengths)
            return
        }
        // Real words sorted by length (stable), cut into groups.
        let order = words.indices.sorted { (words[$0].count, $0) < (words[$1].count, $1) }
        var rows = [Int](repeating: 0, count: slotCount)
        var groups: [(characters: IntTensor, lengths: [Int])] = []
        for start in stride(from: 0, to: order.count, by: Self.groupSize) {
            let members = order[start ..< Swift.min(start + Self.groupSize, order.count)]
            let width = Swift.max(1, members.map { words[$0].count }.max() ?? 1)
            var groupIDs = [Int](repeating: 0, count: members.count * width)
            for (row, word) in members.enumerated() {
                for (i, id) in words[word].enumerated() { groupIDs[row * width + i] = id }
                rows[slots[word]] = 1 + start + row
            }
            groups.append((IntTensor(shape: [members.count, width], scalars: groupIDs), members.map { words[$0].count }))
        }
        self = .groups(groups, slotRows: IntTensor(shape: [slotCount], scalars: rows))
    }
}

/// The character-level word encoder of the tagger. Its parameters are named
/// `embedding.weight`, then `conv.weight`/`conv.bias` or the BiLSTM's `lstm.*`.
struct CharacterFeatures: Module {
    let kind: CharacterFeatureKind
    var embedding: Embedding<Float>
    var conv: Conv1d<Float>?
    var lstm: LSTM<Float>?

    /// The number of features per word.
    var width: Int { kind.width }

    /// The encoder of `kind` (not `.none`) over `characterCount` character ids (0 = padding),
    /// initialized from `generator`.
    init(_ kind: CharacterFeatureKind, characterCount: Int, using generator: inout RandomGenerator) {
        precondition(kind != .none, "CharacterFeatures needs cnn or lstm")
        self.kind = kind
        switch kind {
        case .cnn:
            embedding = Embedding(characterCount, 30, paddingIndex: 0, using: &generator)
            conv = Conv1d(30, 50, kernelSize: 3, padding: 1, using: &generator)
        case .lstm, .none:
            embedding = Embedding(characterCount, 32, paddingIndex: 0, using: &generator)
            lstm = LSTM(inputSize: 32, hiddenSize: 32, batchFirst: true, bidirectional: true, using: &generator)
        }
    }

    /// The features of every word slot, `[B·T, width]`; padding slots get zeros. `batch`
    /// must be laid out for this encoder's kind.
    func callAsFunction(_ batch: CharacterBatch) throws -> Tensor<Float> {
        switch batch {
        case .groups(let groups, let slotRows):
            // Per group of real words: [n, L, d] → [n, d, L] → [n, 50, L] → the max over each
            // word's own characters. The padding slots take the zero row.
            let conv = self.conv!
            let features = groups.map { group in
                conv(embedding(group.characters).transposed(1, 2)).tanh().maskedMax(dim: 2, lengths: group.lengths)
            }
            return Tensor.cat([Tensor.zeros([1, conv.outChannels])] + features, dim: 0).indexSelect(dim: 0, index: slotRows)
        case .slots(let characters, let lengths):
            // [B·T, L, d], padding characters are zero rows. Zero-length slots read nothing:
            // their final states are the initial zeros.
            let (_, hN, _) = try lstm!(embedding(characters), lengths: lengths)
            return Tensor.cat([hN.select(dim: 0, index: 0), hN.select(dim: 0, index: 1)], dim: 1)
        }
    }

    mutating func visit(_ visitor: ModuleVisitor<Float>) {
        visitor.module("embedding", &embedding)
        if conv != nil { visitor.module("conv", &conv!) }
        if lstm != nil { visitor.module("lstm", &lstm!) }
    }
}
