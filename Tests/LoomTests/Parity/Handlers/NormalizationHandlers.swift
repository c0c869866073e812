@testable import Loom

// Handler for the normalization kind: layer_norm over the last axis.

/// `layer_norm`: y = layerNorm(x, param.weight, param.bias, eps) over the last axis.
enum LayerNormHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let x = try fixture.tensor("x", as: Scalar.self).requiringGrad()
        guard try fixture.int("normalized_shape") == x.shape.last else {
            throw ParityError("layer_norm: only the last axis is normalized")
        }
        let affine = try fixture.bool("elementwise_affine", default: true)
        let weight = affine ? try fixture.tensor("param.weight", as: Scalar.self).requiringGrad() : nil
        let bias = affine ? try fixture.tensor("param.bias", as: Scalar.self).requiringGrad() : nil
        let y = layerNorm(x, weight: weight, bias: bias, eps: try fixture.double("eps", default: 1e-5))
        y.backward(try fixture.upstream(for: "y", of: y))
        var outputs = ParityOutputs()
        outputs.set("y", y)
        outputs.setGradient("grad.x", of: x)
        if let weight { outputs.setGradient("grad.param.weight", of: weight) }
        if let bias { outputs.setGradient("grad.param.bias", of: bias) }
        return outputs
    }
}
