import Testing
@testable import Loom

/// Properties of the recurrent layers on variable-length batches: zero-length sequences,
/// padding of any value, batch versus one-by-one, the reverse direction, layouts, packing
/// and the order of the lengths. Each runs a 2-layer bidirectional LSTM with projection,
/// GRU and RNN and compares outputs, final states and every gradient.
@Suite struct RecurrentPropertyTests {
    @Test func zeroLengthSequenceIsInertAndPassesItsInitialState() throws {
        for (name, layer) in propertyLayers(seed: 100) {
            let a = TestSequence(length: 3, for: layer, seed: 1)
            let empty = TestSequence(length: 0, for: layer, seed: 2)
            let b = TestSequence(length: 2, for: layer, seed: 3)
            let with = try runBatch(layer, [a, empty, b], time: 4, padding: { _, _, _ in 7 })
            let without = try runBatch(layer, [a, b], time: 4)
            let inert = with.sequences[1]
            expectAllZero(inert.output, "\(name): output of the empty sequence")
            expectAllZero(inert.inputGrad, "\(name): input gradient of the empty sequence")
            // h_n is the initial state itself, so its gradient reaches h0 unchanged.
            #expect(inert.hN.scalars == empty.h0.scalars, "\(name): h_n of the empty sequence")
            #expect(inert.h0Grad.scalars == empty.hWeights.scalars, "\(name): h0 gradient of the empty sequence")
            if let cN = inert.cN {
                #expect(cN.scalars == empty.c0!.scalars, "\(name): c_n of the empty sequence")
                #expect(inert.c0Grad!.scalars == empty.cWeights!.scalars, "\(name): c0 gradient of the empty sequence")
            }
            expectSameSequence(with.sequences[0], without.sequences[0], length: 3, "\(name) first")
            expectSameSequence(with.sequences[2], without.sequences[1], length: 2, "\(name) last")
            expectSameWeightGrads(with.weightGrads, without.weightGrads, "\(name) weights with/without the empty sequence")
        }
    }

    @Test func batchOfOnlyEmptySequences() throws {
        for (name, layer) in propertyLayers(seed: 110) {
            let sequences = [TestSequence(length: 0, for: layer, seed: 4), TestSequence(length: 0, for: layer, seed: 5)]
            let outcome = try runBatch(layer, sequences, time: 2, padding: { _, _, _ in .nan })
            for (b, sequence) in sequences.enumerated() {
                expectAllZero(outcome.sequences[b].output, "\(name): output")
                #expect(outcome.sequences[b].hN.scalars == sequence.h0.scalars, "\(name): h_n")
                expectAllZero(outcome.sequences[b].inputGrad, "\(name): input gradient")
            }
            for (i, grad) in outcome.weightGrads.enumerated() {
                expectAllZero(grad, "\(name): gradient of parameter \(i)")
            }
        }
    }

    @Test func emptyTimeAxis() throws {
        for (name, layer) in propertyLayers(seed: 120) {
            let h0 = randomNormal([layer.stateRows, 2, layer.hStateSize], seed: 121)
            let result = try layer.run(Tensor.zeros([2, 0, 2]), lengths: [0, 0], h0: h0)
            #expect(result.output.shape == [2, 0, layer.outputFeatures], "\(name): output shape")
            #expect(result.hN.scalars == h0.scalars, "\(name): h_n")
            let noLengths = try layer.run(Tensor.zeros([2, 0, 2]), lengths: nil, h0: h0)
            #expect(noLengths.hN.scalars == h0.scalars, "\(name): h_n without lengths")
        }
    }

    @Test func paddingOfAnyValueChangesNothing() throws {
        let paddings: [(String, (Int, Int, Int) -> Double)] = [
            ("random", { b, t, i in Double((b * 31 + t * 7 + i * 3) % 11) - 5.5 }),
            ("huge", { _, _, _ in 1e300 }),
            ("NaN", { _, _, _ in .nan }),
            ("infinity", { b, _, _ in b.isMultiple(of: 2) ? .infinity : -.infinity }),
        ]
        for (name, layer) in propertyLayers(seed: 200) {
            let sequences = [TestSequence(length: 4, for: layer, seed: 11), TestSequence(length: 2, for: layer, seed: 12),
                             TestSequence(length: 3, for: layer, seed: 13)]
            let tight = try runBatch(layer, sequences, time: 4)
            for (paddingName, padding) in paddings {
                let padded = try runBatch(layer, sequences, time: 7, padding: padding)
                for (b, sequence) in sequences.enumerated() {
                    expectSameSequence(padded.sequences[b], tight.sequences[b], length: sequence.length,
                                       "\(name), \(paddingName) padding, sequence \(b)")
                }
                expectSameWeightGrads(padded.weightGrads, tight.weightGrads, "\(name), \(paddingName) padding")
            }
            // A batch of one without any padding (the unmasked path) against the same
            // sequence padded with NaN.
            let alone = try runBatch(layer, [sequences[0]], time: 4)
            let paddedAlone = try runBatch(layer, [sequences[0]], time: 6, padding: { _, _, _ in .nan })
            expectSameSequence(paddedAlone.sequences[0], alone.sequences[0], length: 4, "\(name), unpadded vs NaN padding")
            expectSameWeightGrads(paddedAlone.weightGrads, alone.weightGrads, "\(name), unpadded vs NaN padding")
        }
    }

    @Test func batchMatchesEachSequenceAlone() throws {
        // Unsorted lengths with ties.
        let lengths = [3, 1, 4, 4, 2, 1]
        for (name, layer) in propertyLayers(seed: 300) {
            let sequences = lengths.enumerated().map { TestSequence(length: $1, for: layer, seed: 20 + UInt64($0) * 10) }
            let batched = try runBatch(layer, sequences, time: 5, padding: { _, _, _ in 3 })
            var summed: [Tensor<Double>] = []
            for (b, sequence) in sequences.enumerated() {
                let alone = try runBatch(layer, [sequence], time: sequence.length)
                expectSameSequence(batched.sequences[b], alone.sequences[0], length: sequence.length, "\(name), sequence \(b)")
                summed = summed.isEmpty ? alone.weightGrads : zip(summed, alone.weightGrads).map { $0 + $1 }
            }
            expectSameWeightGrads(batched.weightGrads, summed, "\(name): batch vs sum over sequences alone")
        }
    }

    @Test func lengthsInAnyOrder() throws {
        let lengths = [2, 0, 4, 2, 1, 4]
        let orders = [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [2, 5, 0, 3, 4, 1], [1, 3, 0, 4, 5, 2]]
        for (name, layer) in propertyLayers(seed: 400) {
            let sequences = lengths.enumerated().map { TestSequence(length: $1, for: layer, seed: 80 + UInt64($0) * 10) }
            let reference = try runBatch(layer, sequences, time: 4, padding: { _, _, _ in -2 })
            for order in orders.dropFirst() {
                let permuted = try runBatch(layer, order.map { sequences[$0] }, time: 4, padding: { _, _, _ in -2 })
                for (position, original) in order.enumerated() {
                    expectSameSequence(permuted.sequences[position], reference.sequences[original], length: lengths[original],
                                       "\(name), order \(order), sequence \(original)")
                }
                expectSameWeightGrads(permuted.weightGrads, reference.weightGrads, "\(name), order \(order)")
            }
        }
    }

    @Test func batchFirstAndTimeFirstAgree() throws {
        let lengths = [3, 5, 0, 2]
        let batchFirst = propertyLayers(seed: 500, batchFirst: true)
        let timeFirst = propertyLayers(seed: 500, batchFirst: false)
        for ((name, a), (_, b)) in zip(batchFirst, timeFirst) {
            #expect(a.configuration.batchFirst && !b.configuration.batchFirst)
            #expect(a.parameters.map(\.scalars) == b.parameters.map(\.scalars), "\(name): same seed, same weights")
            let sequences = lengths.enumerated().map { TestSequence(length: $1, for: a, seed: 140 + UInt64($0) * 10) }
            // runBatch transposes to and from the layer's layout; compare per sequence.
            let first = try runBatch(a, sequences, time: 5, padding: { _, _, _ in 9 })
            let second = try runBatch(b, sequences, time: 5, padding: { _, _, _ in 9 })
            for (index, sequence) in sequences.enumerated() {
                expectSameSequence(first.sequences[index], second.sequences[index], length: sequence.length,
                                   "\(name), sequence \(index)")
            }
            expectSameWeightGrads(first.weightGrads, second.weightGrads, "\(name): layouts")
            // And directly on raw tensors: the time-first output is the transposed batch-first one.
            let x = randomNormal([4, 5, 2], seed: 7)
            let direct = try a.run(x, lengths: lengths)
            let transposed = try b.run(x.transposed(0, 1), lengths: lengths)
            #expect(direct.output.shape == [4, 5, a.outputFeatures])
            #expect(transposed.output.shape == [5, 4, a.outputFeatures])
            expectClose(transposed.output.transposed(0, 1), direct.output, "\(name): output transposed")
            expectClose(transposed.hN, direct.hN, "\(name): h_n")
        }
    }

    @Test func reverseDirectionIsTheForwardRecurrenceOnReversedSequences() throws {
        let lengths = [3, 0, 5, 1, 4]
        let time = 5
        for kind in [RecurrentKind.lstm, .gru, .rnnTanh, .rnnRelu] {
            let bidirectional = LayerUnderTest(kind, inputSize: 3, hiddenSize: 4, bidirectional: true, seed: 600)
            var forwardOnly = LayerUnderTest(kind, inputSize: 3, hiddenSize: 4, bidirectional: false, seed: 601)
            var backwardOnly = forwardOnly
            let weights = Dictionary(uniqueKeysWithValues: bidirectional.namedParameters().map { ($0.name, $0.tensor) })
            forwardOnly.updateParameters { name, tensor in tensor = weights[name]! }
            backwardOnly.updateParameters { name, tensor in tensor = weights[name + "_reverse"]! }

            let x = randomNormal([lengths.count, time, 3], seed: 602)
            // Each sequence's real steps reversed by hand, padding left in place.
            var reversedValues = x.scalars
            for (b, length) in lengths.enumerated() {
                for t in 0..<length {
                    for i in 0..<3 {
                        reversedValues[(b * time + t) * 3 + i] = x.scalars[(b * time + (length - 1 - t)) * 3 + i]
                    }
                }
            }
            let reversedX = Tensor(shape: x.shape, scalars: reversedValues)
            let both = try bidirectional.run(x, lengths: lengths)
            let forward = try forwardOnly.run(x, lengths: lengths)
            let backward = try backwardOnly.run(reversedX, lengths: lengths)
            let hidden = 4
            for (b, length) in lengths.enumerated() {
                let row = both.output.select(dim: 0, index: b)
                for t in 0..<time {
                    let step = row.select(dim: 0, index: t)
                    let forwardPart = step.narrow(dim: 0, start: 0, length: hidden)
                    let reversePart = step.narrow(dim: 0, start: hidden, length: hidden)
                    expectClose(forwardPart, forward.output.select(dim: 0, index: b).select(dim: 0, index: t),
                                "\(kind): forward half, sequence \(b) step \(t)")
                    if t < length {
                        // The reverse direction's output at step t is what the forward
                        // recurrence over the reversed sequence gives at step length-1-t.
                        expectClose(reversePart, backward.output.select(dim: 0, index: b).select(dim: 0, index: length - 1 - t),
                                    "\(kind): reverse half, sequence \(b) step \(t)")
                    } else {
                        expectAllZero(reversePart, "\(kind): reverse half past the length, sequence \(b) step \(t)")
                    }
                }
            }
            expectClose(both.hN.select(dim: 0, index: 0), forward.hN.select(dim: 0, index: 0), "\(kind): forward h_n")
            expectClose(both.hN.select(dim: 0, index: 1), backward.hN.select(dim: 0, index: 0), "\(kind): reverse h_n")
            if let cN = both.cN {
                expectClose(cN.select(dim: 0, index: 1), backward.cN!.select(dim: 0, index: 0), "\(kind): reverse c_n")
            }
        }
    }

    @Test func packedPathEqualsPaddedPath() throws {
        let lengths = [2, 4, 0, 4, 1]
        var generator = RandomGenerator(seed: 700)
        let lstm = LSTM<Double>(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, projSize: 2, using: &generator)
        let gru = GRU<Double>(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, using: &generator)
        let rnn = RNN<Double>(inputSize: 3, hiddenSize: 4, numLayers: 2, nonlinearity: .relu, bidirectional: true, using: &generator)
        let x = randomNormal([4, lengths.count, 3], seed: 701)   // time-first, time = longest length
        let h0 = randomNormal([4, lengths.count, 2], seed: 702)
        let c0 = randomNormal([4, lengths.count, 4], seed: 703)
        let h0Wide = randomNormal([4, lengths.count, 4], seed: 704)

        // LSTM, with gradients of the input compared too.
        let packedInput = x.requiringGrad(), paddedInput = x.requiringGrad()
        let packed = try packPaddedSequence(packedInput, lengths: lengths, batchFirst: false)
        let viaPacked = lstm(packed, initialState: (h0, c0))
        let viaPadded = try lstm(paddedInput, lengths: lengths, initialState: (h0, c0))
        let unpacked = padPackedSequence(viaPacked.output, batchFirst: false)
        #expect(unpacked.lengths == lengths)
        expectClose(unpacked.padded, viaPadded.output, "LSTM: output")
        expectClose(viaPacked.hN, viaPadded.hN, "LSTM: h_n")
        expectClose(viaPacked.cN, viaPadded.cN, "LSTM: c_n")
        let weights = randomNormal(viaPadded.output.shape, seed: 705)
        (unpacked.padded * weights).sum().backward()
        (viaPadded.output * weights).sum().backward()
        expectClose(packedInput.grad!, paddedInput.grad!, "LSTM: input gradient")

        let gruPacked = gru(try packPaddedSequence(x, lengths: lengths, batchFirst: false), initialState: h0Wide)
        let gruPadded = try gru(x, lengths: lengths, initialState: h0Wide)
        expectClose(padPackedSequence(gruPacked.output, batchFirst: false).padded, gruPadded.output, "GRU: output")
        expectClose(gruPacked.hN, gruPadded.hN, "GRU: h_n")

        let rnnPacked = rnn(try packPaddedSequence(x, lengths: lengths, batchFirst: false))
        let rnnPadded = try rnn(x, lengths: lengths)
        expectClose(padPackedSequence(rnnPacked.output, batchFirst: false).padded, rnnPadded.output, "RNN: output")
        expectClose(rnnPacked.hN, rnnPadded.hN, "RNN: h_n")
    }

    /// The fused layers read and write a packed batch in place: the same output, final states
    /// and gradients (input and every weight) as the padded batch, for unequal lengths with a
    /// zero and for a batch whose sequences all have the full length (where the reverse
    /// direction reads the packed rows through a row index instead of gathering them).
    @Test(arguments: [[2, 4, 0, 4, 1], [3, 3, 3]])
    func fusedLayersRunPackedBatchesInPlace(lengths: [Int]) throws {
        var generator = RandomGenerator(seed: 710)
        let time = lengths.max()!
        let x = randomNormal([time, lengths.count, 3], seed: 711)
        func compare<Cell: BuiltInRecurrentCell>(_ layer: RecurrentLayer<Cell>, _ name: String,
                                                  run: (RecurrentLayer<Cell>, Tensor<Double>, Bool) throws -> (Tensor<Double>, [Tensor<Double>]))
            rethrows where Cell.Scalar == Double {
            #expect(layer.recurrence.captureStatus() == .fused, "\(name) must run the fused recurrence")
            var results: [(output: Tensor<Double>, states: [Tensor<Double>], grads: [Tensor<Double>])] = []
            for packed in [true, false] {
                var copy = layer
                copy.updateParameters { _, tensor in tensor = tensor.detached().requiringGrad() }
                let input = x.requiringGrad()
                let (output, states) = try run(copy, input, packed)
                let weights = randomNormal(output.shape, seed: 712)
                ((output * weights).sum() + states.map { $0.sum() }.reduce(Tensor(0), +)).backward()
                results.append((output, states, [input.grad!] + copy.parameters().map { $0.grad! }))
            }
            expectClose(results[0].output, results[1].output, "\(name): output")
            for (a, b) in zip(results[0].states, results[1].states) { expectClose(a, b, "\(name): final state") }
            for (i, (a, b)) in zip(results[0].grads, results[1].grads).enumerated() {
                expectClose(a, b, "\(name): gradient \(i) (0 is the input)")
            }
        }
        let lstm = LSTM<Double>(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, using: &generator)
        try compare(lstm, "LSTM") { layer, input, packed in
            if packed {
                let r = layer(try packPaddedSequence(input, lengths: lengths, batchFirst: false))
                return (padPackedSequence(r.output, batchFirst: false, totalLength: time).padded, [r.hN, r.cN])
            }
            let r = try layer(input, lengths: lengths)
            return (r.output, [r.hN, r.cN])
        }
        // GRU and RNN: the state is h alone.
        func runHidden<Cell: BuiltInRecurrentCell>(_ layer: RecurrentLayer<Cell>, _ input: Tensor<Double>, _ packed: Bool) throws
            -> (Tensor<Double>, [Tensor<Double>])
            where Cell.Scalar == Double, Cell.LayerOutput == (output: Tensor<Double>, hN: Tensor<Double>),
                  Cell.PackedLayerOutput == (output: PackedSequence<Double>, hN: Tensor<Double>) {
            if packed {
                let r = layer(try packPaddedSequence(input, lengths: lengths, batchFirst: false))
                return (padPackedSequence(r.output, batchFirst: false, totalLength: time).padded, [r.hN])
            }
            let r = try layer(input, lengths: lengths)
            return (r.output, [r.hN])
        }
        try compare(GRU<Double>(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, using: &generator), "GRU",
                    run: runHidden)
        try compare(RNN<Double>(inputSize: 3, hiddenSize: 4, nonlinearity: .relu, bidirectional: true, using: &generator), "RNN",
                    run: runHidden)
    }

    @Test func packedLayoutIsPyTorchs() throws {
        // Batch-first [3, 3, 1] holding 10·b + t; lengths [2, 3, 1] sort to sequences 1, 0, 2.
        let x = Tensor<Double>(shape: [3, 3, 1], scalars: (0..<3).flatMap { b in (0..<3).map { t in Double(10 * b + t) } })
        let packed = try packPaddedSequence(x, lengths: [2, 3, 1], batchFirst: true)
        #expect(packed.sortedIndices == [1, 0, 2])
        #expect(packed.unsortedIndices == [1, 0, 2])
        #expect(packed.batchSizes == [3, 2, 1])
        #expect(packed.data.shape == [6, 1])
        // Step 0 of sequences 1, 0, 2; step 1 of sequences 1, 0; step 2 of sequence 1.
        #expect(packed.data.scalars == [10, 0, 20, 11, 1, 12])
        #expect(packed.lengths == [2, 3, 1])
        let (padded, lengths) = padPackedSequence(packed, batchFirst: true, paddingValue: -1, totalLength: 4)
        #expect(lengths == [2, 3, 1])
        #expect(padded.shape == [3, 4, 1])
        #expect(padded.scalars == [0, 1, -1, -1, 10, 11, 12, -1, 20, -1, -1, -1])
    }
}
