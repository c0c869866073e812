import Testing
@testable import Loom

/// Without gradient, the fused recurrence may project the input rows a chunk of steps at a time,
/// just before those steps, instead of all rows up front. The products are the same, so the
/// results must be the same bits whichever way runs and however the steps are chunked.
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

    @Test func automaticChoiceFollowsSizeAndGradient() {
        var generator = RandomGenerator(seed: 2)
        func decision(batch: Int, input: Int = 8, hidden: Int, time: Int, gradient: Bool) -> Bool {
            let weights = [CellWeights<Float>(mode: .lstm, inputSize: input, hiddenSize: hidden, projSize: 0, bias: true,
                                              using: &generator)]
            let x = Tensor<Float>.zeros([batch, time, input])
            let starts = [[Tensor<Float>.zeros([batch, hidden]), Tensor<Float>.zeros([batch, hidden])]]
            let plan = StepPlan(lengths: [Int](repeating: time, count: batch))
            let decide = { Recurrence<LSTMCell<Float>>.projectsStepwise(data: x, weights: weights, starts: starts, plan: plan) }
            return gradient ? decide() : withoutGradient(decide)
        }
        // 64 rows per step, a 26 MB projection: step by step, but only without gradient.
        #expect(decision(batch: 64, hidden: 256, time: 100, gradient: false))
        #expect(!decision(batch: 64, hidden: 256, time: 100, gradient: true))
        // 32 rows per step: step by step while W_ih takes 512 KB or less (here 256 KB and
        // 64 KB), all rows at once when it is larger (4 MB and 1 MB + 8 KB).
        #expect(decision(batch: 32, input: 128, hidden: 128, time: 100, gradient: false))
        #expect(decision(batch: 32, input: 8, hidden: 512, time: 100, gradient: false))
        #expect(!decision(batch: 32, input: 512, hidden: 512, time: 100, gradient: false))
        #expect(!decision(batch: 32, input: 258, hidden: 256, time: 100, gradient: false))
        // A projection that fits in cache: all rows at once.
        #expect(!decision(batch: 64, hidden: 16, time: 10, gradient: false))
    }
}
