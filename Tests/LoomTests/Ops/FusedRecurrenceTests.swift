import Testing
@testable import Loom

/// The fused recurrence (`recurrentSequence`) against the composed reference path and
/// finite differences.
@Suite struct FusedRecurrenceTests {
    enum Kind: CaseIterable { case lstm, gru, rnnTanh, rnnRelu }

    /// Runs a 2-layer bidirectional layer of `kind` (input size 3, `hidden` units) with the
    /// given implementation and returns output, h_n (and c_n) plus every gradient, flattened.
    func run(_ kind: Kind, _ implementation: RecurrentImplementation, x: Tensor<Double>, lengths: [Int],
             h0: Tensor<Double>, c0: Tensor<Double>, batchFirst: Bool, hidden: Int = 4) -> [[Double]] {
        var generator = RandomGenerator(seed: 11)
        let x = x.detached().requiringGrad(), h0 = h0.detached().requiringGrad(), c0 = c0.detached().requiringGrad()
        var probe = RandomGenerator(seed: 3)
        var results: [Tensor<Double>] = []
        var parameters: [Tensor<Double>] = []
        switch kind {
        case .lstm:
            var layer = LSTM<Double>(inputSize: 3, hiddenSize: hidden, numLayers: 2, batchFirst: batchFirst, bidirectional: true, using: &generator)
            layer.implementation = implementation
            let r = try! layer.forward(x, lengths: lengths, initialState: (h0, c0), using: &generator)
            results = [r.output, r.hN, r.cN]
            parameters = layer.parameters()
        case .gru:
            var layer = GRU<Double>(inputSize: 3, hiddenSize: hidden, numLayers: 2, batchFirst: batchFirst, bidirectional: true, using: &generator)
            layer.implementation = implementation
            let r = try! layer.forward(x, lengths: lengths, initialState: h0, using: &generator)
            results = [r.output, r.hN]
            parameters = layer.parameters()
        case .rnnTanh, .rnnRelu:
            var layer = RNN<Double>(inputSize: 3, hiddenSize: hidden, numLayers: 2, nonlinearity: kind == .rnnRelu ? .relu : .tanh,
                                    batchFirst: batchFirst, bidirectional: true, using: &generator)
            layer.implementation = implementation
            let r = try! layer.forward(x, lengths: lengths, initialState: h0, using: &generator)
            results = [r.output, r.hN]
            parameters = layer.parameters()
        }
        var loss = Tensor<Double>(0)
        for result in results { loss = loss + (result * Tensor.uniform(result.shape, low: -1, high: 1, using: &probe)).sum() }
        loss.backward()
        var flat = results.map(\.scalars)
        flat.append(x.grad!.scalars)
        flat.append(h0.grad!.scalars)
        if kind == .lstm { flat.append(c0.grad!.scalars) }
        for p in parameters { flat.append(p.grad?.scalars ?? []) }
        return flat
    }

    /// Expects the flattened results of `run` to agree within 1e-12, array by array.
    func expectAgree(_ fused: [[Double]], _ composed: [[Double]], _ label: String,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(fused.count == composed.count, sourceLocation: sourceLocation)
        for (a, b) in zip(fused, composed) {
            #expect(a.count == b.count, sourceLocation: sourceLocation)
            let worst = zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-12, "\(label): worst difference \(worst)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: Kind.allCases, [true, false])
    func fusedMatchesComposed(kind: Kind, batchFirst: Bool) {
        var generator = RandomGenerator(seed: 5)
        // Batch 5 and time 6 differ, so a swap of the two axes cannot go unnoticed.
        let lengths = [6, 0, 2, 5, 3]
        let x = Tensor<Double>.randn(batchFirst ? [5, 6, 3] : [6, 5, 3], using: &generator)
        let h0 = Tensor<Double>.randn([4, 5, 4], using: &generator)
        let c0 = Tensor<Double>.randn([4, 5, 4], using: &generator)
        let fused = run(kind, .fused, x: x, lengths: lengths, h0: h0, c0: c0, batchFirst: batchFirst)
        let composed = run(kind, .composed, x: x, lengths: lengths, h0: h0, c0: c0, batchFirst: batchFirst)
        expectAgree(fused, composed, "\(kind)")
    }

    /// Widths past one vector: the step kernels run two vectors at a time, then one, then a
    /// zero-padded tail (Double: 8 lanes; 20 units are 16 + a tail of 4, 40 are 32 + 8).
    @Test(arguments: Kind.allCases, [20, 40])
    func fusedMatchesComposedAcrossVectorWidths(kind: Kind, hidden: Int) {
        var generator = RandomGenerator(seed: 25)
        let lengths = [4, 1, 3]
        let x = Tensor<Double>.randn([4, 3, 3], using: &generator)
        let h0 = Tensor<Double>.randn([4, 3, hidden], using: &generator)
        let c0 = Tensor<Double>.randn([4, 3, hidden], using: &generator)
        let fused = run(kind, .fused, x: x, lengths: lengths, h0: h0, c0: c0, batchFirst: false, hidden: hidden)
        let composed = run(kind, .composed, x: x, lengths: lengths, h0: h0, c0: c0, batchFirst: false, hidden: hidden)
        expectAgree(fused, composed, "\(kind), hidden \(hidden)")
    }

    /// Full-length batches take the no-gather path (the projection is read through a row
    /// index); it must agree with the composed reference too.
    @Test(arguments: Kind.allCases, [true, false])
    func fusedMatchesComposedOnFullLengthBatches(kind: Kind, batchFirst: Bool) {
        var generator = RandomGenerator(seed: 15)
        // Batch 4, time 5.
        let x = Tensor<Double>.randn(batchFirst ? [4, 5, 3] : [5, 4, 3], using: &generator)
        let h0 = Tensor<Double>.randn([4, 4, 4], using: &generator)
        let c0 = Tensor<Double>.randn([4, 4, 4], using: &generator)
        let fused = run(kind, .fused, x: x, lengths: [5, 5, 5, 5], h0: h0, c0: c0, batchFirst: batchFirst)
        let composed = run(kind, .composed, x: x, lengths: [5, 5, 5, 5], h0: h0, c0: c0, batchFirst: batchFirst)
        expectAgree(fused, composed, "\(kind)")
    }

    @Test func rowIndexThatDoesNotSpaceStepsEvenlyIsRejected() async {
        await #expect(processExitsWith: .failure) {
            let plan = StepPlan(lengths: [2, 2, 2])
            let direction = RecurrentDirectionInput(projected: Tensor<Double>.zeros([6, 2]), rowIndex: [0, 2, 1, 3, 4, 5],
                                                    h0: Tensor.zeros([3, 2]), c0: nil, weightHH: Tensor.zeros([2, 2]), biasHH: nil)
            _ = recurrentSequence(.rnnTanh, directions: [direction], plan: plan, layout: .padded(time: 2, batchFirst: true))
        }
    }

    @Test(arguments: [RecurrentMode.lstm, .gru, .rnnTanh, .rnnRelu])
    func recurrentSequenceGradientCheck(mode: RecurrentMode) {
        var generator = RandomGenerator(seed: 9)
        let hidden = 3, gates = mode.gateCount * hidden
        let plan = StepPlan(lengths: [2, 4, 0, 1])
        let projected = Tensor<Double>.randn([plan.rowCount, gates], using: &generator)
        let h0 = Tensor<Double>.randn([4, hidden], using: &generator)
        let c0 = Tensor<Double>.randn([4, hidden], using: &generator)
        let w = Tensor<Double>.randn([gates, hidden], using: &generator) * 0.5
        let b = Tensor<Double>.randn([gates], using: &generator)
        let report = gradientCheck([projected, h0, c0, w, b]) { xs in
            let direction = RecurrentDirectionInput(projected: xs[0], h0: xs[1], c0: mode == .lstm ? xs[2] : nil,
                                                    weightHH: xs[3], biasHH: xs[4])
            let r = recurrentSequence(mode, directions: [direction], plan: plan, layout: .padded(time: 5, batchFirst: true))
            return Tensor.cat([r.output.flattened(), r.hN[0].flattened()] + r.cN.map { $0.flattened() }, dim: 0)
        }
        #expect(report.passed, "\(report)")
    }

    @Test func floatFusedPathMatchesDoubleReference() {
        var generator = RandomGenerator(seed: 21)
        let x = Tensor<Double>.randn([3, 6, 16], using: &generator)
        var layerD = LSTM<Double>(inputSize: 16, hiddenSize: 16, batchFirst: true, bidirectional: true, using: &generator)
        layerD.implementation = .composed
        var layerF = LSTM<Float>(inputSize: 16, hiddenSize: 16, batchFirst: true, bidirectional: true, using: &generator)
        layerF.updateParameters { name, p in
            p = layerD.namedParameters().first { $0.name == name }!.tensor.converted(to: Float.self).requiringGrad()
        }
        let lengths = [6, 2, 4]
        let d = try! layerD(x, lengths: lengths)
        let f = try! layerF(x.converted(to: Float.self), lengths: lengths)
        let worst = zip(d.output.scalars, f.output.scalars).map { Swift.abs($0 - Double($1)) }.max()!
        #expect(worst < 2e-6, "worst \(worst)")
    }

    @Test func resultsAreBitwiseIdenticalForOneAndTwoThreads() {
        func trainStep(threads: Int) -> [[Float]] { Threads.withCount(threads) {
            #expect(Threads.count == threads)
            var generator = RandomGenerator(seed: 8)
            let layer = LSTM<Float>(inputSize: 24, hiddenSize: 40, numLayers: 2, batchFirst: true, dropout: 0.3,
                                    bidirectional: true, using: &generator)
            let x = Tensor<Float>.randn([6, 9, 24], using: &generator).requiringGrad()
            let result = try! layer.forward(x, lengths: [9, 3, 7, 0, 9, 5], using: &generator)
            (result.output.sum() + result.hN.sum()).backward()
            return [result.output.scalars, x.grad!.scalars] + layer.parameters().map { $0.grad!.scalars }
        } }
        #expect(trainStep(threads: 1) == trainStep(threads: 2))
    }

    @Test func largeStepsSplitRowsOverThreadsWithIdenticalResults() {
        // 64 rows × hidden 128 is large enough for the per-row work to be split over threads.
        func trainStep(threads: Int) -> [[Float]] { Threads.withCount(threads) {
            #expect(Threads.count == threads)
            var generator = RandomGenerator(seed: 12)
            let layer = GRU<Float>(inputSize: 8, hiddenSize: 128, batchFirst: true, using: &generator)
            let lengths = (0..<64).map { 1 + $0 % 4 }
            let x = Tensor<Float>.randn([64, 4, 8], using: &generator).requiringGrad()
            let result = try! layer.forward(x, lengths: lengths, using: &generator)
            (result.output * result.output).sum().backward()
            return [result.output.scalars, result.hN.scalars, x.grad!.scalars] + layer.parameters().map { $0.grad!.scalars }
        } }
        #expect(trainStep(threads: 1) == trainStep(threads: 2))
    }
}
