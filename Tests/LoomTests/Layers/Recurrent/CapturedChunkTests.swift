import Testing
@testable import Loom

/// A captured step's hoisted instructions (those reading only the input and fixed tensors)
/// may run all rows up front or a chunk of steps at a time, just before those steps, with
/// the hoisted values that nothing reads later held for the current chunk only. Every row is
/// computed by the same kernels either way, so results and gradients must be the same bits
/// however the rows are chunked.
@Suite struct CapturedChunkTests {
    /// Output, final states and every gradient (input, initial states, parameters) of a
    /// 2-layer bidirectional batch-first `recurrence` over lengths with a zero one, under
    /// `policy` with chunks of at most `chunkBytes`; without gradient, output and final states.
    func outcome<Cell: RecurrentCell>(_ recurrence: Recurrence<Cell>, inputSize: Int, policy: StepwiseProjection.Policy,
                                      chunkBytes: Int, gradient: Bool, threads: Int) throws -> [[Double]]
    where Cell.Scalar == Double {
        let layer = recurrence
        let lengths = [6, 2, 0, 6, 3, 5, 1]
        let x = randomNormal([lengths.count, 6, inputSize], seed: 31).requiringGrad()
        let initial = layer.cells.flatMap { $0 }.enumerated().map { n, cell in
            cell.zeroState(batchSize: lengths.count).enumerated().map { s, zero in
                randomNormal(zero.shape, seed: UInt64(40 + 4 * n + s), scale: 0.5).requiringGrad()
            }
        }
        return try Threads.withCount(threads) {
            try StepwiseProjection.$chunkBytes.withValue(chunkBytes) {
                try StepwiseProjection.$policy.withValue(policy) {
                    var unused = RandomGenerator(seed: 0)
                    guard gradient else {
                        let result = try withoutGradient { try layer(x, lengths: lengths, initialStates: initial, using: &unused) }
                        return [result.output.scalars] + result.states.flatMap { $0.map(\.scalars) }
                    }
                    let result = try layer(x, lengths: lengths, initialStates: initial, using: &unused)
                    var loss = (result.output * randomNormal(result.output.shape, seed: 32)).sum()
                    for (n, states) in result.states.enumerated() {
                        for (s, state) in states.enumerated() {
                            loss = loss + (state * randomNormal(state.shape, seed: UInt64(60 + 4 * n + s))).sum()
                        }
                    }
                    loss.backward()
                    defer { layer.zeroGrad() }
                    return [result.output.scalars] + result.states.flatMap { $0.map(\.scalars) } + [x.grad!.scalars]
                        + initial.flatMap { $0.map { $0.grad!.scalars } } + layer.parameters().map { ($0.grad ?? Tensor.zeros($0.shape)).scalars }
                }
            }
        }
    }

    /// Chunked runs (chunks of one step, and of at most 1 KB) equal the whole run bit for bit,
    /// with and without gradient, on one and two threads.
    func expectChunksEqualWhole<Cell: RecurrentCell>(_ recurrence: Recurrence<Cell>, inputSize: Int,
                                                     sourceLocation: SourceLocation = #_sourceLocation) throws
    where Cell.Scalar == Double {
        guard case .captured = recurrence.captureStatus() else {
            Issue.record("not captured: \(recurrence.captureStatus())", sourceLocation: sourceLocation)
            return
        }
        for gradient in [false, true] {
            for threads in [1, 2] {
                let whole = try outcome(recurrence, inputSize: inputSize, policy: .never, chunkBytes: 1 << 20, gradient: gradient,
                                        threads: threads)
                for chunkBytes in [1, 1024] {
                    let chunked = try outcome(recurrence, inputSize: inputSize, policy: .always, chunkBytes: chunkBytes,
                                              gradient: gradient, threads: threads)
                    #expect(chunked.count == whole.count, sourceLocation: sourceLocation)
                    for (n, (a, b)) in zip(chunked, whole).enumerated() {
                        #expect(a == b, "result \(n), gradient \(gradient), threads \(threads), chunks of \(chunkBytes) bytes",
                                sourceLocation: sourceLocation)
                    }
                }
            }
        }
    }

    @Test func spelledOutLSTM() throws {
        var generator = RandomGenerator(seed: 3)
        let recurrence = Recurrence<SpelledOutLSTMCell<Double>>(inputSize: 5, numLayers: 2, bidirectional: true, batchFirst: true,
                                                               using: &generator) { size, g in
            SpelledOutLSTMCell(weightIH: cellWeight([24, size], hidden: 6, using: &g), weightHH: cellWeight([24, 6], hidden: 6, using: &g),
                               biasIH: cellWeight([24], hidden: 6, using: &g), biasHH: cellWeight([24], hidden: 6, using: &g))
        }
        try expectChunksEqualWhole(recurrence, inputSize: 5)
    }

    @Test func layerNormLSTM() throws {
        // A hoisted layer norm (of the input projection), which saves its normalized rows.
        var generator = RandomGenerator(seed: 4)
        let recurrence = Recurrence<LayerNormLSTMCell<Double>>(inputSize: 5, numLayers: 2, bidirectional: true, batchFirst: true,
                                                              using: &generator) { size, g in
            LayerNormLSTMCell(inputSize: size, hiddenSize: 6, using: &g)
        }
        try expectChunksEqualWhole(recurrence, inputSize: 5)
    }

    @Test func everyOpCell() throws {
        // Hoisted slices of the input projection.
        var generator = RandomGenerator(seed: 5)
        let recurrence = Recurrence<EveryOpCell>(inputSize: 5, numLayers: 2, bidirectional: true, batchFirst: true,
                                                 using: &generator) { size, g in
            EveryOpCell(inputSize: size, hiddenSize: 6, using: &g)
        }
        try expectChunksEqualWhole(recurrence, inputSize: 5)
    }

    @Test func nextStateAddedToTheInputProjection() throws {
        // `h' = x·Wᵀ + b + h·Uᵀ`: the next state is the sum the step product accumulates into
        // the hoisted projection's rows, so those rows must outlive their chunk.
        var generator = RandomGenerator(seed: 6)
        let recurrence = Recurrence<LinearRecurrenceCell>(inputSize: 5, numLayers: 2, bidirectional: true, batchFirst: true,
                                                          using: &generator) { size, g in
            LinearRecurrenceCell(inputSize: size, hiddenSize: 6, using: &g)
        }
        try expectChunksEqualWhole(recurrence, inputSize: 5)
    }
}

/// A linear recurrence with a squashed output: `h' = x·Wᵀ + b + h·Uᵀ`, output `tanh(h')`.
struct LinearRecurrenceCell: RecurrentCell {
    typealias Scalar = Double
    var weightIH: Tensor<Double>, weightHH: Tensor<Double>, bias: Tensor<Double>
    var outputSize: Int { weightHH.shape[0] }

    init(inputSize: Int, hiddenSize: Int, using generator: inout RandomGenerator) {
        weightIH = cellWeight([hiddenSize, inputSize], hidden: hiddenSize, using: &generator)
        weightHH = cellWeight([hiddenSize, hiddenSize], hidden: hiddenSize, using: &generator)
        bias = cellWeight([hiddenSize], hidden: hiddenSize, using: &generator)
    }

    func zeroState(batchSize: Int) -> [Tensor<Double>] { [Tensor.zeros([batchSize, outputSize])] }

    func callAsFunction(_ x: Tensor<Double>, state: [Tensor<Double>]) -> (output: Tensor<Double>, state: [Tensor<Double>]) {
        let next = linear(x, weight: weightIH, bias: bias) + linear(state[0], weight: weightHH)
        return (next.tanh(), [next])
    }
}
