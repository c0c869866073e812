import Testing
@testable import Loom

/// The fused recurrence may project the input rows a chunk of steps at a time, just before
/// those steps, instead of all rows up front (with gradient, its backward then computes the
/// projection's gradients). The products are the same, so the results and the gradients must
/// be the same bits whichever way runs and however the steps are chunked.
@Suite struct StepwiseProjectionTests {
    enum Kind: CaseIterable { case lstm, gru, rnn }

    /// Output and final states of a 2-layer bidirectional layer under `policy`, without
    /// gradient, with chunks of at most `chunkBytes` of projection.
    func run(_ kind: Kind, policy: StepwiseProjection.Policy, batchFirst: Bool, lengths: [Int]?, threads: Int,
             chunkBytes: Int = StepwiseProjection.chunkBytes) -> [[Float]] {
        var generator = RandomGenerator(seed: 21)
        let batch = 6, time = 5, input = 7, hidden = 9
        let x = Tensor<Float>.randn(batchFirst ? [batch, time, input] : [time, batch, input], using: &generator)
        return Threads.withCount(threads) {
            StepwiseProjection.$chunkBytes.withValue(chunkBytes) { StepwiseProjection.$policy.withValue(policy) {
                withoutGradient {
                    switch kind {
                    case .lstm:
                        let layer = LSTM<Float>(inputSize: input, hiddenSize: hidden, numLayers: 2, batchFirst: batchFirst,
                                                bidirectional: true, using: &generator)
                        let r = try! layer.forward(x, lengths: lengths, using: &generator)
                        return [r.output.scalars, r.hN.scalars, r.cN.scalars]
                    case .gru:
                        let layer = GRU<Float>(inputSize: input, hiddenSize: hidden, numLayers: 2, batchFirst: batchFirst,
                                               bidirectional: true, using: &generator)
                        let r = try! layer.forward(x, lengths: lengths, using: &generator)
                        return [r.output.scalars, r.hN.scalars]
                    case .rnn:
                        let layer = RNN<Float>(inputSize: input, hiddenSize: hidden, numLayers: 2, batchFirst: batchFirst,
                                               bidirectional: true, using: &generator)
                        let r = try! layer.forward(x, lengths: lengths, using: &generator)
                        return [r.output.scalars, r.hN.scalars]
                    }
                }
            } }
        }
    }

    @Test(arguments: Kind.allCases, [true, false])
    func stepwiseIsBitwiseTheWholeProjection(kind: Kind, batchFirst: Bool) {
        // Full length (rows read in place through a row index), variable lengths with a
        // zero-length sequence (rows gathered first), one and two threads; chunks as large as
        // the whole sequence, and of at most 1152 bytes: 8 rows of an LSTM's 36 gates (steps
        // of 5, 4 + 3 and 2 + 2 rows for the variable lengths), 10 of a GRU's 27, 32 of an RNN's 9.
        for lengths in [nil, [5, 2, 0, 5, 3, 1]] as [[Int]?] {
            for threads in [1, 2] {
                let whole = run(kind, policy: .never, batchFirst: batchFirst, lengths: lengths, threads: threads)
                for chunkBytes in [1 << 20, 8 * 36 * MemoryLayout<Float>.size] {
                    let stepwise = run(kind, policy: .always, batchFirst: batchFirst, lengths: lengths, threads: threads,
                                       chunkBytes: chunkBytes)
                    #expect(whole == stepwise,
                            "\(kind) batchFirst \(batchFirst) lengths \(String(describing: lengths)) threads \(threads) chunk \(chunkBytes)")
                }
            }
        }
    }

    @Test func packedInputStepwiseIsBitwiseTheWholeProjection() {
        // A packed input: the forward direction reads its rows in place, the reverse one
        // copies them chunk by chunk (they are in reverse order within each sequence).
        func run(policy: StepwiseProjection.Policy, chunkBytes: Int) -> [[Float]] {
            var generator = RandomGenerator(seed: 5)
            let x = Tensor<Float>.randn([6, 5, 7], using: &generator)
            let packed = try! packPaddedSequence(x, lengths: [5, 2, 4, 5, 3, 1], batchFirst: true)
            let layer = LSTM<Float>(inputSize: 7, hiddenSize: 9, numLayers: 2, bidirectional: true, using: &generator)
            return StepwiseProjection.$chunkBytes.withValue(chunkBytes) {
                StepwiseProjection.$policy.withValue(policy) {
                    withoutGradient {
                        let r = layer(packed)
                        return [r.output.data.scalars, r.hN.scalars, r.cN.scalars]
                    }
                }
            }
        }
        let whole = run(policy: .never, chunkBytes: StepwiseProjection.chunkBytes)
        for chunkBytes in [1 << 20, 8 * 36 * MemoryLayout<Float>.size] {
            #expect(whole == run(policy: .always, chunkBytes: chunkBytes), "chunk \(chunkBytes)")
        }
    }

    /// The output, final states and every gradient (input, then each parameter) of a
    /// 2-layer bidirectional layer after one backward pass under `policy`.
    func gradients(_ kind: Kind, policy: StepwiseProjection.Policy, batchFirst: Bool, lengths: [Int]?, threads: Int,
                   chunkBytes: Int, packed: Bool = false, hidden: Int = 9) -> [[Float]] {
        var generator = RandomGenerator(seed: 33)
        let batch = 6, time = 5, input = 7
        let x = Tensor<Float>.randn(batchFirst || packed ? [batch, time, input] : [time, batch, input], using: &generator)
            .requiringGrad()
        return Threads.withCount(threads) {
            StepwiseProjection.$chunkBytes.withValue(chunkBytes) { StepwiseProjection.$policy.withValue(policy) {
                // Backward from weighted sums (so every output element and state gets its own
                // gradient); the values, then the gradients of the input and of each parameter.
                func results(_ output: Tensor<Float>, _ states: [Tensor<Float>], _ parameters: [Tensor<Float>]) -> [[Float]] {
                    var total = (output * Tensor<Float>.randn(output.shape, using: &generator)).sum()
                    for state in states { total = total + (state * Tensor<Float>.randn(state.shape, using: &generator)).sum() }
                    total.backward()
                    return [output.scalars] + states.map(\.scalars) + [x.grad!.scalars] + parameters.map { $0.grad!.scalars }
                }
                switch kind {
                case .lstm:
                    let layer = LSTM<Float>(inputSize: input, hiddenSize: hidden, numLayers: 2, batchFirst: batchFirst,
                                            bidirectional: true, using: &generator)
                    let parameters = layer.namedParameters().map(\.tensor)
                    if packed {
                        let r = layer(try! packPaddedSequence(x, lengths: lengths!, batchFirst: true))
                        return results(r.output.data, [r.hN, r.cN], parameters)
                    }
                    let r = try! layer.forward(x, lengths: lengths, using: &generator)
                    return results(r.output, [r.hN, r.cN], parameters)
                case .gru:
                    let layer = GRU<Float>(inputSize: input, hiddenSize: hidden, numLayers: 2, batchFirst: batchFirst,
                                           bidirectional: true, using: &generator)
                    let r = try! layer.forward(x, lengths: lengths, using: &generator)
                    return results(r.output, [r.hN], layer.namedParameters().map(\.tensor))
                case .rnn:
                    let layer = RNN<Float>(inputSize: input, hiddenSize: hidden, numLayers: 2, batchFirst: batchFirst,
                                           bidirectional: true, using: &generator)
                    let r = try! layer.forward(x, lengths: lengths, using: &generator)
                    return results(r.output, [r.hN], layer.namedParameters().map(\.tensor))
                }
            } }
        }
    }

    @Test(arguments: Kind.allCases, [true, false])
    func stepwiseGradientsAreBitwiseTheWholeProjection(kind: Kind, batchFirst: Bool) {
        // As above, with gradient: the op's own backward of the projection against `linear`'s
        // (and `indexSelect`'s, for the gathered rows of variable lengths). With a hidden size
        // of whole microkernel tiles (32), the op's `dW_hh` and `dW_ih` of an LSTM or RNN come
        // from one product; with 9, from two.
        for (lengths, hidden) in [(nil, 9), ([5, 2, 0, 5, 3, 1], 9), (nil, 32), ([5, 2, 0, 5, 3, 1], 32)] as [([Int]?, Int)] {
            for threads in [1, 2] {
                let whole = gradients(kind, policy: .never, batchFirst: batchFirst, lengths: lengths, threads: threads,
                                      chunkBytes: StepwiseProjection.chunkBytes, hidden: hidden)
                for chunkBytes in [1 << 20, 8 * 36 * MemoryLayout<Float>.size] {
                    let stepwise = gradients(kind, policy: .always, batchFirst: batchFirst, lengths: lengths, threads: threads,
                                             chunkBytes: chunkBytes, hidden: hidden)
                    #expect(whole.count == stepwise.count)
                    for (index, (a, b)) in zip(whole, stepwise).enumerated() {
                        #expect(a == b, "\(kind) batchFirst \(batchFirst) lengths \(String(describing: lengths)) hidden \(hidden) threads \(threads) chunk \(chunkBytes) tensor \(index)")
                    }
                }
            }
        }
    }

    /// With one bias frozen, the op's product for `dW_hh` and `dW_ih` gives the other bias's
    /// gradient alone, the same bits as the whole projection's.
    @Test(arguments: ["bias_hh_l0", "bias_ih_l0"])
    func stepwiseGradientsWithAFrozenBiasAreBitwiseTheWholeProjection(frozen: String) {
        func gradients(_ policy: StepwiseProjection.Policy) -> [[Float]?] {
            var generator = RandomGenerator(seed: 34)
            let x = Tensor<Float>.randn([4, 6, 5], using: &generator).requiringGrad()
            var layer = LSTM<Float>(inputSize: 5, hiddenSize: 32, batchFirst: true, using: &generator)
            layer.updateParameters { name, tensor in if name == frozen { tensor = tensor.detached() } }
            let upstream = Tensor<Float>.randn([4, 6, 32], using: &generator)
            StepwiseProjection.$policy.withValue(policy) {
                (try! layer.forward(x, lengths: [6, 3, 5, 1], using: &generator).output * upstream).sum().backward()
            }
            return [x.grad?.scalars] + layer.namedParameters().map { $0.tensor.grad?.scalars }
        }
        let whole = gradients(.never), stepwise = gradients(.always)
        #expect(whole.compactMap { $0 }.count == 4, "x and three of the four parameters get gradients")
        #expect(whole == stepwise, "frozen \(frozen)")
    }

    @Test func packedInputStepwiseGradientsAreBitwiseTheWholeProjection() {
        let lengths = [5, 2, 4, 5, 3, 1]
        let whole = gradients(.lstm, policy: .never, batchFirst: true, lengths: lengths, threads: 1,
                              chunkBytes: StepwiseProjection.chunkBytes, packed: true)
        for chunkBytes in [1 << 20, 8 * 36 * MemoryLayout<Float>.size] {
            let stepwise = gradients(.lstm, policy: .always, batchFirst: true, lengths: lengths, threads: 1,
                                     chunkBytes: chunkBytes, packed: true)
            #expect(whole == stepwise, "chunk \(chunkBytes)")
        }
    }

    @Test func automaticChoiceFollowsSize() {
        var generator = RandomGenerator(seed: 2)
        func decision(batch: Int, input: Int = 8, hidden: Int, time: Int) -> Bool {
            let weights = [CellWeights<Float>(mode: .lstm, inputSize: input, hiddenSize: hidden, projSize: 0, bias: true,
                                              using: &generator)]
            let plan = StepPlan(lengths: [Int](repeating: time, count: batch))
            return Recurrence<LSTMCell<Float>>.projectsStepwise(weights: weights, plan: plan)
        }
        // 64 rows per step, a 26 MB projection: step by step.
        #expect(decision(batch: 64, hidden: 256, time: 100))
        // 32 rows per step: step by step while W_ih takes 512 KB or less (here 256 KB and
        // 64 KB), all rows at once when it is larger (4 MB and 1 MB + 8 KB).
        #expect(decision(batch: 32, input: 128, hidden: 128, time: 100))
        #expect(decision(batch: 32, input: 8, hidden: 512, time: 100))
        #expect(!decision(batch: 32, input: 512, hidden: 512, time: 100))
        #expect(!decision(batch: 32, input: 258, hidden: 256, time: 100))
        // A projection that fits in cache: all rows at once.
        #expect(!decision(batch: 64, hidden: 16, time: 10))
    }
}
