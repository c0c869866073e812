import Testing
@testable import Loom

/// `Recurrence` over user-written cells: the spelled-out LSTM equals the built-in `LSTM`
/// (values and gradients, stacked, bidirectional, zero lengths), packed and padded inputs
/// agree, three custom cells pass Double gradient checks over a variable-length
/// bidirectional batch, and names, states and train/eval behave.
@Suite struct RecurrenceTests {
    func normal(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
        var generator = RandomGenerator(seed: seed)
        return Tensor<Double>.randn(shape, using: &generator)
    }

    func expectClose(_ a: Tensor<Double>, _ b: Tensor<Double>, _ label: String, tolerance: Double = 1e-12,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(a.shape == b.shape, "\(label): \(a.shape) vs \(b.shape)", sourceLocation: sourceLocation)
        let worst = zip(a.scalars, b.scalars).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= tolerance, "\(label): off by \(worst)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [true, false])
    func spelledOutLSTMMatchesTheBuiltInLayer(batchFirst: Bool) throws {
        var generator = RandomGenerator(seed: 1)
        var builtIn = LSTM<Double>(inputSize: 3, hiddenSize: 4, numLayers: 2, batchFirst: batchFirst, bidirectional: true,
                                   using: &generator)
        builtIn.eval()
        var next = 0
        let recurrence = Recurrence<SpelledOutLSTMCell<Double>>(inputSize: 3, numLayers: 2, bidirectional: true,
                                                               batchFirst: batchFirst, using: &generator) { _, _ in
            let w = builtIn.weights(layer: next / 2, direction: next % 2)
            next += 1
            return SpelledOutLSTMCell(weightIH: w.weightIH, weightHH: w.weightHH, biasIH: w.biasIH!, biasHH: w.biasHH!)
        }
        let lengths = [3, 0, 5, 2]
        let x = normal(batchFirst ? [4, 5, 3] : [5, 4, 3], seed: 2).requiringGrad()
        let upstream = normal(batchFirst ? [4, 5, 8] : [5, 4, 8], seed: 3), upstreamH = normal([4, 4, 4], seed: 4)
        let upstreamC = normal([4, 4, 4], seed: 5)

        func loss(_ output: Tensor<Double>, _ h: Tensor<Double>, _ c: Tensor<Double>) -> Tensor<Double> {
            (output * upstream).sum() + (h * upstreamH).sum() + (c * upstreamC).sum()
        }
        func gradients() -> [Tensor<Double>] {
            defer { x.zeroGrad(); builtIn.zeroGrad() }
            return [x.grad!] + builtIn.parameters().map { $0.grad! }
        }
        let expected = try builtIn(x, lengths: lengths)
        loss(expected.output, expected.hN, expected.cN).backward()
        let expectedGradients = gradients()

        var unused = RandomGenerator(seed: 0)
        let got = try recurrence(x, lengths: lengths, using: &unused)
        let h = Tensor.stack(got.states.map { $0[0] }, dim: 0), c = Tensor.stack(got.states.map { $0[1] }, dim: 0)
        expectClose(got.output, expected.output, "output")
        expectClose(h, expected.hN, "h_n")
        expectClose(c, expected.cN, "c_n")
        loss(got.output, h, c).backward()
        for (n, (a, b)) in zip(gradients(), expectedGradients).enumerated() { expectClose(a, b, "gradient \(n)", tolerance: 1e-11) }
    }

    @Test func packedAndPaddedInputsAgree() throws {
        var generator = RandomGenerator(seed: 6)
        let recurrence = Recurrence<MinimalGatedCell<Double>>(inputSize: 2, numLayers: 2, bidirectional: true, batchFirst: true,
                                                              using: &generator) { size, g in
            MinimalGatedCell(inputSize: size, hiddenSize: 3, using: &g)
        }
        let x = normal([3, 4, 2], seed: 7), lengths = [2, 4, 0]
        var unused = RandomGenerator(seed: 0)
        let padded = try recurrence(x, lengths: lengths, using: &unused)
        let packed = recurrence(try packPaddedSequence(x, lengths: lengths, batchFirst: true), using: &unused)
        expectClose(padPackedSequence(packed.output, batchFirst: true).padded, padded.output, "output")
        for (a, b) in zip(packed.states, padded.states) { expectClose(a[0], b[0], "final state") }
        // Zeros past each length, and the zero-length sequence keeps its initial state.
        #expect(padded.output.scalars[(0 * 4 + 2) * 6 ..< (0 * 4 + 4) * 6].allSatisfy { $0 == 0 })
        #expect(padded.output.scalars[(2 * 4) * 6 ..< (3 * 4) * 6].allSatisfy { $0 == 0 })
        #expect(padded.states.allSatisfy { $0[0].scalars[6 ..< 9].allSatisfy { $0 == 0 } })
    }

    @Test func initialStatesAreUsedAndGetGradients() throws {
        var generator = RandomGenerator(seed: 8)
        let recurrence = Recurrence<PeepholeLSTMCell<Double>>(inputSize: 2, bidirectional: true, using: &generator) { size, g in
            PeepholeLSTMCell(inputSize: size, hiddenSize: 2, using: &g)
        }
        let x = normal([3, 2, 2], seed: 9), lengths = [3, 1]
        let starts = (0..<2).map { d in [normal([2, 2], seed: 10 + UInt64(d)).requiringGrad(), normal([2, 2], seed: 20 + UInt64(d)).requiringGrad()] }
        var unused = RandomGenerator(seed: 0)
        let zero = try recurrence(x, lengths: lengths, using: &unused)
        let started = try recurrence(x, lengths: lengths, initialStates: starts, using: &unused)
        #expect(zero.output.scalars != started.output.scalars)
        started.output.sum().backward()
        #expect(starts.allSatisfy { $0.allSatisfy { $0.grad != nil } })
    }

    /// Checks the gradient of a loss over every output and final state with respect to the
    /// input and every parameter, through a 2-layer bidirectional recurrence over lengths
    /// with a zero.
    func checkGradients<Cell: RecurrentCell>(_ recurrence: Recurrence<Cell>, _ label: String) where Cell.Scalar == Double {
        let x = normal([3, 4, 2], seed: 30), lengths = [4, 0, 2]
        let report = gradientCheck([x] + recurrence.parameters()) { t in
            var model = recurrence
            var next = 1
            model.updateParameters { _, p in p = t[next]; next += 1 }
            var unused = RandomGenerator(seed: 0)
            let r = try! model(t[0], lengths: lengths, using: &unused)
            let states = Tensor.cat(r.states.flatMap { $0 }, dim: 1)
            return r.output.tanh().sum() + (states * states).sum()
        }
        #expect(report.passed, "\(label): \(report)")
    }

    @Test func customCellsPassGradientChecks() {
        var generator = RandomGenerator(seed: 31)
        checkGradients(Recurrence<PeepholeLSTMCell<Double>>(inputSize: 2, numLayers: 2, bidirectional: true, batchFirst: true,
                                                            using: &generator) { PeepholeLSTMCell(inputSize: $0, hiddenSize: 2, using: &$1) },
                       "peephole LSTM")
        checkGradients(Recurrence<LayerNormLSTMCell<Double>>(inputSize: 2, numLayers: 2, bidirectional: true, batchFirst: true,
                                                             using: &generator) { LayerNormLSTMCell(inputSize: $0, hiddenSize: 2, using: &$1) },
                       "layer-norm LSTM")
        checkGradients(Recurrence<MinimalGatedCell<Double>>(inputSize: 2, numLayers: 2, bidirectional: true, batchFirst: true,
                                                            using: &generator) { MinimalGatedCell(inputSize: $0, hiddenSize: 2, using: &$1) },
                       "minimal gated unit")
    }

    @Test func parametersHaveStableDottedNames() {
        var generator = RandomGenerator(seed: 40)
        var ln = Recurrence<LayerNormLSTMCell<Float>>(inputSize: 3, numLayers: 2, bidirectional: true, using: &generator) {
            LayerNormLSTMCell(inputSize: $0, hiddenSize: 2, using: &$1)
        }
        let names = ln.namedParameters().map(\.name)
        #expect(names.first == "layers.0.forward.weight_ih")
        #expect(names.contains("layers.1.reverse.ln_c.bias"))
        #expect(names.count == 2 * 2 * 8)
        #expect(ln.cells[1][0].weightIH.shape == [8, 4], "layer 1 reads both directions of layer 0")
        var mgu = Recurrence<MinimalGatedCell<Float>>(inputSize: 3, using: &generator) { MinimalGatedCell(inputSize: $0, hiddenSize: 2, using: &$1) }
        #expect(mgu.namedParameters().map(\.name) == ["layers.0.forward.input.weight", "layers.0.forward.input.bias",
                                                      "layers.0.forward.hiddenForget.weight", "layers.0.forward.hiddenCandidate.weight"])
        ln.eval()
        #expect(!ln.training)
    }

    @Test func dropoutBetweenLayersOnlyInTraining() throws {
        var generator = RandomGenerator(seed: 41)
        var recurrence = Recurrence<MinimalGatedCell<Double>>(inputSize: 2, numLayers: 2, dropout: 0.5, batchFirst: true,
                                                              using: &generator) { MinimalGatedCell(inputSize: $0, hiddenSize: 3, using: &$1) }
        let x = normal([2, 3, 2], seed: 42)
        var a = RandomGenerator(seed: 1), b = RandomGenerator(seed: 2)
        let first = try recurrence(x, lengths: [3, 2], using: &a).output.scalars
        let second = try recurrence(x, lengths: [3, 2], using: &b).output.scalars
        #expect(first != second)
        recurrence.eval()
        let third = try recurrence(x, lengths: [3, 2], using: &a).output.scalars
        let fourth = try recurrence(x, lengths: [3, 2], using: &b).output.scalars
        #expect(third == fourth)
    }

    @Test func badLengthsThrow() {
        var generator = RandomGenerator(seed: 43)
        let recurrence = Recurrence<MinimalGatedCell<Double>>(inputSize: 2, batchFirst: true, using: &generator) {
            MinimalGatedCell(inputSize: $0, hiddenSize: 3, using: &$1)
        }
        var unused = RandomGenerator(seed: 0)
        #expect(throws: SequenceLengthError.self) { try recurrence(normal([2, 3, 2], seed: 1), lengths: [4, 1], using: &unused) }
        #expect(throws: SequenceLengthError.self) { try recurrence(normal([2, 3, 2], seed: 1), lengths: [1], using: &unused) }
    }
}

/// The built-in cells through `Recurrence` give the built-in layers' numbers.
@Suite struct BuiltInCellRecurrenceTests {
    @Test func gruCellsThroughRecurrenceMatchTheGRULayer() throws {
        var generator = RandomGenerator(seed: 50)
        var layer = GRU<Double>(inputSize: 3, hiddenSize: 4, numLayers: 2, batchFirst: true, bidirectional: true, using: &generator)
        layer.eval()
        var next = 0
        let recurrence = Recurrence<GRUCell<Double>>(inputSize: 3, numLayers: 2, bidirectional: true, batchFirst: true,
                                                     using: &generator) { size, g in
            var cell = GRUCell<Double>(inputSize: size, hiddenSize: 4, using: &g)
            cell.weights = layer.weights(layer: next / 2, direction: next % 2)
            next += 1
            return cell
        }
        var unused = RandomGenerator(seed: 1)
        let x = Tensor<Double>.randn([3, 4, 3], using: &unused)
        let expected = try layer(x, lengths: [4, 0, 2])
        let got = try recurrence(x, lengths: [4, 0, 2], using: &unused)
        let hN = Tensor.stack(got.states.map { $0[0] }, dim: 0)
        #expect(zip(got.output.scalars, expected.output.scalars).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(zip(hN.scalars, expected.hN.scalars).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func lstmAndRNNCellsRunThroughRecurrence() throws {
        var generator = RandomGenerator(seed: 51)
        let lstm = Recurrence<LSTMCell<Float>>(inputSize: 3, batchFirst: true, using: &generator) { LSTMCell(inputSize: $0, hiddenSize: 5, using: &$1) }
        let rnn = Recurrence<RNNCell<Float>>(inputSize: 3, bidirectional: true, batchFirst: true, using: &generator) {
            RNNCell(inputSize: $0, hiddenSize: 5, nonlinearity: .relu, using: &$1)
        }
        var unused = RandomGenerator(seed: 1)
        let x = Tensor<Float>.randn([2, 3, 3], using: &unused)
        #expect(try lstm(x, lengths: [3, 1], using: &unused).output.shape == [2, 3, 5])
        #expect(try rnn(x, lengths: [3, 1], using: &unused).output.shape == [2, 3, 10])
    }
}
