import Foundation
import Testing
@testable import Loom

@Suite struct DataVocabularyTests {
    static let corpus = [["b", "a", "c", "a"], ["d", "b", "a", "e"], ["c", "b"]]
    // counts: a 3, b 3, c 2, d 1, e 1
    static let wordSpecials = [SpecialToken.padding, SpecialToken.unknown]

    @Test func orderIsSpecialsThenCountDescendingThenTokenAscending() {
        let vocabulary = Vocabulary(specials: Self.wordSpecials, counting: Self.corpus, unknown: SpecialToken.unknown)
        #expect(vocabulary.entryTexts == ["<pad>", "<unk>", "a", "b", "c", "d", "e"])
        #expect(vocabulary.tokens == ["a", "b", "c", "d", "e"])
        #expect(vocabulary.paddingIndex == 0)
        #expect(vocabulary.unknownIndex == 1)
        #expect(vocabulary.count == 7)
    }

    @Test func minCountDropsRareTokensToUnknown() {
        let vocabulary = Vocabulary(specials: Self.wordSpecials, counting: Self.corpus, minCount: 2, unknown: SpecialToken.unknown)
        #expect(vocabulary.entryTexts == ["<pad>", "<unk>", "a", "b", "c"])
        #expect(vocabulary.encode(["c", "d", "a", "zzz"]) == [4, 1, 2, 1])
        // Decoding drops specials and indices out of range.
        #expect(vocabulary.decode([4, 1, 2, 99, 0]) == ["c", "a"])
        #expect(vocabulary.entryText(at: 1) == "<unk>" && vocabulary.entryText(at: 4) == "c" && vocabulary.entryText(at: 5) == nil)
        #expect(!vocabulary.contains("d"))
    }

    @Test func buildingIsDeterministicWhateverTheInputOrder() {
        let shuffled = [["c", "b"], ["e", "a", "b", "d"], ["a", "c", "a", "b"]]
        #expect(Vocabulary(counting: shuffled) == Vocabulary(counting: Self.corpus))
        let many = (0..<200).map { ["w\($0 % 37)", "x\($0 % 11)"] }
        #expect(Vocabulary(counting: many).tokens == Vocabulary(counting: many.reversed()).tokens)
    }

    @Test func orders() {
        #expect(Vocabulary(counting: Self.corpus, order: .firstAppearance).tokens == ["b", "a", "c", "d", "e"])
        #expect(Vocabulary(counting: [["é", "z", "a", "Z"]], order: .sorted).tokens == ["Z", "a", "z", "é"])
        #expect(Vocabulary(counting: Self.corpus, minCount: 2, order: .firstAppearance).tokens == ["b", "a", "c"])
    }

    @Test func callerChosenSpecialsAndAnOptionalUnknown() throws {
        // A decoder's symbol table: specials placed first, no unknown entry needed.
        let symbols = Vocabulary<Character>(specials: ["<pad>", "<s>", "</s>"], counting: ["abca", "cd"], order: .firstAppearance)
        #expect(symbols.count == 7 && symbols.unknownIndex == nil)
        #expect(symbols.index(ofSpecial: "</s>") == 2 && symbols.index(of: "a") == 3 && symbols.index(of: "d") == 6)
        #expect(symbols.encode("dab") == [6, 3, 4])
        #expect(String(symbols.decode([1, 4, 3, 2])) == "ba")
        let error = DataTestSupport.dataError { try symbols.encode("abz", source: "dev.txt", line: 4) }
        #expect(error?.description == "dev.txt:4: \"z\" at position 3 is not one of the 7 entries of the vocabulary")
        // A word spelled like a special is an ordinary token.
        let words = Vocabulary(specials: ["<s>"], counting: [["<s>", "x"]], unknown: "<oov>")
        #expect(words.entryTexts == ["<s>", "<oov>", "<s>", "x"] && words.unknownIndex == 1)
        #expect(words.encode(["<s>", "y"]) == [2, 1])
        // Restoring from the saved entry texts.
        let restored = try Vocabulary<String>(entries: words.entryTexts, specialCount: 2, unknown: "<oov>")
        #expect(restored == words)
        let scalars = Vocabulary<Unicode.Scalar>(specials: ["<pad>"], counting: ["héllo".unicodeScalars], order: .firstAppearance)
        #expect(try Vocabulary<Unicode.Scalar>(entries: scalars.entryTexts, specialCount: 1) == scalars)
        let bad = DataTestSupport.dataError { try Vocabulary<Unicode.Scalar>(entries: ["<pad>", "ab"], specialCount: 1, source: "ckpt") }
        #expect(bad?.description == "ckpt: vocabulary entry \"ab\" does not spell one token")
    }

    @Test func labelsAreSortedWithoutSpecials() throws {
        let tags = Vocabulary(counting: [["VERB", "NOUN"], ["ADJ", "NOUN", "PUNCT"]], order: .sorted)
        #expect(tags.tokens == ["ADJ", "NOUN", "PUNCT", "VERB"])
        #expect(try tags.encode(["NOUN", "VERB"], source: "train") == [1, 3])
        #expect(tags.decode([0, 2, 7]) == ["ADJ", "PUNCT"])
        let error = DataTestSupport.dataError { try tags.encode(["NOUN", "X"], source: "dev.conllu", line: 12) }
        #expect(error?.description == "dev.conllu:12: \"X\" at position 2 is not one of the 4 entries of the vocabulary")
    }
}

@Suite struct DataBatchingTests {
    @Test func sequentialBatchesCoverEveryIndexOnce() {
        #expect(Batching.batchIndices(count: 7, batchSize: 3) == [[0, 1, 2], [3, 4, 5], [6]])
        #expect(Batching.batchIndices(count: 0, batchSize: 3).isEmpty)
    }

    @Test func shufflingIsDeterministicPerSeed() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42), c = RandomGenerator(seed: 43)
        let first = Batching.shuffledBatchIndices(count: 50, batchSize: 8, using: &a)
        #expect(first == Batching.shuffledBatchIndices(count: 50, batchSize: 8, using: &b))
        #expect(first != Batching.shuffledBatchIndices(count: 50, batchSize: 8, using: &c))
        #expect(first.map(\.count) == [8, 8, 8, 8, 8, 8, 2])
        #expect(first.flatMap { $0 }.sorted() == Array(0..<50))
        #expect(first.flatMap { $0 } != Array(0..<50))
        // The next epoch from the same generator gives another order.
        let second = Batching.shuffledBatchIndices(count: 50, batchSize: 8, using: &a)
        #expect(second != first)
    }

    @Test func paddingToTheLongestWithLengths() {
        let batch = Batching.pad([[5, 6, 7], [8], []])
        #expect(batch.values.shape == [3, 3])
        #expect(batch.values.scalars == [5, 6, 7, 8, 0, 0, 0, 0, 0])
        #expect(batch.lengths == [3, 1, 0])
        let tags = Batching.padTargets([[1, 2], [3]])
        #expect(tags.values == IntTensor([[1, 2], [3, -100]]))
        #expect(tags.lengths == [2, 1])
        #expect(Batching.pad([[], []]).values.shape == [2, 0])
    }

    @Test func trainDevSplitTakesTheLastTenPercent() {
        let (train, dev) = TrainDevSplit.splitLast(Array(0..<5000))
        #expect(train == Array(0..<4500))
        #expect(dev == Array(4500..<5000))
        #expect(TrainDevSplit.devCount(of: 25) == 2)
        #expect(TrainDevSplit.devCount(of: 5) == 1)
        #expect(TrainDevSplit.devCount(of: 1) == 0)
        #expect(TrainDevSplit.devCount(of: 2, fraction: 1) == 1)
    }

    @Test func characterStreamsPairInputsWithNextCharacters() {
        // 0..<23 in 2 streams: rows 0..<11 and 11..<22 (22 dropped), chunks of 4 steps.
        let streams = CharacterStreams(ids: Array(0..<23), streamCount: 2, chunkLength: 4)
        #expect(streams.streams.shape == [2, 11])
        #expect(streams.chunkCount == 3)  // 10 input steps: 4 + 4 + 2
        let (inputs, targets) = streams.chunk(0)
        #expect(inputs == IntTensor([[0, 1, 2, 3], [11, 12, 13, 14]]))
        #expect(targets == IntTensor([[1, 2, 3, 4], [12, 13, 14, 15]]))
        let last = streams.chunk(2)
        #expect(last.inputs == IntTensor([[8, 9], [19, 20]]))
        #expect(last.targets == IntTensor([[9, 10], [20, 21]]))
    }
}

@Suite struct DataWindowsTests {
    @Test func slidingWindowsPredictTheNextValue() {
        let series: [Double] = [1, 2, 3, 4, 5, 6]
        let windows = Windows.sliding(series, windowSize: 3)
        #expect(windows.inputs == [[1, 2, 3], [2, 3, 4], [3, 4, 5]])
        #expect(windows.targets == [4, 5, 6])
        #expect(windows.targetIndices == [3, 4, 5])
        let tensor: Tensor<Float> = windows.inputTensor()
        #expect(tensor.shape == [3, 3, 1])
        #expect(tensor.scalars == [1, 2, 3, 2, 3, 4, 3, 4, 5])
        #expect(windows.targetTensor(Double.self).shape == [3, 1])
        #expect(Windows.sliding([1, 2], windowSize: 3).count == 0)
        #expect(Windows.sliding(series, windowSize: 2, targets: 0..<3).targets == [3])
    }

    @Test func forecastSplitScalesByTheTrainingMaximum() throws {
        let series = (1...20).map(Double.init)   // training part 1...16, test targets 17...20
        let (train, test, scaler) = try Windows.forecastSplit(series, windowSize: 3, testCount: 4)
        #expect(scaler.scale == 16)
        #expect(train.targetIndices == Array(3..<16))
        #expect(test.targetIndices == [16, 17, 18, 19])
        let expectedTargets: [Double] = [17, 18, 19, 20].map { $0 / 16 }
        let expectedFirstInput: [Double] = [14, 15, 16].map { $0 / 16 }
        #expect(test.targets == expectedTargets)
        #expect(test.inputs[0] == expectedFirstInput)
        #expect(scaler.unscaled(test.targets) == [17, 18, 19, 20])
        let error = DataTestSupport.dataError { try Windows.forecastSplit(Array(series.prefix(10)), windowSize: 3, testCount: 8, source: "s.csv") }
        #expect(error?.description == "s.csv: the series has 10 values; forecasting with windows of 3 and 8 test points needs at least 12")
        #expect(MaxScaler(fittingTo: [0, 0]).scale == 1)
        #expect(MaxScaler(fittingTo: [-4, 2]).scale == 4)
    }
}
