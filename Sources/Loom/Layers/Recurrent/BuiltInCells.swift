// The built-in cells as `RecurrentCell`s, so `Recurrence` runs them like any user cell (the
// layers `RNN`, `LSTM` and `GRU` run the same math through fused kernels).

/// A cell whose step may already be one fused op (`implementation == .fused`), which
/// `Recurrence` then runs step by step instead of capturing it.
protocol FusedStepCell {
    var implementation: RecurrentImplementation { get }
}

extension RNNCell: FusedStepCell {}
extension LSTMCell: FusedStepCell {}
extension GRUCell: FusedStepCell {}

extension RNNCell: RecurrentCell {
    /// `hiddenSize`.
    public var outputSize: Int { hiddenSize }

    /// `[h]`, zeros `[batchSize, hiddenSize]`.
    public func zeroState(batchSize: Int) -> [Tensor<Scalar>] { [Tensor.zeros([batchSize, hiddenSize])] }

    /// One step on the state `[h]`: the output is the new `h`.
    public func callAsFunction(_ input: Tensor<Scalar>, state: [Tensor<Scalar>]) -> (output: Tensor<Scalar>, state: [Tensor<Scalar>]) {
        let h = self(input, state[0])
        return (h, [h])
    }
}

extension LSTMCell: RecurrentCell {
    /// `hiddenSize`.
    public var outputSize: Int { hiddenSize }

    /// `[h, c]`, zeros `[batchSize, hiddenSize]` each.
    public func zeroState(batchSize: Int) -> [Tensor<Scalar>] {
        [Tensor.zeros([batchSize, hiddenSize]), Tensor.zeros([batchSize, hiddenSize])]
    }

    /// One step on the state `[h, c]`: the output is the new `h`.
    public func callAsFunction(_ input: Tensor<Scalar>, state: [Tensor<Scalar>]) -> (output: Tensor<Scalar>, state: [Tensor<Scalar>]) {
        let next = self(input, (h: state[0], c: state[1]))
        return (next.h, [next.h, next.c])
    }
}

extension GRUCell: RecurrentCell {
    /// `hiddenSize`.
    public var outputSize: Int { hiddenSize }

    /// `[h]`, zeros `[batchSize, hiddenSize]`.
    public func zeroState(batchSize: Int) -> [Tensor<Scalar>] { [Tensor.zeros([batchSize, hiddenSize])] }

    /// One step on the state `[h]`: the output is the new `h`.
    public func callAsFunction(_ input: Tensor<Scalar>, state: [Tensor<Scalar>]) -> (output: Tensor<Scalar>, state: [Tensor<Scalar>]) {
        let h = self(input, state[0])
        return (h, [h])
    }
}
