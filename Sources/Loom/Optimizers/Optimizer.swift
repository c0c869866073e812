import Foundation
import Synchronization

/// An optimizer: updates parameters in place from their accumulated gradients.
///
/// State (momentum buffers, Adam moments, step counts) is kept per parameter under a key:
/// the parameter's `state_dict` name when stepping a `Module`, or its position when stepping
/// an array. Parameters without a gradient are skipped, as in PyTorch.
///
/// State belongs to the parameter tensor it was built for: when a parameter is replaced by
/// another tensor (for instance by `loadCheckpoint(into:from:)`), its old state is dropped
/// and the next step starts that parameter afresh. To resume training, save the state with
/// ``stateDict()`` and restore it with ``load(stateDict:)`` (or use
/// `saveTrainingCheckpoint` / `loadTrainingCheckpoint`, which do both with the model).
public protocol Optimizer {
    /// The element type of the parameters.
    associatedtype Scalar: TensorScalar

    /// Updates one parameter from its `grad`, using and updating the state under `key`.
    mutating func update(_ parameter: inout Tensor<Scalar>, key: String)

    /// The per-parameter state, named as PyTorch names the entries of
    /// `optimizer.state_dict()["state"]`: `state.<key>.<buffer>`, for instance
    /// `state.lstm.weight_ih_l0.exp_avg`. Step counts are one-element tensors.
    func stateDict() -> [String: Tensor<Scalar>]

    /// Replaces the state by `stateDict` (as ``stateDict()`` returns it). Each entry is bound
    /// to the parameter of its key at that parameter's next update, if the shapes agree.
    /// Throws an `OptimizerStateError` naming the entry for an unknown name or a buffer
    /// missing or inconsistent in shape; the state is then unchanged.
    mutating func load(stateDict: [String: Tensor<Scalar>]) throws(OptimizerStateError)

    /// Forgets all state, as a new optimizer would.
    mutating func resetState()
}

extension Optimizer {
    /// Updates every parameter of `model` (PyTorch's `optimizer.step()`).
    ///
    /// The first step of each model type also checks, by reflection, that the model's `visit`
    /// reports every parameter stored in it, and warns once on standard error naming any it
    /// leaves out (see `Module.unregisteredParameters()`).
    public mutating func step<M: Module>(_ model: inout M) where M.Scalar == Scalar {
        UnregisteredParameterCheck.once(for: model)
        model.updateParameters { name, parameter in
            self.update(&parameter, key: name)
        }
    }

    /// Updates each tensor of `parameters`, keyed by its position.
    public mutating func step(_ parameters: inout [Tensor<Scalar>]) {
        for i in parameters.indices {
            update(&parameters[i], key: String(i))
        }
    }
}

/// Warns once per model type about parameters a hand-written `visit` forgets.
enum UnregisteredParameterCheck {
    private static let checked = Mutex<Set<ObjectIdentifier>>([])

    static func once<M: Module>(for model: M) {
        let isNew = checked.withLock { $0.insert(ObjectIdentifier(M.self)).inserted }
        guard isNew else { return }
        let missing = model.unregisteredParameters()
        guard !missing.isEmpty else { return }
        let message = "loom: warning: \(M.self) stores tensors that require a gradient but its visit(_:) does not report them: "
            + missing.joined(separator: ", ") + "; the optimizer will not update them and zeroGrad() will not clear them\n"
        FileHandle.standardError.write(Data(message.utf8))
    }
}
