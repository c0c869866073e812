import Foundation
@testable import Loom

/// A JSON value of any kind, for the heterogeneous `config` object of a fixture.
enum JSONValue: Decodable, Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null; return }
        if let value = try? container.decode(Bool.self) { self = .bool(value); return }
        if let value = try? container.decode(Double.self) { self = .number(value); return }
        if let value = try? container.decode(String.self) { self = .string(value); return }
        if let value = try? container.decode([JSONValue].self) { self = .array(value); return }
        if let value = try? container.decode([String: JSONValue].self) { self = .object(value); return }
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
    }

    var description: String {
        switch self {
        case .null: "null"
        case .bool(let value): "\(value)"
        case .number(let value): "\(value)"
        case .string(let value): "\"\(value)\""
        case .array(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .object(let values): "{" + values.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}

/// A float64 tensor as a fixture stores it: shape and row-major data.
struct FixtureTensor: Decodable, Equatable {
    var shape: [Int]
    var data: [Double]
}

/// An integer tensor as a fixture stores it.
struct FixtureIntTensor: Decodable, Equatable {
    var shape: [Int]
    var data: [Int]
}

/// The largest allowed error per precision.
struct FixtureTolerance: Decodable, Equatable {
    var float64: Double
    var float32: Double

    /// The tolerance for runs in `Scalar`.
    func value<Scalar: TensorScalar>(for _: Scalar.Type) -> Double {
        Scalar.self == Double.self ? float64 : float32
    }
}

/// Why a handler could not run a fixture (counted as a failure).
struct ParityError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// One PyTorch parity case, format `parity-1` (see Tests/LoomTests/Resources/fixtures and
/// the project's fixtures README).
struct Fixture: Decodable {
    var format: String
    var name: String
    var kind: String
    var config: [String: JSONValue]
    var note: String?
    var tensors: [String: FixtureTensor]
    var intTensors: [String: FixtureIntTensor]
    var expected: [String: FixtureTensor]
    var expectedInt: [String: FixtureIntTensor]
    var tolerance: FixtureTolerance

    enum CodingKeys: String, CodingKey {
        case format, name, kind, config, note, tensors, tolerance, expected
        case intTensors = "int_tensors"
        case expectedInt = "expected_int"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        format = try c.decode(String.self, forKey: .format)
        name = try c.decode(String.self, forKey: .name)
        kind = try c.decode(String.self, forKey: .kind)
        config = try c.decodeIfPresent([String: JSONValue].self, forKey: .config) ?? [:]
        note = try c.decodeIfPresent(String.self, forKey: .note)
        tensors = try c.decodeIfPresent([String: FixtureTensor].self, forKey: .tensors) ?? [:]
        intTensors = try c.decodeIfPresent([String: FixtureIntTensor].self, forKey: .intTensors) ?? [:]
        expected = try c.decodeIfPresent([String: FixtureTensor].self, forKey: .expected) ?? [:]
        expectedInt = try c.decodeIfPresent([String: FixtureIntTensor].self, forKey: .expectedInt) ?? [:]
        tolerance = try c.decode(FixtureTolerance.self, forKey: .tolerance)
    }

    /// Decodes a fixture from JSON data (NaN and Infinity literals allowed).
    static func decode(_ data: Data) throws -> Fixture {
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        return try decoder.decode(Fixture.self, from: data)
    }

    // MARK: Inputs

    /// Input tensor `name` converted to `Scalar`.
    func tensor<Scalar: TensorScalar>(_ name: String, as _: Scalar.Type) throws -> Tensor<Scalar> {
        guard let stored = tensors[name] else { throw ParityError("missing input tensor '\(name)'") }
        guard Shape.count(of: stored.shape) == stored.data.count else {
            throw ParityError("tensor '\(name)' has \(stored.data.count) values for shape \(stored.shape)")
        }
        return Tensor<Scalar>(shape: stored.shape, scalars: stored.data.map { Scalar($0) })
    }

    /// Whether input tensor `name` is present.
    func hasTensor(_ name: String) -> Bool { tensors[name] != nil }

    /// Integer input `name`.
    func intTensor(_ name: String) throws -> IntTensor {
        guard let stored = intTensors[name] else { throw ParityError("missing integer input '\(name)'") }
        guard Shape.count(of: stored.shape) == stored.data.count else {
            throw ParityError("integer tensor '\(name)' has \(stored.data.count) values for shape \(stored.shape)")
        }
        return IntTensor(shape: stored.shape, scalars: stored.data)
    }

    // MARK: Config

    /// Config integer `key`; `defaultValue` when absent or null (throws if neither).
    func int(_ key: String, default defaultValue: Int? = nil) throws -> Int {
        if let value = try optionalInt(key) { return value }
        if let defaultValue { return defaultValue }
        throw ParityError("config '\(key)' is missing")
    }

    /// Config integer `key`, or nil when absent or null.
    func optionalInt(_ key: String) throws -> Int? {
        switch config[key] {
        case nil, .null?: return nil
        case .number(let value)?:
            guard value == value.rounded(), let int = Int(exactly: value) else {
                throw ParityError("config '\(key)' = \(value) is not an integer")
            }
            return int
        case .bool(let value)?: return value ? 1 : 0
        case let other?: throw ParityError("config '\(key)' = \(other) is not an integer")
        }
    }

    /// Config boolean `key`; `defaultValue` when absent or null.
    func bool(_ key: String, default defaultValue: Bool) throws -> Bool {
        switch config[key] {
        case nil, .null?: return defaultValue
        case .bool(let value)?: return value
        case .number(let value)?: return value != 0
        case let other?: throw ParityError("config '\(key)' = \(other) is not a boolean")
        }
    }

    /// Config string `key`; `defaultValue` when absent or null.
    func string(_ key: String, default defaultValue: String) throws -> String {
        switch config[key] {
        case nil, .null?: return defaultValue
        case .string(let value)?: return value
        case let other?: throw ParityError("config '\(key)' = \(other) is not a string")
        }
    }

    /// Config `reduction` ("mean" when absent).
    func reduction() throws -> Reduction {
        let name = try string("reduction", default: "mean")
        guard let reduction = Reduction(name: name) else { throw ParityError("unknown reduction '\(name)'") }
        return reduction
    }

    // MARK: Loss

    /// The upstream gradient for output `name`: `dloss.NAME` when the fixture gives it
    /// (the loss is then `sum(OUT * dloss.OUT)`), otherwise ones (the output is the loss
    /// itself, or is summed into it).
    func upstream<Scalar: TensorScalar>(for name: String, of output: Tensor<Scalar>) throws -> Tensor<Scalar> {
        guard hasTensor("dloss." + name) else { return Tensor<Scalar>.ones(output.shape) }
        let seed = try tensor("dloss." + name, as: Scalar.self)
        if seed.shape == output.shape { return seed }
        guard seed.count == output.count, seed.count == 1 else {
            throw ParityError("dloss.\(name) has shape \(seed.shape), output has \(output.shape)")
        }
        return seed.reshaped(output.shape)
    }
}

/// What a handler produced, converted to `Double`, keyed like the fixture's `expected`
/// (`y`, `loss`, `grad.x`, ...) and `expected_int`.
struct ParityOutputs {
    var values: [String: FixtureTensor] = [:]
    var ints: [String: FixtureIntTensor] = [:]

    /// Records a produced tensor under `name`.
    mutating func set<Scalar: TensorScalar>(_ name: String, _ tensor: Tensor<Scalar>) {
        values[name] = FixtureTensor(shape: tensor.shape, data: tensor.scalars.map { Double($0) })
    }

    /// Records the gradient of leaf `input` under `name` (zeros when none reached it).
    mutating func setGradient<Scalar: TensorScalar>(_ name: String, of input: Tensor<Scalar>) {
        set(name, input.grad ?? Tensor<Scalar>.zeros(input.shape))
    }

    /// Records a produced integer tensor under `name`.
    mutating func setInt(_ name: String, _ tensor: IntTensor) {
        ints[name] = FixtureIntTensor(shape: tensor.shape, data: tensor.scalars)
    }
}
