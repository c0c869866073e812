import Testing
@testable import Loom

/// A captured step whose two products feed one sum, `linear(x, W_ih, b_ih) + linear(h, W_hh,
/// b_hh)`, has one gradient for both, so a backward pass takes both weight gradients (and the
/// bias sums) from one product `gᵀ · [x | h]`. The results are bitwise those of two separate
/// products, on every path and thread count, whichever biases are trained.
@Suite struct SharedWeightGradientTests {
    /// The spelled-out LSTM, with its input projection entering the sum as it is (sharing the
    /// sum's gradient with `h · W_hhᵀ`) or multiplied by one: the same values and gradients,
    /// but then the projection's gradient is a copy of its own and nothing is shared.
    struct ProjectionLSTMCell: RecurrentCell {
        typealias Scalar = Float
        var weightIH: Tensor<Float>, weightHH: Tensor<Float>, biasIH: Tensor<Float>, biasHH: Tensor<Float>
        var projectionIsScaled = false
        /// `W_hh` used for the input projection too (needs `inputSize == hiddenSize`).
        var tiesWeights = false
        var outputSize: Int { weightHH.shape[1] }

        init(inputSize: Int, hiddenSize: Int, using generator: inout RandomGenerator) {
            weightIH = cellWeight([4 * hiddenSize, inputSize], hidden: hiddenSize, using: &generator)
            weightHH = cellWeight([4 * hiddenSize, hiddenSize], hidden: hiddenSize, using: &generator)
            biasIH = cellWeight([4 * hiddenSize], hidden: hiddenSize, using: &generator)
            biasHH = cellWeight([4 * hiddenSize], hidden: hiddenSize, using: &generator)
        }

        func zeroState(batchSize: Int) -> [Tensor<Float>] { [Tensor.zeros([batchSize, outputSize]), Tensor.zeros([batchSize, outputSize])] }

        func callAsFunction(_ x: Tensor<Float>, state: [Tensor<Float>]) -> (output: Tensor<Float>, state: [Tensor<Float>]) {
            let projection = linear(x, weight: tiesWeights ? weightHH : weightIH, bias: biasIH)
            let gates = ((projectionIsScaled ? projection * 1 : projection) + linear(state[0], weight: weightHH, bias: biasHH))
                .chunk(4, dim: 1)
            let c = gates[1].sigmoid() * state[1] + gates[0].sigmoid() * gates[2].tanh()
            let h = gates[3].sigmoid() * c.tanh()
            return (h, [h, c])
        }

        mutating func visit(_ visitor: ModuleVisitor<Float>) {
            visitor.parameter("weight_ih", &weightIH)
            visitor.parameter("weight_hh", &weightHH)
            visitor.parameter("bias_ih", &biasIH)
            visitor.parameter("bias_hh", &biasHH)
        }
    }

    func program(_ cell: ProjectionLSTMCell, inputSize: Int) throws -> StepProgram<Float> {
        try StepProgram.capture(cell, parameters: cell.parameters(), input: Tensor.zeros([3, inputSize]),
                                state: cell.zeroState(batchSize: 3)).get()
    }

    @Test func pairsTheTwoProductsOfOneSumOnly() throws {
        var generator = RandomGenerator(seed: 1)
        var cell = ProjectionLSTMCell(inputSize: 8, hiddenSize: 8, using: &generator)
        let shared = try program(cell, inputSize: 8)
        #expect(shared.linearsSharingAGradient.count == 1)
        if let (first, second) = shared.linearsSharingAGradient.first {
            guard case .linear(let x, _, _) = shared.instructions[first], case .linear(let h, _, _) = shared.instructions[second] else {
                Issue.record("not two products")
                return
            }
            #expect(x == 0 && h == 1, "x · W_ihᵀ first, h · W_hhᵀ second")
        }
        cell.projectionIsScaled = true
        #expect(try program(cell, inputSize: 8).linearsSharingAGradient.isEmpty, "the scaled projection has a gradient of its own")
        cell.projectionIsScaled = false
        cell.tiesWeights = true
        #expect(try program(cell, inputSize: 8).linearsSharingAGradient.isEmpty, "one weight in both products")
    }

    /// Float results of the shared product against separate ones, for the input and every
    /// parameter, with input widths of whole tiles (first), only the hidden one (second, so the
    /// product runs as `[h | x]`), or neither (two products on every path).
    @Test(arguments: [(32, 16), (12, 16), (20, 12)])
    func sharedProductIsBitwiseSeparateProducts(sizes: (input: Int, hidden: Int)) throws {
        /// The same weights every time; `frozen` biases take no gradient.
        func recurrence(scaled: Bool, frozen: Set<String>) -> Recurrence<ProjectionLSTMCell> {
            var generator = RandomGenerator(seed: 2)
            return Recurrence<ProjectionLSTMCell>(inputSize: sizes.input, bidirectional: true, batchFirst: true, using: &generator) {
                var cell = ProjectionLSTMCell(inputSize: $0, hiddenSize: sizes.hidden, using: &$1)
                cell.projectionIsScaled = scaled
                if frozen.contains("bias_ih") { cell.biasIH = cell.biasIH.detached() }
                if frozen.contains("bias_hh") { cell.biasHH = cell.biasHH.detached() }
                return cell
            }
        }
        var data = RandomGenerator(seed: 3)
        let x = Tensor<Float>.randn([5, 7, sizes.input], using: &data).requiringGrad()
        let weights = Tensor<Float>.randn([5, 7, 2 * sizes.hidden], using: &data)
        let lengths = [7, 3, 0, 7, 1]
        func gradients(_ layer: Recurrence<ProjectionLSTMCell>) throws -> [[Float]] {
            var unused = RandomGenerator(seed: 0)
            let output = try layer(x, lengths: lengths, using: &unused).output
            (output * weights).sum().backward()
            defer { x.zeroGrad(); layer.zeroGrad() }
            return [x.grad!.scalars] + layer.parameters().map { $0.grad?.scalars ?? [] }
        }
        for frozen: Set<String> in [[], ["bias_hh"], ["bias_ih"], ["bias_ih", "bias_hh"]] {
            let shared = recurrence(scaled: false, frozen: frozen), separate = recurrence(scaled: true, frozen: frozen)
            for path in InstructionSet.allCases {
                for threads in [1, 2] {
                    let (a, b) = try InstructionSet.with(path) {
                        try Threads.withCount(threads) { (try gradients(shared), try gradients(separate)) }
                    }
                    #expect(a == b, "\(sizes) \(path) threads \(threads) frozen \(frozen)")
                    #expect(a.count == 9 && !a[1].isEmpty && !a[2].isEmpty, "x and both weights of the first direction")
                    #expect(a.filter(\.isEmpty).count == 2 * frozen.count, "frozen biases take no gradient")
                }
            }
        }
    }
}
