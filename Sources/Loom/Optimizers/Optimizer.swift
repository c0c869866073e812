/// An optimizer: updates parameters in place from their accumulated gradients.
///
/// State (momentum buffers, Adam moments, step counts) is kept per parameter under a key:
/// the parameter's `state_dict` name when stepping a `Module`, or its position when stepping
/// an array. Parameters without a gradient are skipped, as in PyTorch.
public protocol Optimizer {
    /// The element type of the parameters.
    associatedtype Scalar: TensorScalar

    /// Updates one parameter from its `grad`, using and updating the state under `key`.
    mutating func update(_ parameter: inout Tensor<Scalar>, key: String)
}

extension Optimizer {
    /// Updates every parameter of `model` (PyTorch's `optimizer.step()`).
    public mutating func step<M: Module>(_ model: inout M) where M.Scalar == Scalar {
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
