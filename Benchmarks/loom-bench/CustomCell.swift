import Loom

// The custom-cell configs: an LSTM cell written by a user as a `RecurrentCell` (optionally
// the layer-norm LSTM of PyTorch's custom_lstms.py) and run by `Recurrence`, against the same
// cell in an eager Python loop in tools/pytorch_bench.py.

/// The spelled-out LSTM step as a `RecurrentCell`; with layer norm, LN over `x·W_ihᵀ` and over
/// `h·W_hhᵀ` (each 4H wide, no bias) and over the new cell state before its tanh.
struct UserLSTMCell: RecurrentCell {
    var weightIH: Tensor<Float>, weightHH: Tensor<Float>
    var bias: Tensor<Float>?
    var layerNorms: [LayerNorm<Float>]
    var outputSize: Int { weightHH.shape[1] }

    init(inputSize: Int, hiddenSize: Int, layerNorm: Bool, using generator: inout RandomGenerator) {
        let bound = 1 / Float(hiddenSize).squareRoot()
        weightIH = Tensor.uniform([4 * hiddenSize, inputSize], low: -bound, high: bound, using: &generator).requiringGrad()
        weightHH = Tensor.uniform([4 * hiddenSize, hiddenSize], low: -bound, high: bound, using: &generator).requiringGrad()
        bias = layerNorm ? nil : Tensor.uniform([4 * hiddenSize], low: -bound, high: bound, using: &generator).requiringGrad()
        layerNorms = layerNorm ? [LayerNorm(4 * hiddenSize), LayerNorm(4 * hiddenSize), LayerNorm(hiddenSize)] : []
    }

    func zeroState(batchSize: Int) -> [Tensor<Float>] {
        [Tensor.zeros([batchSize, outputSize]), Tensor.zeros([batchSize, outputSize])]
    }

    func callAsFunction(_ x: Tensor<Float>, state: [Tensor<Float>]) -> (output: Tensor<Float>, state: [Tensor<Float>]) {
        let gates: Tensor<Float>
        if layerNorms.isEmpty {
            gates = linear(x, weight: weightIH, bias: bias) + linear(state[0], weight: weightHH)
        } else {
            gates = layerNorms[0](linear(x, weight: weightIH)) + layerNorms[1](linear(state[0], weight: weightHH))
        }
        let chunks = gates.chunk(4, dim: 1)
        let c = chunks[1].sigmoid() * state[1] + chunks[0].sigmoid() * chunks[2].tanh()
        let h = chunks[3].sigmoid() * (layerNorms.isEmpty ? c : layerNorms[2](c)).tanh()
        return (h, [h, c])
    }
}

/// The custom-lstm-small / custom-lnlstm-packed workloads: the user cell through a
/// one-layer batch-first `Recurrence` over `[B, T, I]` (x requires a gradient) with the
/// config's lengths; `train` clears the gradients and backpropagates `sum(output)`.
func makeCustomCellWorkload(_ config: ModelConfig, layerNorm: Bool) -> ModelWorkload {
    var generator = RandomGenerator(seed: 0)
    var recurrence = Recurrence<UserLSTMCell>(inputSize: config.input, batchFirst: true, using: &generator) { size, g in
        UserLSTMCell(inputSize: size, hiddenSize: config.hidden, layerNorm: layerNorm, using: &g)
    }
    recurrence.eval()
    let x = Tensor<Float>.randn([config.batch, config.steps, config.input], using: &generator).requiringGrad()
    let lengths = config.lengths
    let forward = { () -> Tensor<Float> in
        var unused = RandomGenerator(seed: 0)
        return try! recurrence(x, lengths: lengths, using: &unused).output
    }
    return ModelWorkload(sumOf: forward, input: x, parameters: recurrence.parameters())
}
