import Testing
@testable import Loom

/// Which recurrent layer a test builds.
enum RecurrentKind: String, CaseIterable, CustomStringConvertible {
    case lstm, gru, rnnTanh, rnnRelu
    var description: String { rawValue }
}

/// Any of `LSTM`, `GRU`, `RNN` in `Double`, run through its public API, so one property
/// test covers all three layers.
struct LayerUnderTest {
    enum Layer {
        case lstm(LSTM<Double>)
        case gru(GRU<Double>)
        case rnn(RNN<Double>)
    }

    var layer: Layer

    /// Output, final hidden state and (LSTM only) final cell state of one run.
    struct Result {
        var output: Tensor<Double>
        var hN: Tensor<Double>
        var cN: Tensor<Double>?
    }

    init(_ kind: RecurrentKind, inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bidirectional: Bool = false,
         batchFirst: Bool = true, projSize: Int = 0, dropout: Double = 0, bias: Bool = true, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        switch kind {
        case .lstm:
            layer = .lstm(LSTM(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                               dropout: dropout, bidirectional: bidirectional, projSize: projSize, using: &generator))
        case .gru:
            layer = .gru(GRU(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                             dropout: dropout, bidirectional: bidirectional, using: &generator))
        case .rnnTanh, .rnnRelu:
            layer = .rnn(RNN(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                             nonlinearity: kind == .rnnRelu ? .relu : .tanh, bias: bias, batchFirst: batchFirst,
                             dropout: dropout, bidirectional: bidirectional, using: &generator))
        }
    }

    var configuration: RecurrentConfiguration {
        switch layer {
        case .lstm(let l): return l.configuration
        case .gru(let l): return l.configuration
        case .rnn(let l): return l.configuration
        }
    }

    var hasCellState: Bool {
        if case .lstm = layer { return true }
        return false
    }

    /// Rows of the initial/final hidden state: `[layers·directions, batch, hStateSize]`.
    var stateRows: Int { configuration.numLayers * configuration.directions }
    var hStateSize: Int { configuration.outputSize }
    var outputFeatures: Int { configuration.directions * configuration.outputSize }

    var training: Bool {
        get {
            switch layer {
            case .lstm(let l): return l.training
            case .gru(let l): return l.training
            case .rnn(let l): return l.training
            }
        }
        set {
            switch layer {
            case .lstm(var l): l.training = newValue; layer = .lstm(l)
            case .gru(var l): l.training = newValue; layer = .gru(l)
            case .rnn(var l): l.training = newValue; layer = .rnn(l)
            }
        }
    }

    /// Whether a forward pass takes the fused path (the default of every layer without a projection).
    var runsFusedPath: Bool {
        switch layer {
        case .lstm(let l): return l.implementation == .fused && l.configuration.projSize == 0
        case .gru(let l): return l.implementation == .fused
        case .rnn(let l): return l.implementation == .fused
        }
    }

    func namedParameters() -> [(name: String, tensor: Tensor<Double>)] {
        switch layer {
        case .lstm(let l): return l.namedParameters()
        case .gru(let l): return l.namedParameters()
        case .rnn(let l): return l.namedParameters()
        }
    }

    var parameters: [Tensor<Double>] { namedParameters().map(\.tensor) }

    /// Replaces every parameter by `transform(name, parameter)`, in `state_dict` order.
    mutating func updateParameters(_ transform: (String, inout Tensor<Double>) -> Void) {
        switch layer {
        case .lstm(var l): l.updateParameters(transform); layer = .lstm(l)
        case .gru(var l): l.updateParameters(transform); layer = .gru(l)
        case .rnn(var l): l.updateParameters(transform); layer = .rnn(l)
        }
    }

    /// Sets the parameters, in `state_dict` order, to `values`.
    mutating func setParameters(_ values: [Tensor<Double>]) {
        var index = 0
        updateParameters { _, tensor in
            tensor = values[index]
            index += 1
        }
        precondition(index == values.count, "setParameters: \(values.count) values for \(index) parameters")
    }

    /// A copy whose parameters are fresh leaves with the same values (so gradients of one
    /// run do not accumulate into another's).
    func withFreshParameters() -> LayerUnderTest {
        var copy = self
        copy.updateParameters { _, tensor in tensor = tensor.detached().requiringGrad() }
        return copy
    }

    /// Runs the layer's `forward` (lengths checked, dropout masks from `seed`).
    func run(_ x: Tensor<Double>, lengths: [Int]?, h0: Tensor<Double>? = nil, c0: Tensor<Double>? = nil,
             seed: UInt64 = 99) throws -> Result {
        var generator = RandomGenerator(seed: seed)
        switch layer {
        case .lstm(let l):
            var state: (h: Tensor<Double>, c: Tensor<Double>)?
            if h0 != nil || c0 != nil {
                let batch = l.configuration.batchFirst ? x.shape[0] : x.shape[1]
                state = (h0 ?? Tensor.zeros([stateRows, batch, hStateSize]),
                         c0 ?? Tensor.zeros([stateRows, batch, l.configuration.hiddenSize]))
            }
            let r = try l.forward(x, lengths: lengths, initialState: state, using: &generator)
            return Result(output: r.output, hN: r.hN, cN: r.cN)
        case .gru(let l):
            let r = try l.forward(x, lengths: lengths, initialState: h0, using: &generator)
            return Result(output: r.output, hN: r.hN, cN: nil)
        case .rnn(let l):
            let r = try l.forward(x, lengths: lengths, initialState: h0, using: &generator)
            return Result(output: r.output, hN: r.hN, cN: nil)
        }
    }
}

/// Random test data in Double.
func randomNormal(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor<Double> {
    var generator = RandomGenerator(seed: seed)
    return Tensor<Double>.randn(shape, using: &generator) * Tensor(scale)
}

/// Expects `a` and `b` of the same shape with every element within `tolerance · max(1, |b|)`
/// (NaN never matches).
func expectClose(_ a: Tensor<Double>, _ b: Tensor<Double>, tolerance: Double = 1e-12, _ label: @autoclosure () -> String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard a.shape == b.shape else {
        Issue.record("\(label()): shapes differ, \(a.shape) vs \(b.shape)", sourceLocation: sourceLocation)
        return
    }
    let x = a.scalars, y = b.scalars
    for i in x.indices {
        let error = Swift.abs(x[i] - y[i])
        if !(error <= tolerance * Swift.max(1, Swift.abs(y[i]))) {
            Issue.record("\(label()): element \(i) (of shape \(a.shape)) differs: \(x[i]) vs \(y[i])", sourceLocation: sourceLocation)
            return
        }
    }
}

/// Expects every element of `a` to be exactly zero.
func expectAllZero(_ a: Tensor<Double>, _ label: @autoclosure () -> String, sourceLocation: SourceLocation = #_sourceLocation) {
    if let bad = a.scalars.firstIndex(where: { $0 != 0 }) {
        Issue.record("\(label()): element \(bad) is \(a.scalars[bad]), expected 0", sourceLocation: sourceLocation)
    }
}

/// One sequence of a property test with everything that belongs to it: its real steps,
/// initial states and the weights its part of the loss uses. A batch is assembled from
/// such sequences, so the same sequence can be run in different batches and compared.
struct TestSequence {
    /// The real steps, `[length, inputSize]`.
    var steps: Tensor<Double>
    var h0: Tensor<Double>          // [stateRows, hStateSize]
    var c0: Tensor<Double>?         // [stateRows, hiddenSize]
    var outputWeights: Tensor<Double>   // [maxTime, outputFeatures]
    var hWeights: Tensor<Double>        // [stateRows, hStateSize]
    var cWeights: Tensor<Double>?       // [stateRows, hiddenSize]

    var length: Int { steps.shape[0] }

    static let maxTime = 8

    init(length: Int, for layer: LayerUnderTest, seed: UInt64) {
        let config = layer.configuration
        steps = randomNormal([length, config.inputSize], seed: seed)
        h0 = randomNormal([layer.stateRows, layer.hStateSize], seed: seed &+ 1, scale: 0.5)
        c0 = layer.hasCellState ? randomNormal([layer.stateRows, config.hiddenSize], seed: seed &+ 2, scale: 0.5) : nil
        outputWeights = randomNormal([Self.maxTime, layer.outputFeatures], seed: seed &+ 3)
        hWeights = randomNormal([layer.stateRows, layer.hStateSize], seed: seed &+ 4)
        cWeights = layer.hasCellState ? randomNormal([layer.stateRows, config.hiddenSize], seed: seed &+ 5) : nil
    }
}

/// What one sequence got out of a batched run: its output rows `[time, features]`, final
/// states `[stateRows, size]`, and the gradients of the loss for its input and initial states.
struct SequenceOutcome {
    var output: Tensor<Double>
    var hN: Tensor<Double>
    var cN: Tensor<Double>?
    var inputGrad: Tensor<Double>   // [time, inputSize]
    var h0Grad: Tensor<Double>
    var c0Grad: Tensor<Double>?
}

/// The outcome of a batched run: per sequence, plus the gradients of every weight.
struct BatchOutcome {
    var sequences: [SequenceOutcome]
    var weightGrads: [Tensor<Double>]
}

/// Runs `sequences` as one padded batch of `time` steps (padding values from `padding`,
/// called with (batch index, time step, feature)), with the loss
/// `Σ output ⊙ P + Σ h_n ⊙ Q + Σ c_n ⊙ R` built from each sequence's own weights, and returns
/// what each sequence got. Uses the layer's own layout (`batchFirst` or time-first).
func runBatch(_ layer: LayerUnderTest, _ sequences: [TestSequence], time: Int,
              padding: (Int, Int, Int) -> Double = { _, _, _ in 0 }) throws -> BatchOutcome {
    let layer = layer.withFreshParameters()
    let config = layer.configuration
    let batch = sequences.count, inputSize = config.inputSize
    var values = [Double](repeating: 0, count: batch * time * inputSize)
    for (b, sequence) in sequences.enumerated() {
        let steps = sequence.steps.scalars
        for t in 0..<time {
            for i in 0..<inputSize {
                values[(b * time + t) * inputSize + i] = t < sequence.length ? steps[t * inputSize + i] : padding(b, t, i)
            }
        }
    }
    let batchFirstInput = Tensor(shape: [batch, time, inputSize], scalars: values).requiringGrad()
    let h0 = Tensor.stack(sequences.map(\.h0), dim: 1).requiringGrad()
    let c0 = layer.hasCellState ? Tensor.stack(sequences.map { $0.c0! }, dim: 1).requiringGrad() : nil
    let input = config.batchFirst ? batchFirstInput : batchFirstInput.transposed(0, 1)
    let result = try layer.run(input, lengths: sequences.map(\.length), h0: h0, c0: c0)
    let output = config.batchFirst ? result.output : result.output.transposed(0, 1)   // [B, T, F]

    let outputWeights = Tensor.stack(sequences.map { $0.outputWeights.narrow(dim: 0, start: 0, length: time) }, dim: 0)
    var loss = (output * outputWeights).sum() + (result.hN * Tensor.stack(sequences.map(\.hWeights), dim: 1)).sum()
    if let cN = result.cN {
        loss = loss + (cN * Tensor.stack(sequences.map { $0.cWeights! }, dim: 1)).sum()
    }
    loss.backward()

    let inputGrad = batchFirstInput.grad ?? Tensor.zeros(batchFirstInput.shape)
    let h0Grad = h0.grad ?? Tensor.zeros(h0.shape)
    let c0Grad = c0.map { $0.grad ?? Tensor.zeros($0.shape) }
    let outcomes = sequences.indices.map { b in
        SequenceOutcome(output: output.select(dim: 0, index: b).detached(),
                        hN: result.hN.select(dim: 1, index: b).detached(),
                        cN: result.cN?.select(dim: 1, index: b).detached(),
                        inputGrad: inputGrad.select(dim: 0, index: b),
                        h0Grad: h0Grad.select(dim: 1, index: b),
                        c0Grad: c0Grad?.select(dim: 1, index: b))
    }
    let weightGrads = layer.parameters.map { $0.grad ?? Tensor.zeros($0.shape) }
    return BatchOutcome(sequences: outcomes, weightGrads: weightGrads)
}

/// Expects two runs of the same sequence (possibly in different batches or with different
/// padding) to agree on its real steps, its final states and the gradients of its input and
/// initial states; output past the length must be zero in both.
func expectSameSequence(_ a: SequenceOutcome, _ b: SequenceOutcome, length: Int, _ label: String,
                        sourceLocation: SourceLocation = #_sourceLocation) {
    if length > 0 {
        expectClose(a.output.narrow(dim: 0, start: 0, length: length), b.output.narrow(dim: 0, start: 0, length: length),
                    "\(label): output", sourceLocation: sourceLocation)
        expectClose(a.inputGrad.narrow(dim: 0, start: 0, length: length), b.inputGrad.narrow(dim: 0, start: 0, length: length),
                    "\(label): input gradient", sourceLocation: sourceLocation)
    }
    for (name, outcome) in [("first", a), ("second", b)] {
        let time = outcome.output.shape[0]
        if time > length {
            expectAllZero(outcome.output.narrow(dim: 0, start: length, length: time - length),
                          "\(label): \(name) output past the length", sourceLocation: sourceLocation)
            expectAllZero(outcome.inputGrad.narrow(dim: 0, start: length, length: time - length),
                          "\(label): \(name) input gradient past the length", sourceLocation: sourceLocation)
        }
    }
    expectClose(a.hN, b.hN, "\(label): h_n", sourceLocation: sourceLocation)
    expectClose(a.h0Grad, b.h0Grad, "\(label): h0 gradient", sourceLocation: sourceLocation)
    if let ac = a.cN, let bc = b.cN {
        expectClose(ac, bc, "\(label): c_n", sourceLocation: sourceLocation)
        expectClose(a.c0Grad!, b.c0Grad!, "\(label): c0 gradient", sourceLocation: sourceLocation)
    }
}

/// Expects two lists of weight gradients to agree.
func expectSameWeightGrads(_ a: [Tensor<Double>], _ b: [Tensor<Double>], _ label: String,
                           sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(a.count == b.count, "\(label): parameter counts differ", sourceLocation: sourceLocation)
    for (i, (x, y)) in zip(a, b).enumerated() {
        expectClose(x, y, "\(label): gradient of parameter \(i)", sourceLocation: sourceLocation)
    }
}

/// The small stacked configurations the property tests run: 2 layers, bidirectional, each
/// layer kind on its default (fused) path, plus an LSTM with a projection (which runs the
/// composed path).
func propertyLayers(seed: UInt64, batchFirst: Bool = true) -> [(String, LayerUnderTest)] {
    let layers: [(String, LayerUnderTest)] = [
        ("LSTM", LayerUnderTest(.lstm, inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true,
                                batchFirst: batchFirst, seed: seed &+ 3)),
        ("GRU", LayerUnderTest(.gru, inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true,
                               batchFirst: batchFirst, seed: seed &+ 1)),
        ("RNN tanh", LayerUnderTest(.rnnTanh, inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true,
                                    batchFirst: batchFirst, seed: seed &+ 2)),
        ("RNN relu", LayerUnderTest(.rnnRelu, inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true,
                                    batchFirst: batchFirst, seed: seed &+ 4)),
        ("LSTM proj", LayerUnderTest(.lstm, inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true,
                                     batchFirst: batchFirst, projSize: 2, seed: seed)),
    ]
    for (name, layer) in layers where !name.hasSuffix("proj") {
        #expect(layer.runsFusedPath, "\(name) must run the layer's default (fused) path")
    }
    return layers
}
