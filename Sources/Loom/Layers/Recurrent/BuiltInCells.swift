// The built-in cells as `RecurrentCell`s, so `Recurrence` runs them like any user cell;
// `RNN`, `LSTM` and `GRU` are `Recurrence`s of them.

/// A built-in cell whose whole sequence can run as the fused recurrence op, which
/// `Recurrence` then does instead of stepping or capturing it.
protocol FusedStepCell<Scalar> {
    associatedtype Scalar: TensorScalar
    /// `.fused` or `.composed`.
    var implementation: RecurrentImplementation { get }
    /// The recurrence the cell computes.
    var recurrentMode: RecurrentMode { get }
    /// The cell's parameters.
    var weights: CellWeights<Scalar> { get }
}

extension FusedStepCell {
    /// Whether the fused op computes this cell: its implementation is `.fused` and it has no
    /// projection (which only the composed step computes).
    var runsFused: Bool { implementation == .fused && weights.weightHR == nil }

    /// The cell's parameters when its scalar is `S`, else nil.
    func weights<S: TensorScalar>(of _: S.Type) -> CellWeights<S>? { weights as? CellWeights<S> }
}

extension RNNCell: FusedStepCell {
    var recurrentMode: RecurrentMode { mode }
}

extension LSTMCell: FusedStepCell {
    var recurrentMode: RecurrentMode { .lstm }
}

extension GRUCell: FusedStepCell {
    var recurrentMode: RecurrentMode { .gru }
}

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
    /// `hiddenSize` (the projection's size for a cell of a projected `LSTM`).
    public var outputSize: Int { projectedSize }

    /// `[h, c]`, zeros `[batchSize, outputSize]` and `[batchSize, hiddenSize]`.
    public func zeroState(batchSize: Int) -> [Tensor<Scalar>] {
        [Tensor.zeros([batchSize, outputSize]), Tensor.zeros([batchSize, hiddenSize])]
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

/// The layer-facing parts shared by the cells whose state is `h` alone (RNN, GRU): the layer
/// takes `h0` and returns `(output, hN)`.
extension BuiltInRecurrentCell where LayerState == Tensor<Scalar>, LayerOutput == (output: Tensor<Scalar>, hN: Tensor<Scalar>),
    PackedLayerOutput == (output: PackedSequence<Scalar>, hN: Tensor<Scalar>) {
    /// `["h0"]`.
    public static var stateNames: [String] { ["h0"] }
    /// `[h0]`.
    public static func stateTensors(_ state: LayerState) -> [Tensor<Scalar>] { [state] }
    /// `(output, hN)`.
    public static func layerOutput(_ output: Tensor<Scalar>, finalStates: [Tensor<Scalar>]) -> LayerOutput { (output, finalStates[0]) }
    /// `(output, hN)`.
    public static func layerOutput(_ output: PackedSequence<Scalar>, finalStates: [Tensor<Scalar>]) -> PackedLayerOutput {
        (output, finalStates[0])
    }
}

extension RNNCell: BuiltInRecurrentCell {
    /// `h0` `[layers · directions, batch, hiddenSize]`.
    public typealias LayerState = Tensor<Scalar>
    /// The output and `hN`.
    public typealias LayerOutput = (output: Tensor<Scalar>, hN: Tensor<Scalar>)
    /// The packed output and `hN`.
    public typealias PackedLayerOutput = (output: PackedSequence<Scalar>, hN: Tensor<Scalar>)
    /// `"RNN"`.
    public static var layerName: String { "RNN" }
}

extension GRUCell: BuiltInRecurrentCell {
    /// `h0` `[layers · directions, batch, hiddenSize]`.
    public typealias LayerState = Tensor<Scalar>
    /// The output and `hN`.
    public typealias LayerOutput = (output: Tensor<Scalar>, hN: Tensor<Scalar>)
    /// The packed output and `hN`.
    public typealias PackedLayerOutput = (output: PackedSequence<Scalar>, hN: Tensor<Scalar>)
    /// `"GRU"`.
    public static var layerName: String { "GRU" }
}

extension LSTMCell: BuiltInRecurrentCell {
    /// `(h: h0, c: c0)`: `h0` `[layers · directions, batch, outputSize]`, `c0`
    /// `[layers · directions, batch, hiddenSize]`.
    public typealias LayerState = (h: Tensor<Scalar>, c: Tensor<Scalar>)
    /// The output, `hN` and `cN`.
    public typealias LayerOutput = (output: Tensor<Scalar>, hN: Tensor<Scalar>, cN: Tensor<Scalar>)
    /// The packed output, `hN` and `cN`.
    public typealias PackedLayerOutput = (output: PackedSequence<Scalar>, hN: Tensor<Scalar>, cN: Tensor<Scalar>)
    /// `"LSTM"`.
    public static var layerName: String { "LSTM" }
    /// `["h0", "c0"]`.
    public static var stateNames: [String] { ["h0", "c0"] }
    /// `[h0, c0]`.
    public static func stateTensors(_ state: LayerState) -> [Tensor<Scalar>] { [state.h, state.c] }
    /// `(output, hN, cN)`.
    public static func layerOutput(_ output: Tensor<Scalar>, finalStates: [Tensor<Scalar>]) -> LayerOutput {
        (output, finalStates[0], finalStates[1])
    }
    /// `(output, hN, cN)`.
    public static func layerOutput(_ output: PackedSequence<Scalar>, finalStates: [Tensor<Scalar>]) -> PackedLayerOutput {
        (output, finalStates[0], finalStates[1])
    }
}
