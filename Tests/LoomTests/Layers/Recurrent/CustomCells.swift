// Recurrent cells written the way a user writes them in their own package: only Loom's
// public API (this file imports Loom without @testable), one step from ops, nothing else.

import Loom

/// Uniform ±1/√hidden weights, as PyTorch initializes its recurrent cells.
func cellWeight<Scalar: TensorScalar>(_ shape: [Int], hidden: Int, using generator: inout RandomGenerator) -> Tensor<Scalar> {
    let bound = 1 / Scalar(Double(hidden).squareRoot())
    return Tensor<Scalar>.uniform(shape, low: -bound, high: bound, using: &generator).requiringGrad()
}

/// The LSTM spelled out from ops: `x W_ihᵀ + b_ih + h W_hhᵀ + b_hh`, gates i, f, g, o.
struct SpelledOutLSTMCell<Scalar: TensorScalar>: RecurrentCell {
    var weightIH: Tensor<Scalar>, weightHH: Tensor<Scalar>, biasIH: Tensor<Scalar>, biasHH: Tensor<Scalar>
    /// When set, the input projection enters the sum multiplied by this factor (by one, it
    /// changes no value but gives the projection a gradient of its own in a captured step).
    var projectionFactor: Scalar?
    /// Whether `W_hh` stands in for `W_ih` too (needs equal input and hidden sizes).
    var tiesWeights = false
    var outputSize: Int { weightHH.shape[1] }

    func zeroState(batchSize: Int) -> [Tensor<Scalar>] {
        [Tensor.zeros([batchSize, outputSize]), Tensor.zeros([batchSize, outputSize])]
    }

    func callAsFunction(_ x: Tensor<Scalar>, state: [Tensor<Scalar>]) -> (output: Tensor<Scalar>, state: [Tensor<Scalar>]) {
        let projection = linear(x, weight: tiesWeights ? weightHH : weightIH, bias: biasIH)
        let gates = ((projectionFactor.map { projection * $0 } ?? projection) + linear(state[0], weight: weightHH, bias: biasHH))
            .chunk(4, dim: 1)
        let c = gates[1].sigmoid() * state[1] + gates[0].sigmoid() * gates[2].tanh()
        let h = gates[3].sigmoid() * c.tanh()
        return (h, [h, c])
    }

    mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        visitor.parameter("weight_ih", &weightIH)
        visitor.parameter("weight_hh", &weightHH)
        visitor.parameter("bias_ih", &biasIH)
        visitor.parameter("bias_hh", &biasHH)
    }
}

/// The layer-norm LSTM of PyTorch's `benchmarks/fastrnns/custom_lstms.py`:
/// `gates = LN_i(x W_ihᵀ) + LN_h(h W_hhᵀ)` (no bias), `c' = σ(f)⊙c + σ(i)⊙tanh(g)`,
/// `h' = σ(o)⊙tanh(LN_c(c'))`.
struct LayerNormLSTMCell<Scalar: TensorScalar>: RecurrentCell {
    var weightIH: Tensor<Scalar>, weightHH: Tensor<Scalar>
    var lnI: LayerNorm<Scalar>, lnH: LayerNorm<Scalar>, lnC: LayerNorm<Scalar>
    var outputSize: Int { weightHH.shape[1] }

    init(weightIH: Tensor<Scalar>, weightHH: Tensor<Scalar>, lnI: LayerNorm<Scalar>, lnH: LayerNorm<Scalar>, lnC: LayerNorm<Scalar>) {
        (self.weightIH, self.weightHH, self.lnI, self.lnH, self.lnC) = (weightIH, weightHH, lnI, lnH, lnC)
    }

    init(inputSize: Int, hiddenSize: Int, using generator: inout RandomGenerator) {
        weightIH = cellWeight([4 * hiddenSize, inputSize], hidden: hiddenSize, using: &generator)
        weightHH = cellWeight([4 * hiddenSize, hiddenSize], hidden: hiddenSize, using: &generator)
        lnI = LayerNorm(4 * hiddenSize)
        lnH = LayerNorm(4 * hiddenSize)
        lnC = LayerNorm(hiddenSize)
    }

    func zeroState(batchSize: Int) -> [Tensor<Scalar>] {
        [Tensor.zeros([batchSize, outputSize]), Tensor.zeros([batchSize, outputSize])]
    }

    func callAsFunction(_ x: Tensor<Scalar>, state: [Tensor<Scalar>]) -> (output: Tensor<Scalar>, state: [Tensor<Scalar>]) {
        let gates = (lnI(linear(x, weight: weightIH)) + lnH(linear(state[0], weight: weightHH))).chunk(4, dim: 1)
        let c = gates[1].sigmoid() * state[1] + gates[0].sigmoid() * gates[2].tanh()
        let h = gates[3].sigmoid() * lnC(c).tanh()
        return (h, [h, c])
    }

    mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        visitor.parameter("weight_ih", &weightIH)
        visitor.parameter("weight_hh", &weightHH)
        visitor.module("ln_i", &lnI)
        visitor.module("ln_h", &lnH)
        visitor.module("ln_c", &lnC)
    }
}

/// A peephole LSTM: the input and forget gates also see `c`, the output gate sees `c'`.
struct PeepholeLSTMCell<Scalar: TensorScalar>: RecurrentCell {
    var weightIH: Tensor<Scalar>, weightHH: Tensor<Scalar>, bias: Tensor<Scalar>
    var peepholeI: Tensor<Scalar>, peepholeF: Tensor<Scalar>, peepholeO: Tensor<Scalar>
    var outputSize: Int { weightHH.shape[1] }

    init(inputSize: Int, hiddenSize: Int, using generator: inout RandomGenerator) {
        weightIH = cellWeight([4 * hiddenSize, inputSize], hidden: hiddenSize, using: &generator)
        weightHH = cellWeight([4 * hiddenSize, hiddenSize], hidden: hiddenSize, using: &generator)
        bias = cellWeight([4 * hiddenSize], hidden: hiddenSize, using: &generator)
        peepholeI = cellWeight([hiddenSize], hidden: hiddenSize, using: &generator)
        peepholeF = cellWeight([hiddenSize], hidden: hiddenSize, using: &generator)
        peepholeO = cellWeight([hiddenSize], hidden: hiddenSize, using: &generator)
    }

    func zeroState(batchSize: Int) -> [Tensor<Scalar>] {
        [Tensor.zeros([batchSize, outputSize]), Tensor.zeros([batchSize, outputSize])]
    }

    func callAsFunction(_ x: Tensor<Scalar>, state: [Tensor<Scalar>]) -> (output: Tensor<Scalar>, state: [Tensor<Scalar>]) {
        let (h, c) = (state[0], state[1])
        let gates = (linear(x, weight: weightIH, bias: bias) + linear(h, weight: weightHH)).chunk(4, dim: 1)
        let inputGate = (gates[0] + peepholeI * c).sigmoid()
        let forgetGate = (gates[1] + peepholeF * c).sigmoid()
        let next = forgetGate * c + inputGate * gates[2].tanh()
        let outputGate = (gates[3] + peepholeO * next).sigmoid()
        let output = outputGate * next.tanh()
        return (output, [output, next])
    }
}

/// The minimal gated unit: one forget gate `f` that also plays the update gate.
struct MinimalGatedCell<Scalar: TensorScalar>: RecurrentCell {
    var input: Linear<Scalar>      // x → [f | n]
    var hiddenForget: Linear<Scalar>
    var hiddenCandidate: Linear<Scalar>
    var outputSize: Int { hiddenCandidate.outFeatures }

    init(inputSize: Int, hiddenSize: Int, using generator: inout RandomGenerator) {
        input = Linear(inputSize, 2 * hiddenSize, using: &generator)
        hiddenForget = Linear(hiddenSize, hiddenSize, bias: false, using: &generator)
        hiddenCandidate = Linear(hiddenSize, hiddenSize, bias: false, using: &generator)
    }

    func zeroState(batchSize: Int) -> [Tensor<Scalar>] { [Tensor.zeros([batchSize, outputSize])] }

    func callAsFunction(_ x: Tensor<Scalar>, state: [Tensor<Scalar>]) -> (output: Tensor<Scalar>, state: [Tensor<Scalar>]) {
        let h = state[0]
        let gates = input(x).chunk(2, dim: 1)
        let f = (gates[0] + hiddenForget(h)).sigmoid()
        let n = (gates[1] + hiddenCandidate(f * h)).tanh()
        let next = (1 - f) * h + f * n
        return (next, [next])
    }
}
