import Loom

// The custom-loop configs: an LSTM cell spelled out from public ops and run as a plain Swift
// loop over time, the way a user writes a cell of their own. It measures the speed of eager
// ops (each op's kernel plus its allocation and tape bookkeeping), against the same cell in
// an eager Python loop in tools/pytorch_bench.py.

/// An LSTM cell from ops: `gates = x·W_ihᵀ + h·W_hhᵀ + b`, chunked into i, f, g, o;
/// `c' = σ(f)·c + σ(i)·tanh(g)`, `h' = σ(o)·tanh(c')`. Weights uniform in ±1/√H as in
/// PyTorch.
struct SpelledOutLSTMCell {
    let weightIH: Tensor<Float>   // [4H, I]
    let weightHH: Tensor<Float>   // [4H, H]
    let bias: Tensor<Float>       // [4H]

    init(inputSize: Int, hiddenSize: Int, using generator: inout RandomGenerator) {
        let bound = 1 / Float(hiddenSize).squareRoot()
        weightIH = Tensor.uniform([4 * hiddenSize, inputSize], low: -bound, high: bound, using: &generator).requiringGrad()
        weightHH = Tensor.uniform([4 * hiddenSize, hiddenSize], low: -bound, high: bound, using: &generator).requiringGrad()
        bias = Tensor.uniform([4 * hiddenSize], low: -bound, high: bound, using: &generator).requiringGrad()
    }

    var parameters: [Tensor<Float>] { [weightIH, weightHH, bias] }

    /// One step: x `[B, I]`, h and c `[B, H]` → the new (h, c).
    func callAsFunction(_ x: Tensor<Float>, _ h: Tensor<Float>, _ c: Tensor<Float>) -> (Tensor<Float>, Tensor<Float>) {
        let gates = x.matmul(weightIH.transposed(0, 1)) + h.matmul(weightHH.transposed(0, 1)) + bias
        let chunks = gates.chunk(4, dim: 1)
        let (i, f, g, o) = (chunks[0], chunks[1], chunks[2], chunks[3])
        let newC = f.sigmoid() * c + i.sigmoid() * g.tanh()
        let newH = o.sigmoid() * newC.tanh()
        return (newH, newC)
    }
}

/// The custom-loop-lstm-small workload: the spelled-out cell over `[B, T, I]` (x requires a
/// gradient), outputs stacked to `[B, T, H]`; `train` clears the gradients and backpropagates
/// `sum(output)`.
func makeCustomLoopWorkload(_ config: ModelConfig) -> ModelWorkload {
    var generator = RandomGenerator(seed: 0)
    let cell = SpelledOutLSTMCell(inputSize: config.input, hiddenSize: config.hidden, using: &generator)
    let x = Tensor<Float>.randn([config.batch, config.steps, config.input], using: &generator).requiringGrad()
    let forward = { () -> Tensor<Float> in
        var h = Tensor<Float>.zeros([config.batch, config.hidden])
        var c = Tensor<Float>.zeros([config.batch, config.hidden])
        var outputs: [Tensor<Float>] = []
        outputs.reserveCapacity(config.steps)
        for t in 0..<config.steps {
            (h, c) = cell(x.select(dim: 1, index: t), h, c)
            outputs.append(h)
        }
        return Tensor.stack(outputs, dim: 1)
    }
    return ModelWorkload(sumOf: forward, input: x, parameters: cell.parameters)
}
