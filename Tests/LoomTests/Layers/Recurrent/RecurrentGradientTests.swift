import Testing
@testable import Loom

/// Finite-difference gradient checks (Double) of the recurrent cells and of small stacked
/// bidirectional layers on variable-length batches, with respect to the input, the initial
/// states and every weight (the weights are passed as inputs of the checked function).
@Suite struct RecurrentGradientTests {
    /// Checks the gradients of `function` w.r.t. every input, after making sure every input
    /// is used (a weight the function ignored would pass trivially with both gradients 0).
    func expectGradient(_ label: String, _ inputs: [Tensor<Double>], _ function: ([Tensor<Double>]) -> Tensor<Double>) {
        let original = function(inputs).scalars
        for index in inputs.indices {
            var shifted = inputs
            shifted[index] = shifted[index] + Tensor(0.25)
            #expect(function(shifted).scalars != original, "\(label): input \(index) is not used")
        }
        let report = gradientCheck(inputs, function)
        #expect(report.passed, "\(label): \(report)")
    }

    /// Flattens and concatenates tensors so one checked function can return them all.
    func joined(_ tensors: [Tensor<Double>]) -> Tensor<Double> {
        Tensor.cat(tensors.map { $0.reshaped([-1]) }, dim: 0)
    }

    /// The weights of a cell in the order weight_ih, weight_hh, bias_ih, bias_hh.
    func cellWeights(_ weights: CellWeights<Double>) -> [Tensor<Double>] {
        [weights.weightIH, weights.weightHH] + [weights.biasIH, weights.biasHH].compactMap { $0 }
    }

    func assign(_ xs: ArraySlice<Tensor<Double>>, to weights: inout CellWeights<Double>) {
        let values = Array(xs)
        weights.weightIH = values[0]
        weights.weightHH = values[1]
        if values.count > 2 {
            weights.biasIH = values[2]
            weights.biasHH = values[3]
        }
    }

    @Test(arguments: [RNNNonlinearity.tanh, .relu])
    func rnnCellGradients(nonlinearity: RNNNonlinearity) {
        var generator = RandomGenerator(seed: 1)
        let cell = RNNCell<Double>(inputSize: 3, hiddenSize: 4, nonlinearity: nonlinearity, using: &generator)
        let x0 = randomNormal([2, 3], seed: 2), x1 = randomNormal([2, 3], seed: 3), h = randomNormal([2, 4], seed: 4)
        // Two steps, so the gradient also travels through the carried state.
        expectGradient("RNNCell \(nonlinearity)", [x0, x1, h] + cellWeights(cell.weights)) { xs in
            var cell = cell
            assign(xs[3...], to: &cell.weights)
            let h1 = cell(xs[0], xs[2])
            return joined([h1, cell(xs[1], h1)])
        }
    }

    @Test func rnnCellWithoutBiasGradients() {
        var generator = RandomGenerator(seed: 5)
        let cell = RNNCell<Double>(inputSize: 3, hiddenSize: 2, bias: false, using: &generator)
        #expect(cell.weights.biasIH == nil && cell.weights.biasHH == nil)
        let inputs = [randomNormal([2, 3], seed: 6), randomNormal([2, 2], seed: 7)]
        expectGradient("RNNCell without bias", inputs + cellWeights(cell.weights)) { xs in
            var cell = cell
            assign(xs[2...], to: &cell.weights)
            return cell(xs[0], xs[1])
        }
        // Without a state the cell starts from zeros.
        let x = randomNormal([2, 3], seed: 8)
        #expect(cell(x).scalars == cell(x, Tensor.zeros([2, 2])).scalars)
    }

    @Test func lstmCellGradients() {
        var generator = RandomGenerator(seed: 7)
        let cell = LSTMCell<Double>(inputSize: 3, hiddenSize: 3, using: &generator)
        let inputs = [randomNormal([2, 3], seed: 8), randomNormal([2, 3], seed: 9),
                      randomNormal([2, 3], seed: 10), randomNormal([2, 3], seed: 11)]
        expectGradient("LSTMCell", inputs + cellWeights(cell.weights)) { xs in
            var cell = cell
            assign(xs[4...], to: &cell.weights)
            let first = cell(xs[0], (xs[2], xs[3]))
            let second = cell(xs[1], first)
            return joined([first.h, first.c, second.h, second.c])
        }
    }

    @Test func gruCellGradients() {
        var generator = RandomGenerator(seed: 12)
        let cell = GRUCell<Double>(inputSize: 3, hiddenSize: 3, using: &generator)
        let inputs = [randomNormal([2, 3], seed: 13), randomNormal([2, 3], seed: 14), randomNormal([2, 3], seed: 15)]
        expectGradient("GRUCell", inputs + cellWeights(cell.weights)) { xs in
            var cell = cell
            assign(xs[3...], to: &cell.weights)
            let h1 = cell(xs[0], xs[2])
            return joined([h1, cell(xs[1], h1)])
        }
    }

    /// Checks a stacked bidirectional layer on a variable-length batch (lengths [4, 1, 3],
    /// padding filled with non-zero values) w.r.t. input, h0 (and c0) and all weights.
    func checkLayer(_ label: String, _ layer: LayerUnderTest) {
        let config = layer.configuration
        let lengths = [4, 1, 3]
        var x = randomNormal([3, 4, config.inputSize], seed: 20)
        // Padding that must neither change the result nor receive gradient.
        x.withUnsafeMutableBufferPointer { values in
            for (b, length) in lengths.enumerated() {
                for t in length..<4 {
                    for i in 0..<config.inputSize { values[(b * 4 + t) * config.inputSize + i] = 5 }
                }
            }
        }
        let h0 = randomNormal([layer.stateRows, 3, layer.hStateSize], seed: 21, scale: 0.5)
        let c0 = layer.hasCellState ? [randomNormal([layer.stateRows, 3, config.hiddenSize], seed: 22, scale: 0.5)] : []
        let weights = layer.parameters
        let stateCount = 1 + c0.count
        func function(_ xs: [Tensor<Double>]) -> Tensor<Double> {
            var layer = layer
            layer.setParameters(Array(xs[(1 + stateCount)...]))
            let result = try! layer.run(xs[0], lengths: lengths, h0: xs[1], c0: layer.hasCellState ? xs[2] : nil)
            return joined([result.output, result.hN] + (result.cN.map { [$0] } ?? []))
        }
        expectGradient(label, [x, h0] + c0 + weights, function)
    }

    @Test func lstmLayerGradients() {
        checkLayer("LSTM 2 layers bidirectional",
                   LayerUnderTest(.lstm, inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true, seed: 30))
    }

    @Test func projectedLSTMLayerGradients() {
        checkLayer("LSTM 2 layers bidirectional projSize 2",
                   LayerUnderTest(.lstm, inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, projSize: 2, seed: 31))
    }

    @Test func gruLayerGradients() {
        checkLayer("GRU 2 layers bidirectional",
                   LayerUnderTest(.gru, inputSize: 3, hiddenSize: 2, numLayers: 2, bidirectional: true, seed: 32))
    }

    @Test(arguments: [RecurrentKind.rnnTanh, .rnnRelu])
    func rnnLayerGradients(kind: RecurrentKind) {
        checkLayer("RNN \(kind) 2 layers bidirectional",
                   LayerUnderTest(kind, inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, seed: 33))
    }

    @Test func timeFirstLayerWithoutBiasGradients() {
        checkLayerTimeFirst(LayerUnderTest(.gru, inputSize: 2, hiddenSize: 2, numLayers: 2, bidirectional: true,
                                           batchFirst: false, bias: false, seed: 34))
    }

    func checkLayerTimeFirst(_ layer: LayerUnderTest) {
        let lengths = [2, 3, 0]
        let x = randomNormal([3, 3, 2], seed: 35)
        expectGradient("time-first GRU without bias", [x] + layer.parameters) { xs in
            var layer = layer
            layer.setParameters(Array(xs[1...]))
            let result = try! layer.run(xs[0], lengths: lengths)
            return joined([result.output, result.hN])
        }
    }
}
