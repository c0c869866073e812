/// The parameters of one recurrence (one cell, or one layer in one direction), with
/// PyTorch's shapes: `weightIH` `[G·H, I]`, `weightHH` `[G·H, Hout]`, biases `[G·H]`, and
/// for a projected LSTM `weightHR` `[P, H]` (`Hout` is `P` then, `H` otherwise).
public struct CellWeights<Scalar: TensorScalar> {
    /// Input-to-hidden weights, gates stacked along the first axis.
    public var weightIH: Tensor<Scalar>
    /// Hidden-to-hidden weights, gates stacked along the first axis.
    public var weightHH: Tensor<Scalar>
    /// Input-to-hidden bias, or `nil` without bias.
    public var biasIH: Tensor<Scalar>?
    /// Hidden-to-hidden bias, or `nil` without bias.
    public var biasHH: Tensor<Scalar>?
    /// The LSTM projection `h = (o ⊙ tanh c) · W_hrᵀ`, or `nil` without projection.
    public var weightHR: Tensor<Scalar>?

    /// Weights for `mode` initialized as PyTorch does: every entry uniform in ±1/√hidden.
    init(mode: RecurrentMode, inputSize: Int, hiddenSize: Int, projSize: Int, bias: Bool,
         using generator: inout RandomGenerator) {
        let bound = 1 / Scalar(Double(hiddenSize).squareRoot())
        let gates = mode.gateCount * hiddenSize
        let outSize = projSize > 0 ? projSize : hiddenSize
        func draw(_ shape: [Int]) -> Tensor<Scalar> {
            Tensor.uniform(shape, low: -bound, high: bound, using: &generator).requiringGrad()
        }
        weightIH = draw([gates, inputSize])
        weightHH = draw([gates, outSize])
        biasIH = bias ? draw([gates]) : nil
        biasHH = bias ? draw([gates]) : nil
        weightHR = projSize > 0 ? draw([projSize, hiddenSize]) : nil
    }

    /// Reports the weights under PyTorch's names with `suffix` (`"_l0"`, `"_l1_reverse"`,
    /// or `""` for a cell), in PyTorch's order.
    mutating func visit(_ visitor: ModuleVisitor<Scalar>, suffix: String) {
        visitor.parameter("weight_ih" + suffix, &weightIH)
        visitor.parameter("weight_hh" + suffix, &weightHH)
        visitor.parameter("bias_ih" + suffix, &biasIH)
        visitor.parameter("bias_hh" + suffix, &biasHH)
        visitor.parameter("weight_hr" + suffix, &weightHR)
    }

    /// The input projection `x · W_ihᵀ + b_ih` for any number of leading axes: `[..., G·H]`.
    func projectInput(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        linear(x, weight: weightIH, bias: biasIH)
    }

    /// One step of a cell on input `x` `[B, I]`: with `.fused`, the input projection (one
    /// `linear` op) and one fused recurrence op for a single step of every row, the same op
    /// (and backward) the layers run over whole sequences, so the step is two tape ops
    /// instead of a dozen and `W_hh` is read in its packed form, packed once per update of
    /// the weights; with `.composed`, `step(_:xGates:state:)`.
    func cellStep(_ mode: RecurrentMode, x: Tensor<Scalar>, state: RecurrentState<Scalar>,
                  implementation: RecurrentImplementation) -> RecurrentState<Scalar> {
        let batch = x.shape[0]
        guard implementation == .fused, batch > 0, weightHR == nil else {
            return step(mode, xGates: projectInput(x), state: state)
        }
        let direction = RecurrentDirectionInput(projected: projectInput(x), h0: state.h, c0: state.c,
                                                weightHH: weightHH, biasHH: biasHH)
        let result = recurrentSequence(mode, directions: [direction], plan: StepPlan(lengths: [Int](repeating: 1, count: batch)),
                                       layout: .packed)
        return RecurrentState(h: result.hN[0], c: mode == .lstm ? result.cN[0] : nil)
    }

    /// One step of the recurrence composed from generic ops, given the input projection
    /// of this step `xGates` `[B, G·H]` and the previous state.
    func step(_ mode: RecurrentMode, xGates: Tensor<Scalar>, state: RecurrentState<Scalar>) -> RecurrentState<Scalar> {
        let hGates = linear(state.h, weight: weightHH, bias: biasHH)
        switch mode {
        case .rnnTanh:
            return RecurrentState(h: (xGates + hGates).tanh())
        case .rnnRelu:
            return RecurrentState(h: (xGates + hGates).relu())
        case .lstm:
            let gates = (xGates + hGates).chunk(4, dim: 1)
            let inputGate = gates[0].sigmoid(), forgetGate = gates[1].sigmoid()
            let candidate = gates[2].tanh(), outputGate = gates[3].sigmoid()
            let c = forgetGate * state.c! + inputGate * candidate
            var h = outputGate * c.tanh()
            if let weightHR { h = linear(h, weight: weightHR) }
            return RecurrentState(h: h, c: c)
        case .gru:
            let x = xGates.chunk(3, dim: 1), hh = hGates.chunk(3, dim: 1)
            let reset = (x[0] + hh[0]).sigmoid()
            let update = (x[1] + hh[1]).sigmoid()
            let candidate = (x[2] + reset * hh[2]).tanh()
            return RecurrentState(h: (1 - update) * candidate + update * state.h)
        }
    }
}
