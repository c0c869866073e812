@testable import Loom

// Handlers for the losses. The output `loss` is the loss itself: its gradient seed is
// `dloss.loss` when the fixture gives one (e.g. for reduction "none"), else ones.

extension Fixture {
    /// Stops with an error for a config option Loom's loss does not implement, rather than
    /// silently computing something else.
    func rejectUnsupported(_ keys: [String], neutral: [String: JSONValue] = [:]) throws {
        for key in keys {
            guard let value = config[key], value != .null, value != neutral[key] else { continue }
            throw ParityError("config '\(key)' = \(value) is not supported")
        }
    }

    /// Runs a loss: back-propagates output `loss` and records it.
    func recordLoss<Scalar: TensorScalar>(_ loss: Tensor<Scalar>, into outputs: inout ParityOutputs) throws {
        loss.backward(try upstream(for: "loss", of: loss))
        outputs.set("loss", loss)
    }
}

/// `cross_entropy`: loss = crossEntropy(logits, target, ignore_index, reduction).
enum CrossEntropyHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        try fixture.rejectUnsupported(["weight", "label_smoothing"], neutral: ["label_smoothing": .number(0)])
        let logits = try fixture.tensor("logits", as: Scalar.self).requiringGrad()
        let loss = crossEntropy(logits, try fixture.intTensor(anyOf: ["target", "targets"]),
                                ignoreIndex: try fixture.int("ignore_index", default: -100),
                                reduction: try fixture.reduction())
        var outputs = ParityOutputs()
        try fixture.recordLoss(loss, into: &outputs)
        outputs.setGradient("grad.logits", of: logits)
        return outputs
    }
}

/// `nll_loss`: loss = nllLoss(log_probs, target, ignore_index, reduction).
enum NLLLossHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        try fixture.rejectUnsupported(["weight"])
        guard let name = ["log_probs", "input", "x"].first(where: fixture.hasTensor) else {
            throw ParityError("missing input tensor (log_probs, input or x)")
        }
        let logProbs = try fixture.tensor(name, as: Scalar.self).requiringGrad()
        let loss = nllLoss(logProbs, try fixture.intTensor(anyOf: ["target", "targets"]),
                           ignoreIndex: try fixture.int("ignore_index", default: -100),
                           reduction: try fixture.reduction())
        var outputs = ParityOutputs()
        try fixture.recordLoss(loss, into: &outputs)
        outputs.setGradient("grad." + name, of: logProbs)
        return outputs
    }
}

/// `bce_with_logits`: loss = binaryCrossEntropyWithLogits(logits, target, reduction).
enum BCEWithLogitsHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        try fixture.rejectUnsupported(["weight", "pos_weight"])
        let logits = try fixture.tensor("logits", as: Scalar.self).requiringGrad()
        let target = try fixture.tensor("target", as: Scalar.self).requiringGrad()
        let loss = binaryCrossEntropyWithLogits(logits, target, reduction: try fixture.reduction())
        var outputs = ParityOutputs()
        try fixture.recordLoss(loss, into: &outputs)
        outputs.setGradient("grad.logits", of: logits)
        outputs.setGradient("grad.target", of: target)
        return outputs
    }
}

/// `mse_loss`: loss = mseLoss(prediction, target, reduction).
enum MSELossHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let prediction = try fixture.tensor("prediction", as: Scalar.self).requiringGrad()
        let target = try fixture.tensor("target", as: Scalar.self).requiringGrad()
        let loss = mseLoss(prediction, target, reduction: try fixture.reduction())
        var outputs = ParityOutputs()
        try fixture.recordLoss(loss, into: &outputs)
        outputs.setGradient("grad.prediction", of: prediction)
        outputs.setGradient("grad.target", of: target)
        return outputs
    }
}
