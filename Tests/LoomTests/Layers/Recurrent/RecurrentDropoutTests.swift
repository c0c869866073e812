import Testing
@testable import Loom

/// Dropout between stacked recurrent layers: seeded, off in evaluation and at p = 0, and
/// never applied after the last layer.
@Suite struct RecurrentDropoutTests {
    let lengths = [5, 3, 0, 4]

    func input(for layer: LayerUnderTest) -> Tensor<Double> {
        randomNormal([4, 5, layer.configuration.inputSize], seed: 50)
    }

    func layers(dropout: Double, numLayers: Int = 3) -> [(String, LayerUnderTest)] {
        [
            ("LSTM", LayerUnderTest(.lstm, inputSize: 3, hiddenSize: 6, numLayers: numLayers, bidirectional: true,
                                    dropout: dropout, seed: 51)),
            ("GRU", LayerUnderTest(.gru, inputSize: 3, hiddenSize: 6, numLayers: numLayers, dropout: dropout, seed: 52)),
            ("RNN", LayerUnderTest(.rnnTanh, inputSize: 3, hiddenSize: 6, numLayers: numLayers, bidirectional: true,
                                   dropout: dropout, seed: 53)),
        ]
    }

    @Test func sameSeedSameResultDifferentSeedDifferentResult() throws {
        for (name, layer) in layers(dropout: 0.5) {
            #expect(layer.training, "\(name): a new layer is in training mode")
            let x = input(for: layer)
            let first = try layer.run(x, lengths: lengths, seed: 1)
            let again = try layer.run(x, lengths: lengths, seed: 1)
            let other = try layer.run(x, lengths: lengths, seed: 2)
            #expect(first.output.scalars == again.output.scalars, "\(name): same seed, same output")
            #expect(first.hN.scalars == again.hN.scalars, "\(name): same seed, same h_n")
            #expect(first.output.scalars != other.output.scalars, "\(name): different seed, different output")
            // Layer 0 runs before any dropout: its final states do not depend on the seed.
            let rows = layer.configuration.directions
            #expect(first.hN.narrow(dim: 0, start: 0, length: rows).scalars == other.hN.narrow(dim: 0, start: 0, length: rows).scalars,
                    "\(name): layer 0 is untouched by dropout")
            #expect(first.hN.scalars != other.hN.scalars, "\(name): deeper layers see different masks")
            // Padded positions stay zero with dropout too.
            let emptyRow = first.output.select(dim: 0, index: 2)
            expectAllZero(emptyRow, "\(name): empty sequence output under dropout")
        }
    }

    @Test func noDropoutInEvaluationOrAtZeroProbability() throws {
        for ((name, withDropout), (_, withoutDropout)) in zip(layers(dropout: 0.5), layers(dropout: 0)) {
            #expect(withDropout.parameters.map(\.scalars) == withoutDropout.parameters.map(\.scalars))
            let x = input(for: withDropout)
            let reference = try withoutDropout.run(x, lengths: lengths, seed: 3)
            // p = 0 in training: whatever the seed.
            let zeroOther = try withoutDropout.run(x, lengths: lengths, seed: 4)
            #expect(zeroOther.output.scalars == reference.output.scalars, "\(name): p = 0")

            var evaluating = withDropout
            evaluating.training = false
            for seed: UInt64 in [3, 4] {
                let result = try evaluating.run(x, lengths: lengths, seed: seed)
                #expect(result.output.scalars == reference.output.scalars, "\(name): training = false, seed \(seed)")
                #expect(result.hN.scalars == reference.hN.scalars, "\(name): training = false, h_n")
            }
            // The dropout really is on in training, so the comparison above can fail.
            #expect(try withDropout.run(x, lengths: lengths, seed: 3).output.scalars != reference.output.scalars)
        }
    }

    @Test func evalAndTrainSwitchTheLayerInsideAModel() throws {
        var generator = RandomGenerator(seed: 60)
        var lstm = LSTM<Double>(inputSize: 3, hiddenSize: 4, numLayers: 2, batchFirst: true, dropout: 0.6, using: &generator)
        let x = randomNormal([2, 4, 3], seed: 61)
        lstm.eval()
        #expect(!lstm.training)
        var first = RandomGenerator(seed: 1), second = RandomGenerator(seed: 2)
        let a = try lstm.forward(x, lengths: [4, 2], using: &first)
        let b = try lstm.forward(x, lengths: [4, 2], using: &second)
        #expect(a.output.scalars == b.output.scalars)
        lstm.train()
        #expect(lstm.training)
        first = RandomGenerator(seed: 1)
        second = RandomGenerator(seed: 2)
        let c = try lstm.forward(x, lengths: [4, 2], using: &first)
        let d = try lstm.forward(x, lengths: [4, 2], using: &second)
        #expect(c.output.scalars != d.output.scalars)
    }

    @Test func singleLayerIgnoresTheDropoutSetting() throws {
        for ((name, withDropout), (_, withoutDropout)) in zip(layers(dropout: 0.9, numLayers: 1), layers(dropout: 0, numLayers: 1)) {
            let x = input(for: withDropout)
            let a = try withDropout.run(x, lengths: lengths, seed: 5)
            let b = try withoutDropout.run(x, lengths: lengths, seed: 6)
            #expect(a.output.scalars == b.output.scalars, "\(name): output")
            #expect(a.hN.scalars == b.hN.scalars, "\(name): h_n")
            #expect(a.cN?.scalars == b.cN?.scalars, "\(name): c_n")
        }
    }

    @Test func gradientsFlowThroughTheSameMasks() throws {
        // Two runs with the same seed record the same masks, so the weight gradients agree.
        let layer = LayerUnderTest(.lstm, inputSize: 3, hiddenSize: 4, numLayers: 2, dropout: 0.5, seed: 70)
        let sequences = [TestSequence(length: 4, for: layer, seed: 71), TestSequence(length: 2, for: layer, seed: 72)]
        let first = try runBatch(layer, sequences, time: 4)
        let second = try runBatch(layer, sequences, time: 4)
        for (a, b) in zip(first.weightGrads, second.weightGrads) {
            #expect(a.scalars == b.scalars)
        }
    }

    /// The masks are drawn over the caller's layout, so the fused layer and its composed step
    /// run op by op (which works on packed rows) see the same masks for the same seed, for a
    /// padded and for a packed batch.
    @Test func fusedAndOpByOpPathsDrawTheSameMasks() throws {
        var generator = RandomGenerator(seed: 54)
        let fused = LSTM<Double>(inputSize: 3, hiddenSize: 4, numLayers: 3, batchFirst: true, dropout: 0.5, bidirectional: true,
                                 using: &generator)
        var reference = fused
        reference.implementation = .composed
        reference.recurrence.stepExecution = .opByOp
        #expect(fused.recurrence.captureStatus() == .fused)
        let x = randomNormal([4, 5, 3], seed: 55)
        var masks = RandomGenerator(seed: 56), same = RandomGenerator(seed: 56)
        let a = try fused.forward(x, lengths: lengths, using: &masks)
        let b = try reference.forward(x, lengths: lengths, using: &same)
        expectClose(a.output, b.output, "padded: output")
        expectClose(a.hN, b.hN, "padded: h_n")
        expectClose(a.cN, b.cN, "padded: c_n")

        let packed = try packPaddedSequence(x, lengths: lengths, batchFirst: true)
        var packedMasks = RandomGenerator(seed: 57), samePacked = RandomGenerator(seed: 57)
        let c = fused.recurrence(packed, using: &packedMasks)
        let d = reference.recurrence(packed, using: &samePacked)
        expectClose(c.output.data, d.output.data, "packed: output")
        for (e, f) in zip(c.states.joined(), d.states.joined()) { expectClose(e, f, "packed: final state") }
    }
}
