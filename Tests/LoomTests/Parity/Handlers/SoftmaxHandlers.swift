@testable import Loom

// Handlers for the softmax family: log_softmax and softmax along config `dim`.

/// `log_softmax`: y = x.logSoftmax(dim).
enum LogSoftmaxHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let x = try fixture.tensor("x", as: Scalar.self).requiringGrad()
        let y = x.logSoftmax(dim: try fixture.int("dim"))
        y.backward(try fixture.upstream(for: "y", of: y))
        var outputs = ParityOutputs()
        outputs.set("y", y)
        outputs.setGradient("grad.x", of: x)
        return outputs
    }
}

/// `softmax`: y = x.softmax(dim).
enum SoftmaxHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let x = try fixture.tensor("x", as: Scalar.self).requiringGrad()
        let y = x.softmax(dim: try fixture.int("dim"))
        y.backward(try fixture.upstream(for: "y", of: y))
        var outputs = ParityOutputs()
        outputs.set("y", y)
        outputs.setGradient("grad.x", of: x)
        return outputs
    }
}
