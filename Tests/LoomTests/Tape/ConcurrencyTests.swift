import Dispatch
import Testing
@testable import Loom

/// Tensors and their graphs crossing threads: concurrent backward walks over graphs that share
/// parameters, and two models trained at the same time. Run under the thread sanitizer with
/// `swift test --sanitize=thread --filter ConcurrencyTests`.
@Suite struct ConcurrencyTests {
    /// Two losses built from the same leaves, back-propagated at the same time on two threads,
    /// leave in each leaf the sum of both gradients.
    @Test func concurrentBackwardWalksOverSharedParametersAddUp() {
        var generator = RandomGenerator(seed: 41)
        let w = Tensor<Double>.randn([6, 5], using: &generator).requiringGrad()
        let b = Tensor<Double>.randn([5], using: &generator).requiringGrad()
        let inputs = (0..<8).map { _ in Tensor<Double>.randn([4, 6], using: &generator) }
        func loss(_ x: Tensor<Double>) -> Tensor<Double> { (x.matmul(w) + b).tanh().sum() }

        // Reference: the walks one after the other.
        for x in inputs { loss(x).backward() }
        let expectedW = w.grad!.scalars, expectedB = b.grad!.scalars
        w.zeroGrad(); b.zeroGrad()

        // The graphs are built on the calling thread, then walked concurrently.
        let losses = inputs.map(loss)
        DispatchQueue.concurrentPerform(iterations: losses.count) { losses[$0].backward() }
        let gotW = w.grad!.scalars, gotB = b.grad!.scalars
        // Addition order differs between runs, so compare to rounding.
        for (got, expected) in zip(gotW + gotB, expectedW + expectedB) {
            #expect(Swift.abs(got - expected) <= 1e-12 * Swift.max(1, Swift.abs(expected)))
        }
        #expect(gotW.count == expectedW.count && gotB.count == expectedB.count)
    }

    struct Model: Module {
        var lstm: LSTM<Float>
        var linear: Linear<Float>
        init(seed: UInt64) {
            var generator = RandomGenerator(seed: seed)
            lstm = LSTM(inputSize: 3, hiddenSize: 8, batchFirst: true, bidirectional: true, using: &generator)
            linear = Linear(16, 2, using: &generator)
        }
        mutating func visit(_ visitor: ModuleVisitor<Float>) {
            visitor.module("lstm", &lstm)
            visitor.module("linear", &linear)
        }
    }

    static func train(seed: UInt64) -> [Float] {
        var model = Model(seed: seed)
        var optimizer = Adam<Float>(learningRate: 0.01)
        var generator = RandomGenerator(seed: seed + 100)
        for _ in 0..<5 {
            let x = Tensor<Float>.randn([4, 6, 3], using: &generator)
            let result = try! model.lstm(x, lengths: [6, 2, 0, 4])
            let logits = model.linear(result.output.mean(dim: 1))
            let loss = crossEntropy(logits, IntTensor([0, 1, 1, 0]))
            model.zeroGrad()
            loss.backward()
            optimizer.step(&model)
        }
        return model.parameters().flatMap(\.scalars)
    }

    /// A small bidirectional LSTM classifier trained for a few steps gives the same weights
    /// whether trained alone or while a second model trains on another thread.
    @Test func twoModelsTrainConcurrently() async {
        let alone = [Self.train(seed: 1), Self.train(seed: 2)]
        async let first = Task.detached { Self.train(seed: 1) }.value
        async let second = Task.detached { Self.train(seed: 2) }.value
        let results = await [first, second]
        #expect(results[0] == alone[0])
        #expect(results[1] == alone[1])
    }
}
