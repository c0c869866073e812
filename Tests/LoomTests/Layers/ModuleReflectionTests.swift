import Foundation
import Testing
@testable import Loom

/// Models without a `visit` of their own (found by reflection), and models whose `visit`
/// forgets a child (caught).
@Suite struct ModuleReflectionTests {
    struct Block: Module {
        typealias Scalar = Double
        var scale: Tensor<Double>
        var shift: Tensor<Double>?
    }

    struct Reflected: Module {
        typealias Scalar = Double
        var embedding: Embedding<Double>
        var blocks: [Block]
        var extra: Linear<Double>?
        var lstm: LSTM<Double>
        var dropout: Dropout<Double>
        var note = "not a parameter"
        var training = true

        init(seed: UInt64) {
            var generator = RandomGenerator(seed: seed)
            embedding = Embedding(5, 3, using: &generator)
            blocks = [Block(scale: Tensor.ones([3]).requiringGrad(), shift: nil),
                      Block(scale: Tensor.ones([3]).requiringGrad(), shift: Tensor.zeros([3]).requiringGrad())]
            extra = Linear(3, 2, using: &generator)
            lstm = LSTM(inputSize: 3, hiddenSize: 2, batchFirst: true, using: &generator)
            dropout = Dropout(p: 0.5)
        }

        func loss() -> Tensor<Double> {
            var x = embedding(IntTensor([[1, 2, 3]]))
            for block in blocks { x = x * block.scale + (block.shift ?? Tensor(0)) }
            return (lstm(x).output.sum() + extra!(x).sum())
        }
    }

    @Test func reflectionFindsParametersSubmodulesArraysAndOptionals() {
        let names = Reflected(seed: 1).namedParameters().map(\.name)
        #expect(names == ["embedding.weight", "blocks.0.scale", "blocks.1.scale", "blocks.1.shift",
                          "extra.weight", "extra.bias",
                          "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0"])
        #expect(Reflected(seed: 1).unregisteredParameters().isEmpty)
    }

    @Test func reflectedModelTrainsEveryParameterAndSwitchesModes() {
        var model = Reflected(seed: 2)
        let before = model.parameters().map(\.scalars)
        var sgd = SGD<Double>(learningRate: 0.1)
        model.loss().backward()
        #expect(model.parameters().allSatisfy { $0.grad != nil })
        sgd.step(&model)
        let after = model.parameters().map(\.scalars)
        for (name, (old, new)) in zip(model.namedParameters().map(\.name), zip(before, after)) {
            #expect(old != new, "\(name) was not updated")
        }
        model.zeroGrad()
        #expect(model.parameters().allSatisfy { $0.grad == nil })
        model.eval()
        #expect(!model.training && !model.dropout.training && !model.lstm.training)
        model.train()
        #expect(model.training && model.dropout.training)
    }

    struct Forgetful: Module {
        var first: Linear<Double>
        var second: Linear<Double>
        init() {
            var generator = RandomGenerator(seed: 3)
            first = Linear(2, 2, using: &generator)
            second = Linear(2, 2, using: &generator)
        }
        mutating func visit(_ visitor: ModuleVisitor<Double>) {
            visitor.module("first", &first)   // forgets `second`
        }
    }

    @Test func aVisitThatForgetsAChildIsReported() {
        let model = Forgetful()
        #expect(model.parameterCount == 6)
        #expect(model.unregisteredParameters() == ["second.weight", "second.bias"])
    }
}
