import Testing
@testable import Loom

/// How a replay schedules a captured step: a product added to a value nothing else reads is
/// accumulated into it, elementwise instructions of one width run as chains that read column
/// slices in place and write out only what something else reads, and an operand read only by
/// a sum shares the sum's gradient buffer. All of it leaves the results of op-by-op
/// evaluation unchanged.
@Suite struct StepScheduleTests {
    func capture<Cell: RecurrentCell>(_ cell: Cell, inputSize: Int, rows: Int) throws -> StepProgram<Cell.Scalar> {
        let input = Tensor<Cell.Scalar>.zeros([rows, inputSize])
        return try StepProgram.capture(cell, parameters: cell.parameters(), input: input, state: cell.zeroState(batchSize: rows)).get()
    }

    @Test func spelledOutLSTMAccumulatesItsProductAndChainsItsGates() throws {
        var generator = RandomGenerator(seed: 3)
        let cell = FloatLSTMCell(inputSize: 5, hiddenSize: 8, using: &generator)
        let program = try capture(cell, inputSize: 5, rows: 4)
        let ring = program.widths.indices.map { r in r != 0 && r != program.outputRegister && !program.hoisted[r] }
        let inference = StepSchedule(program, keepsAllRows: false, ring: ring)
        var products = 0, chains: [StepSchedule.Chain] = []
        for item in inference.stepItems {
            switch item {
            case .accumulatedProduct(let linear, let into):
                products += 1
                #expect(program.hoisted[into], "the product goes into the hoisted input projection")
                guard case .linear(let input, _, nil) = program.instructions[linear] else { Issue.record("not a product"); continue }
                #expect(input == 1, "h · W_hhᵀ")
            case .chain(let chain): chains.append(chain)
            case .instruction(let i): Issue.record("instruction \(program.instructions[i]) runs alone")
            }
        }
        #expect(products == 1)
        try #require(chains.count == 1)
        let chain = chains[0]
        #expect(chain.width == 8 && chain.instructions.count == 13, "4 slices and 9 elementwise ops: \(chain.instructions.count)")
        let views = chain.locations.filter { if case .view = $0 { true } else { false } }.count
        #expect(views == 4, "every gate slice is read in place")
        #expect(chain.temporaryCount == 7, "sigmoids, tanhs and products live in the scratch: \(chain.temporaryCount)")
        for r in [program.outputRegister] + program.stateOutputRegisters { #expect(chain.locations[r] == .memory) }

        // Training: backward reads the gates' activations, so the chain writes them out.
        let training = StepSchedule(program, keepsAllRows: true, ring: ring)
        guard case .chain(let trainingChain) = training.stepItems.last else { Issue.record("no chain"); return }
        for i in trainingChain.instructions where program.valuesReadByBackward[program.register(ofInstruction: i)] {
            #expect(trainingChain.locations[program.register(ofInstruction: i)] == .memory)
        }
        // The projection and the product take the gates' gradient as it is, and the two terms
        // of the cell state take the cell state's.
        let shares = program.gradientShares
        #expect(shares.enumerated().filter { $0.offset != $0.element }.count == 4)
        // The gates' four chunks cover them: their gradients are written in place.
        let tiled = program.tiledBySlices
        #expect(tiled.filter { $0 }.count == 1)
        #expect(program.liveReaders[tiled.firstIndex(of: true)!].count == 4)
    }

    @Test func everyRewriteMatchesOpByOp() throws {
        var generator = RandomGenerator(seed: 6)
        let recurrence = Recurrence<RewriteCell>(inputSize: 3, numLayers: 2, bidirectional: true, using: &generator) { size, g in
            RewriteCell(inputSize: size, hiddenSize: 4, using: &g)
        }
        let program = try capture(recurrence.cells[0][0], inputSize: 3, rows: 5)
        let ring = program.widths.indices.map { r in r != 0 && r != program.outputRegister && !program.hoisted[r] }
        let items = StepSchedule(program, keepsAllRows: false, ring: ring).stepItems
        #expect(items.contains { if case .accumulatedProduct = $0 { true } else { false } })
        #expect(items.contains { if case .chain = $0 { true } else { false } })
        #expect(program.gradientShares.enumerated().filter { $0.offset != $0.element }.count >= 3)
        // Without a gradient, bit for bit.
        let x = randomNormal([5, 5, 3], seed: 40)
        let lengths = [3, 0, 5, 2, 5]
        var captured = recurrence, opByOp = recurrence
        captured.stepExecution = .captured
        opByOp.stepExecution = .opByOp
        var unused = RandomGenerator(seed: 0)
        let a = try withoutGradient { try captured(x, lengths: lengths, using: &unused) }
        let b = try withoutGradient { try opByOp(x, lengths: lengths, using: &unused) }
        #expect(a.output.scalars == b.output.scalars)
        #expect(a.states.flatMap { $0 }.map(\.scalars) == b.states.flatMap { $0 }.map(\.scalars))
        // With gradients, through the shared helper.
        try CapturedStepTests().expectCapturedEqualsOpByOp(recurrence, inputSize: 3, withInitialStates: true)
    }
}

/// A cell built to meet every rewrite of the schedule: a sum of two hoisted products that a
/// per-step product is accumulated into, gate slices read in place and one read by a product
/// (so written out), a fixed row, scalars, scaling, a difference whose first operand shares
/// the gradient, and values read by nothing but the chain.
struct RewriteCell: RecurrentCell {
    typealias Scalar = Double
    var inputA: Tensor<Double>, inputB: Tensor<Double>, hidden: Tensor<Double>, back: Tensor<Double>, row: Tensor<Double>
    var outputSize: Int { hidden.shape[1] }

    init(inputSize: Int, hiddenSize: Int, using generator: inout RandomGenerator) {
        inputA = cellWeight([2 * hiddenSize, inputSize], hidden: hiddenSize, using: &generator)
        inputB = cellWeight([2 * hiddenSize, inputSize], hidden: hiddenSize, using: &generator)
        hidden = cellWeight([2 * hiddenSize, hiddenSize], hidden: hiddenSize, using: &generator)
        back = cellWeight([hiddenSize, hiddenSize], hidden: hiddenSize, using: &generator)
        row = cellWeight([hiddenSize], hidden: hiddenSize, using: &generator)
    }

    func zeroState(batchSize: Int) -> [Tensor<Double>] { [Tensor.zeros([batchSize, outputSize])] }

    func callAsFunction(_ x: Tensor<Double>, state: [Tensor<Double>]) -> (output: Tensor<Double>, state: [Tensor<Double>]) {
        let h = state[0]
        let projection = linear(x, weight: inputA) + linear(x, weight: inputB)
        let parts = (linear(h, weight: hidden) + projection).chunk(2, dim: 1)
        let u = (parts[0] * row - 0.5).sigmoid()
        let v = (-parts[1]).exp().log()
        let w = linear(parts[1], weight: back)
        let d = (w.relu() * 0.25 - v) / 2
        let next = u * h + (1 - u) * d.tanh()
        return (next, [next])
    }
}
