import Foundation
import Testing
import Loom

/// `Recurrence` replays a captured step program: for every custom cell the captured run
/// equals op-by-op evaluation (forward bit for bit, gradients to rounding) over stacked,
/// bidirectional, variable-length batches with a zero length; a step the capture cannot
/// express runs op by op and says why; results do not depend on the thread count.
@Suite struct CapturedStepTests {
    /// Output, final states, and the gradients of the input, the initial states and every
    /// parameter under a fixed random upstream gradient.
    func outcome<Cell: RecurrentCell>(_ recurrence: Recurrence<Cell>, _ execution: StepExecution, batchFirst: Bool,
                                      lengths: [Int], time: Int, inputSize: Int, withInitialStates: Bool) throws -> [Tensor<Cell.Scalar>]
    where Cell.Scalar == Double {
        var layer = recurrence
        layer.stepExecution = execution
        let batch = lengths.count
        let x = randomNormal(batchFirst ? [batch, time, inputSize] : [time, batch, inputSize], seed: 21).requiringGrad()
        let cells = layer.cells.flatMap { $0 }
        let initial: [[Tensor<Double>]]? = withInitialStates
            ? cells.enumerated().map { n, cell in cell.zeroState(batchSize: batch).enumerated().map { s, zero in
                randomNormal(zero.shape, seed: UInt64(30 + 4 * n + s), scale: 0.5).requiringGrad() } }
            : nil
        var unused = RandomGenerator(seed: 0)
        let result = try layer(x, lengths: lengths, initialStates: initial, using: &unused)
        var loss = (result.output * randomNormal(result.output.shape, seed: 22)).sum()
        for (n, states) in result.states.enumerated() {
            for (s, state) in states.enumerated() { loss = loss + (state * randomNormal(state.shape, seed: UInt64(50 + 4 * n + s))).sum() }
        }
        loss.backward()
        defer { layer.zeroGrad() }
        let parameterGradients = layer.parameters().map { $0.grad ?? Tensor.zeros($0.shape) }
        return [result.output] + result.states.flatMap { $0 } + [x.grad!] + (initial?.flatMap { $0.map { $0.grad! } } ?? [])
            + parameterGradients
    }

    func expectCapturedEqualsOpByOp<Cell: RecurrentCell>(_ recurrence: Recurrence<Cell>, inputSize: Int, batchFirst: Bool = false,
                                                         withInitialStates: Bool = false,
                                                         sourceLocation: SourceLocation = #_sourceLocation) throws
    where Cell.Scalar == Double {
        guard case .captured = recurrence.captureStatus() else {
            Issue.record("not captured: \(recurrence.captureStatus())", sourceLocation: sourceLocation)
            return
        }
        let lengths = [3, 0, 5, 2, 5]
        let captured = try outcome(recurrence, .captured, batchFirst: batchFirst, lengths: lengths, time: 5, inputSize: inputSize,
                                   withInitialStates: withInitialStates)
        let reference = try outcome(recurrence, .opByOp, batchFirst: batchFirst, lengths: lengths, time: 5, inputSize: inputSize,
                                    withInitialStates: withInitialStates)
        #expect(captured.count == reference.count, sourceLocation: sourceLocation)
        for (n, (a, b)) in zip(captured, reference).enumerated() {
            expectClose(a, b, tolerance: 1e-12, "result \(n)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: [false, true])
    func spelledOutLSTM(batchFirst: Bool) throws {
        var generator = RandomGenerator(seed: 1)
        let recurrence = Recurrence<SpelledOutLSTMCell<Double>>(inputSize: 3, numLayers: 2, bidirectional: true, batchFirst: batchFirst,
                                                               using: &generator) { size, g in
            SpelledOutLSTMCell(weightIH: cellWeight([16, size], hidden: 4, using: &g), weightHH: cellWeight([16, 4], hidden: 4, using: &g),
                               biasIH: cellWeight([16], hidden: 4, using: &g), biasHH: cellWeight([16], hidden: 4, using: &g))
        }
        try expectCapturedEqualsOpByOp(recurrence, inputSize: 3, batchFirst: batchFirst, withInitialStates: true)
    }

    @Test func layerNormLSTM() throws {
        var generator = RandomGenerator(seed: 2)
        var recurrence = Recurrence<LayerNormLSTMCell<Double>>(inputSize: 3, numLayers: 2, bidirectional: true, using: &generator) { size, g in
            LayerNormLSTMCell(inputSize: size, hiddenSize: 4, using: &g)
        }
        // Non-trivial affine parameters, so their gradients are tested too.
        var seed: UInt64 = 90
        recurrence.updateParameters { name, tensor in
            if name.contains("ln_") { seed += 1; tensor = (tensor + randomNormal(tensor.shape, seed: seed, scale: 0.3)).detached().requiringGrad() }
        }
        try expectCapturedEqualsOpByOp(recurrence, inputSize: 3, withInitialStates: true)
    }

    @Test func peepholeLSTM() throws {
        var generator = RandomGenerator(seed: 3)
        let recurrence = Recurrence<PeepholeLSTMCell<Double>>(inputSize: 2, numLayers: 2, bidirectional: true, using: &generator) { size, g in
            PeepholeLSTMCell(inputSize: size, hiddenSize: 3, using: &g)
        }
        try expectCapturedEqualsOpByOp(recurrence, inputSize: 2)
    }

    @Test func minimalGatedUnit() throws {
        var generator = RandomGenerator(seed: 4)
        let recurrence = Recurrence<MinimalGatedCell<Double>>(inputSize: 2, numLayers: 2, bidirectional: true, batchFirst: true,
                                                             using: &generator) { size, g in
            MinimalGatedCell(inputSize: size, hiddenSize: 3, using: &g)
        }
        try expectCapturedEqualsOpByOp(recurrence, inputSize: 2, batchFirst: true, withInitialStates: true)
    }

    @Test func everyReplayedOp() throws {
        var generator = RandomGenerator(seed: 5)
        let recurrence = Recurrence<EveryOpCell>(inputSize: 3, bidirectional: true, using: &generator) { size, g in
            EveryOpCell(inputSize: size, hiddenSize: 4, using: &g)
        }
        guard case .captured(let instructions, let hoisted) = recurrence.captureStatus() else {
            Issue.record("not captured: \(recurrence.captureStatus())")
            return
        }
        #expect(instructions > 20 && hoisted >= 3, "\(instructions) instructions, \(hoisted) hoisted")
        try expectCapturedEqualsOpByOp(recurrence, inputSize: 3, withInitialStates: true)
    }

    /// Built-in cells of either scalar type run the fused recurrence, and composed ones do not.
    @Test func fusedBuiltInCellsOfEitherScalarRunTheFusedRecurrence() {
        func status<Scalar: TensorScalar>(_: Scalar.Type, composed: Bool) -> [StepCaptureStatus] {
            var generator = RandomGenerator(seed: 13)
            var lstm = Recurrence<LSTMCell<Scalar>>(inputSize: 3, using: &generator) { LSTMCell(inputSize: $0, hiddenSize: 4, using: &$1) }
            var gru = Recurrence<GRUCell<Scalar>>(inputSize: 3, using: &generator) { GRUCell(inputSize: $0, hiddenSize: 4, using: &$1) }
            var rnn = Recurrence<RNNCell<Scalar>>(inputSize: 3, using: &generator) { RNNCell(inputSize: $0, hiddenSize: 4, using: &$1) }
            if composed {
                lstm.cells[0][0].implementation = .composed
                gru.cells[0][0].implementation = .composed
                rnn.cells[0][0].implementation = .composed
            }
            return [lstm.captureStatus(), gru.captureStatus(), rnn.captureStatus()]
        }
        #expect(status(Float.self, composed: false) == [.fused, .fused, .fused])
        #expect(status(Double.self, composed: false) == [.fused, .fused, .fused])
        #expect(!status(Float.self, composed: true).contains(.fused))
        #expect(!status(Double.self, composed: true).contains(.fused))
    }

    @Test func composedBuiltInCellsAreCapturedAndFusedOnesRunTheFusedRecurrence() throws {
        var generator = RandomGenerator(seed: 10)
        var lstm = Recurrence<LSTMCell<Double>>(inputSize: 3, numLayers: 2, bidirectional: true, using: &generator) { size, g in
            LSTMCell(inputSize: size, hiddenSize: 4, using: &g)
        }
        #expect(lstm.captureStatus() == .fused, "a fused built-in cell runs the fused recurrence")
        for layer in lstm.cells.indices { for d in lstm.cells[layer].indices { lstm.cells[layer][d].implementation = .composed } }
        try expectCapturedEqualsOpByOp(lstm, inputSize: 3, withInitialStates: true)
        var gru = Recurrence<GRUCell<Double>>(inputSize: 3, bidirectional: true, using: &generator) { size, g in
            GRUCell(inputSize: size, hiddenSize: 4, using: &g)
        }
        for d in gru.cells[0].indices { gru.cells[0][d].implementation = .composed }
        try expectCapturedEqualsOpByOp(gru, inputSize: 3)
    }

    /// A decoder-style loop of `steps` calls; returns the outputs, the last state and the
    /// gradients of the inputs, the first state and the parameters.
    func decoderLoop<Cell: RecurrentCell>(_ step: (Tensor<Double>, [Tensor<Double>]) -> (output: Tensor<Double>, state: [Tensor<Double>]),
                                          cell: Cell, inputs: [Tensor<Double>], start: [Tensor<Double>]) -> [Tensor<Double>]
    where Cell.Scalar == Double {
        var state = start
        var outputs: [Tensor<Double>] = []
        for x in inputs {
            // The batch shrinks, as in a decoder over length-sorted targets.
            let rows = x.shape[0]
            let (output, next) = step(x, state.map { $0.narrow(dim: 0, start: 0, length: rows) })
            outputs.append(output)
            state = next
        }
        var loss = state.enumerated().map { (s, tensor) in (tensor * randomNormal(tensor.shape, seed: UInt64(70 + s))).sum() }
            .reduce(Tensor(0.0), +)
        for (t, output) in outputs.enumerated() { loss = loss + (output * randomNormal(output.shape, seed: UInt64(80 + t))).sum() }
        loss.backward()
        defer { cell.zeroGrad(); for x in inputs { x.zeroGrad() }; for s in start { s.zeroGrad() } }
        return outputs + state + inputs.map { $0.grad! } + start.map { $0.grad! } + cell.parameters().map { $0.grad ?? Tensor.zeros($0.shape) }
    }

    @Test func cellsSteppedByHandRunTheCapturedStep() {
        var generator = RandomGenerator(seed: 11)
        var cell = PeepholeLSTMCell<Double>(inputSize: 3, hiddenSize: 4, using: &generator)
        let inputs = [5, 5, 4, 2].enumerated().map { randomNormal([$1, 3], seed: UInt64(60 + $0)).requiringGrad() }
        let start = cell.zeroState(batchSize: 5).enumerated().map { randomNormal($1.shape, seed: UInt64(65 + $0)).requiringGrad() }
        let captured = CapturedCell(cell)
        #expect(!captured.isCaptured)
        let got = decoderLoop({ captured($0, state: $1) }, cell: cell, inputs: inputs, start: start)
        #expect(captured.isCaptured)
        let expected = decoderLoop({ cell($0, state: $1) }, cell: cell, inputs: inputs, start: start)
        for (n, (a, b)) in zip(got, expected).enumerated() { expectClose(a, b, tolerance: 1e-12, "result \(n)") }

        // A replaced parameter is captured again.
        cell.weightHH = randomNormal(cell.weightHH.shape, seed: 99).requiringGrad()
        captured.cell = cell
        let again = decoderLoop({ captured($0, state: $1) }, cell: cell, inputs: inputs, start: start)
        let reference = decoderLoop({ cell($0, state: $1) }, cell: cell, inputs: inputs, start: start)
        for (n, (a, b)) in zip(again, reference).enumerated() { expectClose(a, b, tolerance: 1e-12, "after replacing: result \(n)") }
        #expect(again[0].scalars != got[0].scalars || again.count != got.count, "the replaced weight must be used")

        // A step the capture cannot express runs op by op.
        let fallback = FallbackCell(inputSize: 3, hiddenSize: 4, variant: .untracedOp, using: &generator)
        let steppedFallback = CapturedCell(fallback)
        let fallbackStart = fallback.zeroState(batchSize: 5).map { $0.requiringGrad() }
        let viaWrapper = decoderLoop({ steppedFallback($0, state: $1) }, cell: fallback, inputs: inputs, start: fallbackStart)
        #expect(!steppedFallback.isCaptured)
        let direct = decoderLoop({ fallback($0, state: $1) }, cell: fallback, inputs: inputs, start: fallbackStart)
        for (a, b) in zip(viaWrapper, direct) { #expect(a.scalars == b.scalars) }
    }

    @Test func hoistsTheInputProjection() {
        var generator = RandomGenerator(seed: 6)
        let recurrence = Recurrence<MinimalGatedCell<Double>>(inputSize: 2, using: &generator) { size, g in
            MinimalGatedCell(inputSize: size, hiddenSize: 3, using: &g)
        }
        // linear(x) and its two chunks run once for all steps; the rest per step.
        #expect(recurrence.captureStatus() == .captured(instructions: 14, hoisted: 3))
    }

    @Test func stepsTheCaptureCannotExpressRunOpByOpWithTheSameResults() throws {
        var generator = RandomGenerator(seed: 7)
        for variant in FallbackCell.Variant.allCases {
            let recurrence = Recurrence<FallbackCell>(inputSize: 2, bidirectional: true, using: &generator) { size, g in
                FallbackCell(inputSize: size, hiddenSize: 3, variant: variant, using: &g)
            }
            guard case .opByOp(let reason) = recurrence.captureStatus() else {
                Issue.record("\(variant) was captured")
                continue
            }
            #expect(!reason.isEmpty)
            let lengths = [3, 0, 5, 2, 5]
            let captured = try outcome(recurrence, .captured, batchFirst: false, lengths: lengths, time: 5, inputSize: 2,
                                       withInitialStates: false)
            let reference = try outcome(recurrence, .opByOp, batchFirst: false, lengths: lengths, time: 5, inputSize: 2,
                                        withInitialStates: false)
            for (n, (a, b)) in zip(captured, reference).enumerated() {
                #expect(a.scalars == b.scalars, "\(variant): result \(n) differs")
            }
        }
    }

    @Test func floatResultsAreBitwiseOpByOpAndThreadIndependent() throws {
        var generator = RandomGenerator(seed: 8)
        let recurrence = Recurrence<FloatLSTMCell>(inputSize: 24, bidirectional: true, batchFirst: true, using: &generator) { size, g in
            FloatLSTMCell(inputSize: size, hiddenSize: 40, using: &g)
        }
        var data = RandomGenerator(seed: 9)
        let x = Tensor<Float>.randn([6, 9, 24], using: &data).requiringGrad()
        let lengths = [9, 4, 0, 7, 9, 1]
        func run(_ execution: StepExecution, threads: Int) throws -> [[Float]] {
            var layer = recurrence
            layer.stepExecution = execution
            return try Threads.withCount(threads) {
                var unused = RandomGenerator(seed: 0)
                let result = try layer(x, lengths: lengths, using: &unused)
                (result.output.tanh().sum() + result.states[1][1].sum()).backward()
                defer { x.zeroGrad(); layer.zeroGrad() }
                return [result.output.scalars, result.states[0][0].scalars, result.states[1][1].scalars, x.grad!.scalars]
                    + layer.parameters().map { $0.grad!.scalars }
            }
        }
        // Without a gradient (values a step needs only for itself are not kept).
        for execution in [StepExecution.captured, .opByOp] {
            var layer = recurrence
            layer.stepExecution = execution
            var unused = RandomGenerator(seed: 0)
            let result = try withoutGradient { try layer(x, lengths: lengths, using: &unused) }
            var reference = recurrence
            reference.stepExecution = .opByOp
            let expected = try withoutGradient { try reference(x, lengths: lengths, using: &unused) }
            #expect(result.output.scalars == expected.output.scalars, "\(execution): output without gradient")
            for (a, b) in zip(result.states.flatMap { $0 }, expected.states.flatMap { $0 }) {
                #expect(a.scalars == b.scalars, "\(execution): final state without gradient")
            }
        }
        let one = try run(.captured, threads: 1), two = try run(.captured, threads: 2)
        #expect(one == two)
        let reference = try run(.opByOp, threads: 1)
        for n in 0..<3 { #expect(one[n] == reference[n], "forward result \(n)") }
        for n in 3..<one.count {
            let worst = zip(one[n], reference[n]).map { abs($0 - $1) }.max() ?? 0
            #expect(worst <= 1e-4, "gradient \(n) off by \(worst)")
        }
    }
}

/// A cell that uses every op a captured step replays: linear with and without bias, the four
/// arithmetic ops between step values, with a parameter row and with scalars, negation, exp,
/// log, tanh, sigmoid, relu, scaling, narrow, chunk, cat and layerNorm.
struct EveryOpCell: RecurrentCell {
    typealias Scalar = Double
    var input: Linear<Double>, hidden: Linear<Double>
    var row: Tensor<Double>, norm: LayerNorm<Double>
    var outputSize: Int { hidden.inFeatures }

    init(inputSize: Int, hiddenSize: Int, using generator: inout RandomGenerator) {
        input = Linear(inputSize, 2 * hiddenSize, using: &generator)
        hidden = Linear(hiddenSize, 2 * hiddenSize, bias: false, using: &generator)
        row = cellWeight([hiddenSize], hidden: hiddenSize, using: &generator)
        norm = LayerNorm(hiddenSize)
    }

    func zeroState(batchSize: Int) -> [Tensor<Double>] { [Tensor.zeros([batchSize, outputSize]), Tensor.zeros([batchSize, outputSize])] }

    func callAsFunction(_ x: Tensor<Double>, state: [Tensor<Double>]) -> (output: Tensor<Double>, state: [Tensor<Double>]) {
        let (h, m) = (state[0], state[1])
        let projected = input(x).chunk(2, dim: 1)
        let hiddenParts = hidden(h)
        let a = projected[0] + hiddenParts.narrow(dim: 1, start: 0, length: outputSize)
        let b = projected[1] - hiddenParts.narrow(dim: 1, start: outputSize, length: outputSize) * 0.5
        let positive = (a * a + 1).log() + b.relu() / (b.sigmoid() + 1)
        let gate = (-(a * row)).exp() / (1 + (a * row).exp())
        let joined = Tensor.cat([positive, gate], dim: 1).narrow(dim: 1, start: 1, length: outputSize)
        let next = norm(joined - row + m * gate).tanh() + 2 - (h / 3)
        return (next, [next, m * 0.5 + positive * row])
    }
}

/// Cells the capture cannot express, each for one reason.
struct FallbackCell: RecurrentCell {
    typealias Scalar = Double
    enum Variant: CaseIterable { case untracedOp, detachedValue, rowMixing, createdTensor }
    var input: Linear<Double>, hidden: Linear<Double>
    let variant: Variant
    var outputSize: Int { hidden.outFeatures }

    init(inputSize: Int, hiddenSize: Int, variant: Variant, using generator: inout RandomGenerator) {
        input = Linear(inputSize, hiddenSize, using: &generator)
        hidden = Linear(hiddenSize, hiddenSize, using: &generator)
        self.variant = variant
    }

    mutating func visit(_ visitor: ModuleVisitor<Double>) {
        visitor.module("input", &input)
        visitor.module("hidden", &hidden)
    }

    func zeroState(batchSize: Int) -> [Tensor<Double>] { [Tensor.zeros([batchSize, outputSize])] }

    func callAsFunction(_ x: Tensor<Double>, state: [Tensor<Double>]) -> (output: Tensor<Double>, state: [Tensor<Double>]) {
        let h = state[0]
        let pre = input(x) + hidden(h)
        let next: Tensor<Double>
        switch variant {
        case .untracedOp: next = pre.softmax(dim: 1)
        case .detachedValue: next = pre.tanh() * h.detached()
        case .rowMixing: next = pre.tanh() + h.sum(dim: 0, keepDims: true)
        case .createdTensor: next = pre.tanh() + Tensor.ones([x.shape[0], outputSize])
        }
        return (next, [next])
    }
}

/// The spelled-out LSTM in Float.
struct FloatLSTMCell: RecurrentCell {
    var weightIH: Tensor<Float>, weightHH: Tensor<Float>, bias: Tensor<Float>
    var outputSize: Int { weightHH.shape[1] }

    init(inputSize: Int, hiddenSize: Int, using generator: inout RandomGenerator) {
        weightIH = cellWeight([4 * hiddenSize, inputSize], hidden: hiddenSize, using: &generator)
        weightHH = cellWeight([4 * hiddenSize, hiddenSize], hidden: hiddenSize, using: &generator)
        bias = cellWeight([4 * hiddenSize], hidden: hiddenSize, using: &generator)
    }

    func zeroState(batchSize: Int) -> [Tensor<Float>] { [Tensor.zeros([batchSize, outputSize]), Tensor.zeros([batchSize, outputSize])] }

    func callAsFunction(_ x: Tensor<Float>, state: [Tensor<Float>]) -> (output: Tensor<Float>, state: [Tensor<Float>]) {
        let gates = (linear(x, weight: weightIH, bias: bias) + linear(state[0], weight: weightHH)).chunk(4, dim: 1)
        let c = gates[1].sigmoid() * state[1] + gates[0].sigmoid() * gates[2].tanh()
        let h = gates[3].sigmoid() * c.tanh()
        return (h, [h, c])
    }
}
