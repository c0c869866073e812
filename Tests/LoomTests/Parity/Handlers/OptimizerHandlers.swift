@testable import Loom

// Handlers for the optimizer kinds (sgd, adam, adamw) and clip_grad_norm. Parameters
// `param.K` start the run; at step S each gets gradient `grad.S.K`, then the optimizer
// steps; `after.S.K` is parameter K after step S.

extension Fixture {
    /// A number from the config, or `defaultValue` when absent or null.
    func double(_ key: String, default defaultValue: Double) throws -> Double {
        switch config[key] {
        case nil, .null?: return defaultValue
        case .number(let value)?: return value
        case .bool(let value)?: return value ? 1 : 0
        case let other?: throw ParityError("config '\(key)' should be a number, got \(other)")
        }
    }

    /// A pair of numbers from the config (Adam's betas).
    func pair(_ key: String, default defaultValue: (Double, Double)) throws -> (Double, Double) {
        switch config[key] {
        case nil, .null?: return defaultValue
        case .array(let values)?:
            guard values.count == 2, case .number(let a) = values[0], case .number(let b) = values[1] else {
                throw ParityError("config '\(key)' should be two numbers, got \(values)")
            }
            return (a, b)
        case let other?: throw ParityError("config '\(key)' should be two numbers, got \(other)")
        }
    }

    /// The indices K of `PREFIX.K` inputs, ascending.
    func indexedNames(prefix: String) -> [Int] {
        tensors.keys.compactMap { $0.hasPrefix(prefix) ? Int($0.dropFirst(prefix.count)) : nil }.sorted()
    }
}

/// `sgd`, `adam`, `adamw`: several optimizer steps on raw parameters.
enum OptimizerHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        try fixture.rejectUnsupported(["amsgrad", "maximize", "foreach", "capturable", "differentiable", "fused"],
                                      neutral: ["amsgrad": .bool(false), "maximize": .bool(false), "foreach": .null,
                                                "capturable": .bool(false), "differentiable": .bool(false), "fused": .null])
        let lr = Scalar(try fixture.double("lr", default: 1e-3))
        let steps = try fixture.int("steps")
        var parameters = try fixture.indexedNames(prefix: "param.").map { try fixture.tensor("param.\($0)", as: Scalar.self).requiringGrad() }
        var outputs = ParityOutputs()
        func run<O: Optimizer>(_ optimizer: inout O) throws where O.Scalar == Scalar {
            for step in 0..<steps {
                for (k, parameter) in parameters.enumerated() {
                    parameter.grad = fixture.hasTensor("grad.\(step).\(k)") ? try fixture.tensor("grad.\(step).\(k)", as: Scalar.self) : nil
                }
                optimizer.step(&parameters)
                for (k, parameter) in parameters.enumerated() { outputs.set("after.\(step).\(k)", parameter) }
            }
        }
        switch fixture.kind {
        case "sgd":
            var sgd = SGD<Scalar>(learningRate: lr, momentum: Scalar(try fixture.double("momentum", default: 0)),
                                  dampening: Scalar(try fixture.double("dampening", default: 0)),
                                  weightDecay: Scalar(try fixture.double("weight_decay", default: 0)),
                                  nesterov: try fixture.bool("nesterov", default: false))
            try run(&sgd)
        default:
            let decoupled = fixture.kind == "adamw"
            let betas = try fixture.pair("betas", default: (0.9, 0.999))
            var adam = Adam<Scalar>(learningRate: lr, betas: (Scalar(betas.0), Scalar(betas.1)),
                                    epsilon: Scalar(try fixture.double("eps", default: 1e-8)),
                                    weightDecay: Scalar(try fixture.double("weight_decay", default: decoupled ? 0.01 : 0)),
                                    decoupledWeightDecay: decoupled)
            try run(&adam)
        }
        return outputs
    }
}

/// `clip_grad_norm`: gradients `grad.K` clipped together to `max_norm`.
enum ClipGradNormHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let parameters = try fixture.indexedNames(prefix: "grad.").map { k in
            let grad = try fixture.tensor("grad.\(k)", as: Scalar.self)
            let parameter = Tensor<Scalar>.zeros(grad.shape).requiringGrad()
            parameter.grad = grad
            return (k, parameter)
        }
        let norm = clipGradNorm(parameters.map(\.1), maxNorm: try fixture.double("max_norm", default: 1),
                                normType: try fixture.double("norm_type", default: 2))
        var outputs = ParityOutputs()
        for (k, parameter) in parameters { outputs.setGradient("clipped.\(k)", of: parameter) }
        outputs.set("total_norm", Tensor<Double>(norm))
        return outputs
    }
}
