import Foundation
import Testing
@testable import Loom

/// Optimizer state saved and restored (PyTorch's `optimizer.state_dict()`), and never reused
/// for parameters it was not built for.
@Suite struct OptimizerStateTests {
    struct Model: Module {
        var linear: Linear<Float>
        var lstm: LSTM<Float>
        init(seed: UInt64) {
            var generator = RandomGenerator(seed: seed)
            linear = Linear(3, 4, using: &generator)
            lstm = LSTM(inputSize: 4, hiddenSize: 5, batchFirst: true, using: &generator)
        }
        mutating func visit(_ visitor: ModuleVisitor<Float>) {
            visitor.module("linear", &linear)
            visitor.module("lstm", &lstm)
        }
        func loss(_ step: Int) -> Tensor<Float> {
            var generator = RandomGenerator(seed: 50 + UInt64(step))
            let x = Tensor<Float>.randn([2, 3, 3], using: &generator)
            return lstm(linear(x)).output.tanh().sum()
        }
    }

    func train<O: Optimizer>(_ model: inout Model, _ optimizer: inout O, steps: Range<Int>) where O.Scalar == Float {
        for step in steps {
            model.zeroGrad()
            model.loss(step).backward()
            optimizer.step(&model)
        }
    }

    func roundTrip<O: Optimizer>(_ makeOptimizer: () -> O) throws where O.Scalar == Float {
        var straight = Model(seed: 1), optimizerStraight = makeOptimizer()
        train(&straight, &optimizerStraight, steps: 0..<6)

        var first = Model(seed: 1), optimizerFirst = makeOptimizer()
        train(&first, &optimizerFirst, steps: 0..<3)
        let savedModel = first.stateDict(), savedState = optimizerFirst.stateDict()
        // A fresh model and optimizer restored from what was saved continue identically.
        var resumed = Model(seed: 99), optimizerResumed = makeOptimizer()
        try resumed.loadStateDict(Dictionary(uniqueKeysWithValues: savedModel.map { ($0.name, $0.tensor) }))
        try optimizerResumed.load(stateDict: savedState)
        train(&resumed, &optimizerResumed, steps: 3..<6)
        #expect(resumed.parameters().map(\.scalars) == straight.parameters().map(\.scalars))
    }

    @Test func adamStateRoundTripsBitwise() throws {
        try roundTrip { Adam<Float>(learningRate: 0.01, weightDecay: 0.1) }
        let names = { () -> [String] in
            var model = Model(seed: 1), adam = Adam<Float>()
            train(&model, &adam, steps: 0..<1)
            return adam.stateDict().keys.sorted()
        }()
        #expect(names.contains("state.lstm.weight_ih_l0.exp_avg"))
        #expect(names.contains("state.lstm.weight_ih_l0.exp_avg_sq"))
        #expect(names.contains("state.linear.bias.step"))
    }

    @Test func sgdMomentumStateRoundTripsBitwise() throws {
        try roundTrip { SGD<Float>(learningRate: 0.05, momentum: 0.9, nesterov: true) }
    }

    /// Loading new weights into the model drops the moments built for the old ones: the next
    /// step is the first step of a fresh optimizer.
    @Test func loadingParametersDropsStaleState() throws {
        var model = Model(seed: 1), adam = Adam<Float>(learningRate: 0.01)
        train(&model, &adam, steps: 0..<3)
        let other = Model(seed: 2).stateDict()
        try model.loadStateDict(Dictionary(uniqueKeysWithValues: other.map { ($0.name, $0.tensor) }))
        train(&model, &adam, steps: 3..<4)

        var fresh = Model(seed: 2), freshAdam = Adam<Float>(learningRate: 0.01)
        train(&fresh, &freshAdam, steps: 3..<4)
        #expect(model.parameters().map(\.scalars) == fresh.parameters().map(\.scalars))
        #expect(adam.stateDict()["state.linear.weight.step"]?.scalars == [1])
    }

    @Test func malformedStateIsRefused() throws {
        var adam = Adam<Float>()
        let moments = Tensor<Float>.zeros([2])
        #expect(throws: OptimizerStateError.self) { try adam.load(stateDict: ["state.w.exp_avg": moments]) }
        #expect(throws: OptimizerStateError.self) { try adam.load(stateDict: ["w.exp_avg": moments]) }
        #expect(throws: OptimizerStateError.self) {
            try adam.load(stateDict: ["state.w.exp_avg": moments, "state.w.exp_avg_sq": Tensor<Float>.zeros([3]),
                                      "state.w.step": Tensor(shape: [1], scalars: [1])])
        }
        #expect(throws: OptimizerStateError.self) {
            try adam.load(stateDict: ["state.w.exp_avg": moments, "state.w.exp_avg_sq": moments,
                                      "state.w.step": Tensor(shape: [1], scalars: [1.5])])
        }
        var sgd = SGD<Float>(learningRate: 0.1, momentum: 0.9)
        #expect(throws: OptimizerStateError.self) { try sgd.load(stateDict: ["state.w.velocity": moments]) }
    }

    /// A training checkpoint brings back model, optimizer, generator, position and extras;
    /// the model part loads alone with `loadCheckpoint`.
    @Test func trainingCheckpointRoundTrips() throws {
        var model = Model(seed: 1), adam = Adam<Float>(learningRate: 0.01)
        train(&model, &adam, steps: 0..<2)
        var generator = RandomGenerator(seed: 5)
        _ = generator.next()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("loom-training-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let position = TrainingPosition(epoch: 2, step: 3, batches: [[2, 0], [1]])
        try saveTrainingCheckpoint(model: model, optimizer: adam, generator: generator, position: position,
                                   extraTensors: ["h": Tensor<Float>.ones([2, 2])], metadata: ["note": "x"], to: url)

        var restored = Model(seed: 7), restoredAdam = Adam<Float>(learningRate: 0.01)
        let point = try loadTrainingCheckpoint(from: url, into: &restored, optimizer: &restoredAdam)
        #expect(point.position == position)
        #expect(point.generator.stateWords == generator.stateWords)
        #expect(point.extraTensors["h"]?.scalars == [1, 1, 1, 1])
        #expect(point.metadata["note"] == "x")
        #expect(restored.parameters().map(\.scalars) == model.parameters().map(\.scalars))
        #expect(restoredAdam.stateDict().mapValues(\.scalars) == adam.stateDict().mapValues(\.scalars))

        var modelOnly = Model(seed: 8)
        try loadCheckpoint(into: &modelOnly, from: url)
        #expect(modelOnly.parameters().map(\.scalars) == model.parameters().map(\.scalars))

        // A plain checkpoint is not a training checkpoint.
        let plain = url.deletingPathExtension().appendingPathExtension("plain.safetensors")
        defer { try? FileManager.default.removeItem(at: plain) }
        try saveCheckpoint(model, to: plain)
        #expect(throws: CheckpointError.self) { _ = try loadTrainingCheckpoint(from: plain, into: &restored, optimizer: &restoredAdam) }
    }
}
