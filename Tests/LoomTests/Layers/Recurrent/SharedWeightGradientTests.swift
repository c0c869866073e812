import Testing
@testable import Loom

/// A captured step whose two products feed one sum, `linear(x, W_ih, b_ih) + linear(h, W_hh,
/// b_hh)`, has one gradient for both, so a backward pass takes both weight gradients (and the
/// bias sums) from one product `gᵀ · [x | h]`. The results are bitwise those of two separate
/// products, on every path and thread count, whichever parameters are trained.
@Suite struct SharedWeightGradientTests {
    typealias Cell = SpelledOutLSTMCell<Float>

    func cell(inputSize: Int, hiddenSize: Int, using generator: inout RandomGenerator) -> Cell {
        Cell(weightIH: cellWeight([4 * hiddenSize, inputSize], hidden: hiddenSize, using: &generator),
             weightHH: cellWeight([4 * hiddenSize, hiddenSize], hidden: hiddenSize, using: &generator),
             biasIH: cellWeight([4 * hiddenSize], hidden: hiddenSize, using: &generator),
             biasHH: cellWeight([4 * hiddenSize], hidden: hiddenSize, using: &generator))
    }

    func program(_ cell: Cell, inputSize: Int) throws -> StepProgram<Float> {
        try StepProgram.capture(cell, parameters: cell.parameters(), input: Tensor.zeros([3, inputSize]),
                                state: cell.zeroState(batchSize: 3)).get()
    }

    @Test func pairsTheTwoProductsOfOneSumOnly() throws {
        var generator = RandomGenerator(seed: 1)
        var cell = cell(inputSize: 8, hiddenSize: 8, using: &generator)
        let shared = try program(cell, inputSize: 8)
        #expect(shared.linearsSharingAGradient.count == 1)
        if let (first, second) = shared.linearsSharingAGradient.first {
            guard case .linear(let x, _, _) = shared.instructions[first], case .linear(let h, _, _) = shared.instructions[second] else {
                Issue.record("not two products")
                return
            }
            #expect(x == 0 && h == 1, "x · W_ihᵀ first, h · W_hhᵀ second")
        }
        cell.projectionFactor = 1
        #expect(try program(cell, inputSize: 8).linearsSharingAGradient.isEmpty, "the scaled projection has a gradient of its own")
        cell.projectionFactor = nil
        cell.tiesWeights = true
        #expect(try program(cell, inputSize: 8).linearsSharingAGradient.isEmpty, "one weight in both products")
    }

    /// Float results of the shared product against separate ones (the projection multiplied by
    /// one), for the input and every parameter, with input widths of whole tiles (first), only
    /// the hidden one (second, so the product runs as `[h | x]`), or neither (two products on
    /// every path).
    @Test(arguments: [(32, 16), (12, 16), (20, 12)])
    func sharedProductIsBitwiseSeparateProducts(sizes: (input: Int, hidden: Int)) throws {
        /// The same weights every time; `frozen` parameters take no gradient.
        func recurrence(projectionFactor: Float?, frozen: Set<String>) -> Recurrence<Cell> {
            var generator = RandomGenerator(seed: 2)
            return Recurrence<Cell>(inputSize: sizes.input, bidirectional: true, batchFirst: true, using: &generator) {
                var cell = cell(inputSize: $0, hiddenSize: sizes.hidden, using: &$1)
                cell.projectionFactor = projectionFactor
                cell.updateParameters { name, tensor in if frozen.contains(name) { tensor = tensor.detached() } }
                return cell
            }
        }
        var data = RandomGenerator(seed: 3)
        let x = Tensor<Float>.randn([5, 7, sizes.input], using: &data).requiringGrad()
        let weights = Tensor<Float>.randn([5, 7, 2 * sizes.hidden], using: &data)
        let lengths = [7, 3, 0, 7, 1]
        func gradients(_ layer: Recurrence<Cell>) throws -> [[Float]] {
            var unused = RandomGenerator(seed: 0)
            let output = try layer(x, lengths: lengths, using: &unused).output
            (output * weights).sum().backward()
            defer { x.zeroGrad(); layer.zeroGrad() }
            return [x.grad!.scalars] + layer.parameters().map { $0.grad?.scalars ?? [] }
        }
        // A frozen weight leaves the other's gradient to a product of its own.
        for frozen: Set<String> in [[], ["bias_hh"], ["bias_ih"], ["bias_ih", "bias_hh"], ["weight_hh"], ["weight_ih", "bias_ih"]] {
            let shared = recurrence(projectionFactor: nil, frozen: frozen), separate = recurrence(projectionFactor: 1, frozen: frozen)
            for path in InstructionSet.allCases {
                for threads in [1, 2] {
                    let (a, b) = try InstructionSet.with(path) {
                        try Threads.withCount(threads) { (try gradients(shared), try gradients(separate)) }
                    }
                    #expect(a == b, "\(sizes) \(path) threads \(threads) frozen \(frozen)")
                    #expect(a.count == 9 && !a[0].isEmpty)
                    #expect(a.filter(\.isEmpty).count == 2 * frozen.count, "frozen parameters take no gradient")
                }
            }
        }
    }
}
