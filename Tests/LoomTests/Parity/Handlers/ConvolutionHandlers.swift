@testable import Loom

// Handler for the convolution kind: conv1d with padding, stride 1.

/// `conv1d`: y = conv1d(x, param.weight, param.bias, padding).
enum Conv1dHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        guard try fixture.int("stride", default: 1) == 1 else { throw ParityError("conv1d: only stride 1 is supported") }
        let x = try fixture.tensor("x", as: Scalar.self).requiringGrad()
        let weight = try fixture.tensor("param.weight", as: Scalar.self).requiringGrad()
        let bias = try fixture.bool("bias", default: true) ? try fixture.tensor("param.bias", as: Scalar.self).requiringGrad() : nil
        let y = conv1d(x, weight: weight, bias: bias, padding: try fixture.int("padding", default: 0))
        y.backward(try fixture.upstream(for: "y", of: y))
        var outputs = ParityOutputs()
        outputs.set("y", y)
        outputs.setGradient("grad.x", of: x)
        outputs.setGradient("grad.param.weight", of: weight)
        if let bias { outputs.setGradient("grad.param.bias", of: bias) }
        return outputs
    }
}
