import Testing
@testable import Loom

/// Bad lengths are user data (a thrown `SequenceLengthError` naming the layer and the
/// value); bad shapes are programming errors that stop with a message in the layer's terms.
@Suite struct RecurrentErrorTests {
    func expectLengthError(_ expectedParts: [String], sourceLocation: SourceLocation = #_sourceLocation,
                           _ body: () throws -> Void) {
        let error = #expect(throws: SequenceLengthError.self, sourceLocation: sourceLocation) { try body() }
        guard let error else { return }
        for part in expectedParts {
            #expect(error.description.contains(part), "message \"\(error.description)\" lacks \"\(part)\"",
                    sourceLocation: sourceLocation)
        }
    }

    @Test func badLengthsThrowForEveryLayer() {
        var generator = RandomGenerator(seed: 1)
        let lstm = LSTM<Double>(inputSize: 2, hiddenSize: 3, batchFirst: true, using: &generator)
        let gru = GRU<Double>(inputSize: 2, hiddenSize: 3, using: &generator)
        let rnn = RNN<Double>(inputSize: 2, hiddenSize: 3, bidirectional: true, using: &generator)
        let batchFirst = Tensor<Double>.zeros([3, 4, 2])   // batch 3, time 4
        let timeFirst = Tensor<Double>.zeros([4, 3, 2])

        expectLengthError(["LSTM(inputSize: 2, batchFirst: true)", "lengths[1] = -1", "0...4"]) {
            _ = try lstm(batchFirst, lengths: [2, -1, 3])
        }
        expectLengthError(["LSTM(inputSize: 2, batchFirst: true)", "lengths[2] = 5", "0...4"]) {
            _ = try lstm(batchFirst, lengths: [2, 4, 5])
        }
        expectLengthError(["LSTM(inputSize: 2, batchFirst: true)", "2 lengths", "batch of 3"]) {
            _ = try lstm(batchFirst, lengths: [2, 4])
        }
        expectLengthError(["GRU(inputSize: 2, batchFirst: false)", "lengths[0] = -3"]) {
            _ = try gru(timeFirst, lengths: [-3, 1, 1])
        }
        expectLengthError(["GRU(inputSize: 2, batchFirst: false)", "4 lengths", "batch of 3"]) {
            _ = try gru(timeFirst, lengths: [1, 1, 1, 1])
        }
        expectLengthError(["RNN(inputSize: 2, batchFirst: false)", "lengths[1] = 9"]) {
            var generator = RandomGenerator(seed: 2)
            _ = try rnn.forward(timeFirst, lengths: [1, 9, 1], using: &generator)
        }
        expectLengthError(["RNN(inputSize: 2, batchFirst: false)", "0 lengths", "batch of 3"]) {
            _ = try rnn(timeFirst, lengths: [])
        }
    }

    @Test func badLengthsThrowWhenPacking() {
        let x = Tensor<Double>.zeros([3, 4, 2])
        expectLengthError(["packPaddedSequence", "lengths[0] = -1"]) {
            _ = try packPaddedSequence(x, lengths: [-1, 2, 2], batchFirst: true)
        }
        expectLengthError(["packPaddedSequence", "lengths[1] = 5"]) {
            _ = try packPaddedSequence(x, lengths: [1, 5, 2], batchFirst: true)
        }
        expectLengthError(["packPaddedSequence", "2 lengths", "batch of 4"]) {
            _ = try packPaddedSequence(x, lengths: [1, 2], batchFirst: false)
        }
    }

    @Test func goodLengthsAtTheLimitsDoNotThrow() throws {
        var generator = RandomGenerator(seed: 3)
        let lstm = LSTM<Double>(inputSize: 2, hiddenSize: 3, batchFirst: true, using: &generator)
        let result = try lstm(Tensor<Double>.ones([3, 4, 2]), lengths: [0, 4, 4])
        #expect(result.output.shape == [3, 4, 3])
    }

    // MARK: Shape errors stop the program with a message in the layer's terms.

    static func standardError(_ result: ExitTest.Result?) -> String {
        String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
    }

    @Test func lstmInputWithWrongFeaturesStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let lstm = LSTM<Float>(inputSize: 64, hiddenSize: 8, batchFirst: true)
            _ = lstm(Tensor<Float>.zeros([32, 50, 65]))
        }
        let message = Self.standardError(result)
        #expect(message.contains("LSTM(inputSize: 64, batchFirst: true) expects [batch, time, 64], got [32, 50, 65]"), "\(message)")
    }

    @Test func timeFirstGRUInputOfWrongRankStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let gru = GRU<Double>(inputSize: 5, hiddenSize: 4)
            _ = gru(Tensor<Double>.zeros([7, 5]))
        }
        let message = Self.standardError(result)
        #expect(message.contains("GRU(inputSize: 5, batchFirst: false) expects [time, batch, 5], got [7, 5]"), "\(message)")
    }

    @Test func wrongInitialStateStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let rnn = RNN<Double>(inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true)
            _ = rnn(Tensor<Double>.zeros([4, 5, 2]), initialState: Tensor<Double>.zeros([2, 5, 3]))
        }
        let message = Self.standardError(result)
        #expect(message.contains("RNN(inputSize: 2, batchFirst: false) expects h0 [4, 5, 3], got [2, 5, 3]"), "\(message)")
    }

    @Test func wrongCellStateOfProjectedLSTMStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            let lstm = LSTM<Double>(inputSize: 2, hiddenSize: 4, batchFirst: true, projSize: 3)
            // h0 has the projected size 3, c0 must have the hidden size 4.
            _ = lstm(Tensor<Double>.zeros([5, 6, 2]), initialState: (Tensor<Double>.zeros([1, 5, 3]), Tensor<Double>.zeros([1, 5, 3])))
        }
        let message = Self.standardError(result)
        #expect(message.contains("LSTM(inputSize: 2, batchFirst: true) expects c0 [1, 5, 4], got [1, 5, 3]"), "\(message)")
    }

    @Test func cellInputOfWrongSizeStops() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var generator = RandomGenerator(seed: 1)
            let cell = LSTMCell<Double>(inputSize: 3, hiddenSize: 2, using: &generator)
            _ = cell(Tensor<Double>.zeros([4, 2]))
        }
        let message = Self.standardError(result)
        #expect(message.contains("LSTMCell(inputSize: 3, hiddenSize: 2) expects input [batch, 3], got [4, 2]"), "\(message)")
    }
}
