/// An optimizer's per-parameter state, each entry tied to the parameter it was built for.
///
/// An entry remembers which leaf tensor it belongs to (the leaf's place on the tape). When a
/// parameter is replaced by a new tensor — loading a checkpoint into the model, or assigning a
/// new leaf — the old entry no longer matches and is dropped, so the optimizer starts that
/// parameter afresh instead of applying moments computed for other values. Entries loaded with
/// `Optimizer.load(stateDict:)` are not yet tied to a leaf: the first update binds them to the
/// parameter it is given, provided the shapes agree.
struct ParameterStateTable<Scalar: TensorScalar, Value> {
    private struct Entry {
        /// The sequence number of the leaf the state was built for; nil when loaded.
        var owner: Int?
        var shape: [Int]
        var value: Value
    }
    private var entries: [String: Entry] = [:]

    /// Removes and returns the state under `key` if it belongs to `parameter`; state built
    /// for another tensor, or loaded with another shape, is dropped and nil returned.
    mutating func take(_ key: String, for parameter: Tensor<Scalar>) -> Value? {
        guard let entry = entries.removeValue(forKey: key) else { return nil }
        guard entry.shape == parameter.shape else { return nil }
        if let owner = entry.owner, owner != parameter.leafSequence { return nil }
        return entry.value
    }

    /// Stores `value` under `key`, tied to `parameter`.
    mutating func store(_ value: Value, _ key: String, for parameter: Tensor<Scalar>) {
        entries[key] = Entry(owner: parameter.leafSequence, shape: parameter.shape, value: value)
    }

    /// Stores loaded state of `shape` under `key`, to be bound by the next update.
    mutating func storeLoaded(_ value: Value, _ key: String, shape: [Int]) {
        entries[key] = Entry(owner: nil, shape: shape, value: value)
    }

    /// Every entry's key and value, sorted by key.
    var sorted: [(key: String, value: Value)] {
        entries.keys.sorted().map { ($0, entries[$0]!.value) }
    }

    /// Drops every entry.
    mutating func removeAll() { entries.removeAll() }
}

extension Tensor {
    /// The sequence number of this tensor's leaf node, identifying the parameter for optimizer
    /// state; nil for a tensor that is not a leaf requiring a gradient.
    var leafSequence: Int? {
        guard let node, node.isLeaf else { return nil }
        return node.sequence
    }
}

/// A thrown error for optimizer state that cannot be loaded: a missing or mis-shaped buffer,
/// or a name the optimizer does not know.
public struct OptimizerStateError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What is wrong, naming the entry.
    public let description: String

    /// An error saying `description`.
    public init(_ description: String) { self.description = description }
}

/// Groups `state.<key>.<buffer>` entries by parameter key, checking every name.
func groupOptimizerState<Scalar>(_ stateDict: [String: Tensor<Scalar>], optimizer: String,
                                 buffers: Set<String>) throws(OptimizerStateError) -> [String: [String: Tensor<Scalar>]] {
    var grouped: [String: [String: Tensor<Scalar>]] = [:]
    for (name, tensor) in stateDict {
        guard name.hasPrefix("state."), let dot = name.lastIndex(of: "."), dot > name.index(name.startIndex, offsetBy: 5) else {
            throw OptimizerStateError("\(optimizer) state: unexpected entry \"\(name)\" (expected state.<parameter>.<buffer>)")
        }
        let key = String(name[name.index(name.startIndex, offsetBy: 6)..<dot])
        let buffer = String(name[name.index(after: dot)...])
        guard buffers.contains(buffer), !key.isEmpty else {
            throw OptimizerStateError("\(optimizer) state: unexpected entry \"\(name)\" (buffers: \(buffers.sorted().joined(separator: ", ")))")
        }
        grouped[key, default: [:]][buffer] = tensor
    }
    return grouped
}
