@testable import Loom

// Handlers for the indexing kinds: gather, index_select, embedding,
// reverse_padded_sequence. Each output `OUT` is back-propagated with `dloss.OUT`.

extension Fixture {
    /// The first integer input present among `names`.
    func intTensor(anyOf names: [String]) throws -> IntTensor {
        for name in names where intTensors[name] != nil { return try intTensor(name) }
        throw ParityError("missing integer input (one of \(names))")
    }
}

/// `gather`: y = x.gather(dim, index).
enum GatherHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let x = try fixture.tensor("x", as: Scalar.self).requiringGrad()
        let y = x.gather(dim: try fixture.int("dim"), index: try fixture.intTensor(anyOf: ["index"]))
        y.backward(try fixture.upstream(for: "y", of: y))
        var outputs = ParityOutputs()
        outputs.set("y", y)
        outputs.setGradient("grad.x", of: x)
        return outputs
    }
}

/// `index_select`: y = x.indexSelect(dim, index), repeated indices accumulate.
enum IndexSelectHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let x = try fixture.tensor("x", as: Scalar.self).requiringGrad()
        let y = x.indexSelect(dim: try fixture.int("dim"), index: try fixture.intTensor(anyOf: ["index"]))
        y.backward(try fixture.upstream(for: "y", of: y))
        var outputs = ParityOutputs()
        outputs.set("y", y)
        outputs.setGradient("grad.x", of: x)
        return outputs
    }
}

/// `embedding`: y = embedding(index, weight, padding_idx); the padding row gets no gradient.
enum EmbeddingHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let weight = try fixture.tensor("weight", as: Scalar.self).requiringGrad()
        if let rows = try fixture.optionalInt("num_embeddings"), let width = try fixture.optionalInt("embedding_dim"),
           weight.shape != [rows, width] {
            throw ParityError("weight \(weight.shape) does not match num_embeddings \(rows), embedding_dim \(width)")
        }
        let index = try fixture.intTensor(anyOf: ["index", "indices", "input"])
        let y = embedding(index, weight: weight, paddingIndex: try fixture.optionalInt("padding_idx"))
        y.backward(try fixture.upstream(for: "y", of: y))
        var outputs = ParityOutputs()
        outputs.set("y", y)
        outputs.setGradient("grad.weight", of: weight)
        return outputs
    }
}

/// `reverse_padded_sequence`: y = reversePaddedSequence(x, lengths, batch_first).
enum ReversePaddedSequenceHandler: ParityHandler {
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, as scalar: Scalar.Type) throws -> ParityOutputs {
        let x = try fixture.tensor("x", as: Scalar.self).requiringGrad()
        let lengths = try fixture.intTensor("lengths").scalars
        let y = reversePaddedSequence(x, lengths: lengths, batchFirst: try fixture.bool("batch_first", default: false))
        y.backward(try fixture.upstream(for: "y", of: y))
        var outputs = ParityOutputs()
        outputs.set("y", y)
        outputs.setGradient("grad.x", of: x)
        return outputs
    }
}
