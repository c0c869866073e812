import Testing
@testable import Loom

/// Parameter names, order and shapes as PyTorch's `state_dict`, and PyTorch's initialization.
@Suite struct RecurrentParameterTests {
    func namesAndShapes<M: Module>(_ module: M) -> [String] {
        module.namedParameters().map { "\($0.name) \($0.tensor.shape)" }
    }

    @Test func projectedBidirectionalLSTMNamesOrderAndShapes() {
        var generator = RandomGenerator(seed: 1)
        let lstm = LSTM<Float>(inputSize: 5, hiddenSize: 4, numLayers: 2, bidirectional: true, projSize: 3, using: &generator)
        // Layer by layer, forward then reverse; within one: ih, hh, biases, projection.
        // Layer 1 reads both directions' projected outputs: 2 · 3 = 6 features.
        #expect(namesAndShapes(lstm) == [
            "weight_ih_l0 [16, 5]", "weight_hh_l0 [16, 3]", "bias_ih_l0 [16]", "bias_hh_l0 [16]", "weight_hr_l0 [3, 4]",
            "weight_ih_l0_reverse [16, 5]", "weight_hh_l0_reverse [16, 3]", "bias_ih_l0_reverse [16]",
            "bias_hh_l0_reverse [16]", "weight_hr_l0_reverse [3, 4]",
            "weight_ih_l1 [16, 6]", "weight_hh_l1 [16, 3]", "bias_ih_l1 [16]", "bias_hh_l1 [16]", "weight_hr_l1 [3, 4]",
            "weight_ih_l1_reverse [16, 6]", "weight_hh_l1_reverse [16, 3]", "bias_ih_l1_reverse [16]",
            "bias_hh_l1_reverse [16]", "weight_hr_l1_reverse [3, 4]",
        ])
        // Per direction: layer 0 has 80 + 48 + 16 + 16 + 12, layer 1 has 96 + 48 + 16 + 16 + 12.
        #expect(lstm.parameterCount == 2 * (172 + 188))
    }

    @Test func gruWithoutBiasNamesAndShapes() {
        var generator = RandomGenerator(seed: 2)
        let gru = GRU<Float>(inputSize: 7, hiddenSize: 5, numLayers: 2, bias: false, using: &generator)
        #expect(namesAndShapes(gru) == ["weight_ih_l0 [15, 7]", "weight_hh_l0 [15, 5]", "weight_ih_l1 [15, 5]", "weight_hh_l1 [15, 5]"])
    }

    @Test func rnnNamesAndShapes() {
        var generator = RandomGenerator(seed: 3)
        let rnn = RNN<Float>(inputSize: 4, hiddenSize: 6, nonlinearity: .relu, bidirectional: true, using: &generator)
        #expect(namesAndShapes(rnn) == [
            "weight_ih_l0 [6, 4]", "weight_hh_l0 [6, 6]", "bias_ih_l0 [6]", "bias_hh_l0 [6]",
            "weight_ih_l0_reverse [6, 4]", "weight_hh_l0_reverse [6, 6]", "bias_ih_l0_reverse [6]", "bias_hh_l0_reverse [6]",
        ])
    }

    @Test func cellNamesAndShapes() {
        var generator = RandomGenerator(seed: 4)
        #expect(namesAndShapes(LSTMCell<Float>(inputSize: 3, hiddenSize: 2, using: &generator))
                == ["weight_ih [8, 3]", "weight_hh [8, 2]", "bias_ih [8]", "bias_hh [8]"])
        #expect(namesAndShapes(GRUCell<Float>(inputSize: 3, hiddenSize: 2, using: &generator))
                == ["weight_ih [6, 3]", "weight_hh [6, 2]", "bias_ih [6]", "bias_hh [6]"])
        #expect(namesAndShapes(RNNCell<Float>(inputSize: 3, hiddenSize: 2, using: &generator))
                == ["weight_ih [2, 3]", "weight_hh [2, 2]", "bias_ih [2]", "bias_hh [2]"])
        #expect(RNNCell<Float>(inputSize: 3, hiddenSize: 2, bias: false, using: &generator).namedParameters().map(\.name)
                == ["weight_ih", "weight_hh"])
    }

    @Test func parametersAreLeavesRequiringGradient() {
        var generator = RandomGenerator(seed: 5)
        let lstm = LSTM<Double>(inputSize: 2, hiddenSize: 3, numLayers: 2, using: &generator)
        for (name, tensor) in lstm.namedParameters() {
            #expect(tensor.requiresGrad && tensor.isLeaf, "\(name)")
        }
    }

    /// Every entry within ±1/√hidden, and the draws fill that interval (so a narrower
    /// initialization would fail too).
    func expectPyTorchInitialization<M: Module>(_ module: M, hiddenSize: Int, _ label: String) where M.Scalar == Double {
        let bound = 1 / Double(hiddenSize).squareRoot()
        let values = module.parameters().flatMap(\.scalars)
        #expect(values.allSatisfy { Swift.abs($0) <= bound }, "\(label): an entry exceeds ±\(bound)")
        #expect(values.max()! > 0.95 * bound && values.min()! < -0.95 * bound, "\(label): entries do not fill ±\(bound)")
        let mean = values.reduce(0, +) / Double(values.count)
        #expect(Swift.abs(mean) < 0.05 * bound, "\(label): mean \(mean) is not centred")
    }

    @Test func initializationIsUniformWithinOneOverSquareRootOfHidden() {
        var generator = RandomGenerator(seed: 6)
        expectPyTorchInitialization(LSTM<Double>(inputSize: 10, hiddenSize: 16, numLayers: 2, bidirectional: true, projSize: 4,
                                                 using: &generator), hiddenSize: 16, "LSTM")
        expectPyTorchInitialization(GRU<Double>(inputSize: 10, hiddenSize: 9, using: &generator), hiddenSize: 9, "GRU")
        expectPyTorchInitialization(RNN<Double>(inputSize: 10, hiddenSize: 25, using: &generator), hiddenSize: 25, "RNN")
        expectPyTorchInitialization(LSTMCell<Double>(inputSize: 10, hiddenSize: 16, using: &generator), hiddenSize: 16, "LSTMCell")
        expectPyTorchInitialization(GRUCell<Double>(inputSize: 10, hiddenSize: 4, using: &generator), hiddenSize: 4, "GRUCell")
        expectPyTorchInitialization(RNNCell<Double>(inputSize: 10, hiddenSize: 36, using: &generator), hiddenSize: 36, "RNNCell")
    }

    @Test func sameSeedSameWeightsDifferentSeedDifferentWeights() {
        var first = RandomGenerator(seed: 7), second = RandomGenerator(seed: 7), third = RandomGenerator(seed: 8)
        let a = LSTM<Float>(inputSize: 3, hiddenSize: 4, bidirectional: true, using: &first)
        let b = LSTM<Float>(inputSize: 3, hiddenSize: 4, bidirectional: true, using: &second)
        let c = LSTM<Float>(inputSize: 3, hiddenSize: 4, bidirectional: true, using: &third)
        #expect(a.parameters().map(\.scalars) == b.parameters().map(\.scalars))
        #expect(a.parameters().map(\.scalars) != c.parameters().map(\.scalars))
    }

    @Test func weightsCopyInAndOutByName() throws {
        var generator = RandomGenerator(seed: 9)
        let source = GRU<Double>(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, using: &generator)
        var target = GRU<Double>(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, using: &generator)
        let byName = Dictionary(uniqueKeysWithValues: source.namedParameters().map { ($0.name, $0.tensor) })
        target.updateParameters { name, tensor in tensor = byName[name]!.detached().requiringGrad() }
        // The typed accessor sees the copied weights.
        #expect(target.weights(layer: 1, direction: 1).weightHH.scalars == byName["weight_hh_l1_reverse"]!.scalars)
        let x = randomNormal([4, 2, 3], seed: 10)
        let expected = try source(x, lengths: [4, 2])
        let actual = try target(x, lengths: [4, 2])
        #expect(actual.output.scalars == expected.output.scalars)
        #expect(actual.hN.scalars == expected.hN.scalars)
    }
}
