/// One step of a recurrent network, written from Loom's ops: what `Recurrence` runs over
/// time, for any lengths, in both directions and stacked.
///
/// A conforming type says what its state is before the first step and computes one step;
/// the backward pass, the masking of padded steps and the reverse direction follow from the
/// graph of its ops. A minimal gated unit:
///
/// ```swift
/// struct MGUCell: RecurrentCell {
///     var inputGates: Linear<Float>   // [x] → [f | n]
///     var hiddenForget: Linear<Float> // h → f
///     var hiddenCandidate: Linear<Float>
///     var outputSize: Int { hiddenCandidate.outFeatures }
///
///     func zeroState(batchSize: Int) -> [Tensor<Float>] { [Tensor.zeros([batchSize, outputSize])] }
///
///     func callAsFunction(_ x: Tensor<Float>, state: [Tensor<Float>]) -> (output: Tensor<Float>, state: [Tensor<Float>]) {
///         let h = state[0]
///         let gates = inputGates(x).chunk(2, dim: 1)
///         let f = (gates[0] + hiddenForget(h)).sigmoid()
///         let n = (gates[1] + hiddenCandidate(f * h)).tanh()
///         let next = (1 - f) * h + f * n
///         return (next, [next])
///     }
/// }
/// ```
public protocol RecurrentCell: Module {
    /// The number of features of each step's output, `[batch, outputSize]`.
    var outputSize: Int { get }

    /// The state of `batchSize` sequences before their first step: one or more tensors, each
    /// `[batchSize, ...]` (PyTorch's zeros for the built-in cells).
    func zeroState(batchSize: Int) -> [Tensor<Scalar>]

    /// One step for a batch: `input` `[batch, inputSize]` and the state (as `zeroState`
    /// shapes it) give the step's output `[batch, outputSize]` and the next state.
    func callAsFunction(_ input: Tensor<Scalar>, state: [Tensor<Scalar>]) -> (output: Tensor<Scalar>, state: [Tensor<Scalar>])
}
