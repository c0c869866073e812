extension Module {
    /// Every parameter with its `state_dict` name, in visiting order, detached from the tape
    /// (PyTorch's `state_dict()`): what a checkpoint stores.
    public func stateDict() -> [(name: String, tensor: Tensor<Scalar>)] {
        namedParameters().map { ($0.name, $0.tensor.detached()) }
    }

    /// How tensors with these names and shapes differ from the model's parameters: missing,
    /// unexpected and mis-shaped names, each list sorted.
    public func stateDictMismatch(shapes: [String: [Int]]) -> StateDictMismatch {
        var mismatch = StateDictMismatch()
        var seen = Set<String>()
        for (name, parameter) in namedParameters() {
            seen.insert(name)
            guard let stored = shapes[name] else { mismatch.missing.append(name); continue }
            if stored != parameter.shape {
                mismatch.misShaped.append(.init(name: name, storedShape: stored, modelShape: parameter.shape))
            }
        }
        mismatch.unexpected = shapes.keys.filter { !seen.contains($0) }
        mismatch.missing.sort()
        mismatch.unexpected.sort()
        mismatch.misShaped.sort { $0.name < $1.name }
        return mismatch
    }

    /// Replaces the model's parameters by the tensors of the same name (PyTorch's
    /// `load_state_dict`). Each loaded parameter is a fresh leaf that requires a gradient.
    ///
    /// Strict (the default): if any name is missing, unexpected or mis-shaped, throws a
    /// `CheckpointError` listing all of them and changes nothing. Not strict: loads every
    /// parameter whose name and shape match, leaves the others as they are, and returns what
    /// did not match (unlike PyTorch, a mis-shaped name is skipped rather than an error).
    @discardableResult
    public mutating func loadStateDict(_ tensors: [String: Tensor<Scalar>], strict: Bool = true) throws(CheckpointError) -> StateDictMismatch {
        try loadParameters(shapes: tensors.mapValues(\.shape), strict: strict, source: "<state dict>") { name in
            tensors[name]!
        }
    }

    /// Checks names and shapes against `shapes`, then (strict: only if all match) replaces every
    /// matching parameter by `fetch(name)` as a new leaf requiring a gradient.
    mutating func loadParameters(shapes: [String: [Int]], strict: Bool, source: String,
                                 fetch: (String) -> Tensor<Scalar>) throws(CheckpointError) -> StateDictMismatch {
        let mismatch = stateDictMismatch(shapes: shapes)
        if strict && !mismatch.isEmpty {
            throw CheckpointError(file: source, reason: "does not match the model: \(mismatch)", mismatch: mismatch)
        }
        withoutActuallyEscaping(fetch) { fetch in
            updateParameters { name, parameter in
                guard let shape = shapes[name], shape == parameter.shape else { return }
                parameter = fetch(name).detached().requiringGrad()
            }
        }
        return mismatch
    }
}
