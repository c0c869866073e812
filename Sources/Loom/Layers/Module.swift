/// A layer or model: a value type whose parameters (and sub-modules) can be enumerated by
/// their PyTorch `state_dict` names, in a fixed order.
///
/// A model is a small Swift struct; its parameters and sub-modules are found by reflection
/// over its stored properties, named after them:
///
/// ```swift
/// struct Tagger: Module {
///     var embedding: Embedding<Float>
///     var lstm: LSTM<Float>
///     var linear: Linear<Float>
/// }
/// ```
///
/// A hand-written `visit` replaces the reflection (to choose other names, or to skip its
/// small cost); it must then report every parameter and sub-module, in a fixed order:
///
/// ```swift
///     mutating func visit(_ visitor: ModuleVisitor<Float>) {
///         visitor.module("embedding", &embedding)
///         visitor.module("lstm", &lstm)
///         visitor.module("linear", &linear)
///     }
/// ```
///
/// A `visit` that forgets a child is caught: the first optimizer step warns about every
/// gradient-requiring tensor stored in the model that `visit` does not report
/// (`unregisteredParameters()`).
///
/// Everything else — `namedParameters()`, `train()`/`eval()`, `zeroGrad()`, the optimizers,
/// checkpoints — is built on that one traversal. Parameters are leaf tensors: their
/// gradients accumulate in `grad`, shared by copies of the model.
public protocol Module {
    /// The element type of the module's parameters: `Float` unless the module says otherwise
    /// (`typealias Scalar = Double`) or its `visit` names it.
    associatedtype Scalar: TensorScalar = Float

    /// Hands every parameter, sub-module and train/eval flag of this module to `visitor`,
    /// always in the same order. The default implementation finds them by reflection.
    mutating func visit(_ visitor: ModuleVisitor<Scalar>)
}

/// Walks a module tree, building dotted names (`lstm.weight_ih_l0`) and handing each
/// parameter to a callback that may read or replace it.
public final class ModuleVisitor<Scalar: TensorScalar> {
    private var prefix: [String] = []
    private let onParameter: (String, inout Tensor<Scalar>) -> Void
    private let onTrainingFlag: (inout Bool) -> Void

    /// A visitor calling `onParameter` with each parameter's full name and
    /// `onTrainingFlag` with each train/eval flag.
    public init(onParameter: @escaping (String, inout Tensor<Scalar>) -> Void,
                onTrainingFlag: @escaping (inout Bool) -> Void = { _ in }) {
        self.onParameter = onParameter
        self.onTrainingFlag = onTrainingFlag
    }

    /// Reports a parameter under `name` (relative to the current module).
    public func parameter(_ name: String, _ tensor: inout Tensor<Scalar>) {
        onParameter((prefix + [name]).joined(separator: "."), &tensor)
    }

    /// Reports an optional parameter (for instance a bias that may be absent).
    public func parameter(_ name: String, _ tensor: inout Tensor<Scalar>?) {
        guard var value = tensor else { return }
        parameter(name, &value)
        tensor = value
    }

    /// Descends into a sub-module whose names get the prefix `name.`.
    public func module<M: Module>(_ name: String, _ child: inout M) where M.Scalar == Scalar {
        prefix.append(name)
        child.visit(self)
        prefix.removeLast()
    }

    /// Descends into each sub-module of an array, named `name.0`, `name.1`, ...
    public func modules<M: Module>(_ name: String, _ children: inout [M]) where M.Scalar == Scalar {
        for i in children.indices {
            module("\(name).\(i)", &children[i])
        }
    }

    /// Reports a module's training flag (for dropout and similar), so `train()`/`eval()`
    /// can set it.
    public func trainingFlag(_ flag: inout Bool) {
        onTrainingFlag(&flag)
    }
}

extension Module {
    /// Every parameter with its `state_dict` name, in visiting order.
    public func namedParameters() -> [(name: String, tensor: Tensor<Scalar>)] {
        var copy = self
        var result: [(String, Tensor<Scalar>)] = []
        copy.visit(ModuleVisitor(onParameter: { name, tensor in result.append((name, tensor)) }))
        return result
    }

    /// Every parameter, in visiting order.
    public func parameters() -> [Tensor<Scalar>] {
        namedParameters().map(\.tensor)
    }

    /// The total number of scalars in all parameters.
    public var parameterCount: Int {
        namedParameters().reduce(0) { $0 + $1.tensor.count }
    }

    /// Replaces each parameter by `transform(name, parameter)`, in visiting order.
    public mutating func updateParameters(_ transform: (String, inout Tensor<Scalar>) -> Void) {
        withoutActuallyEscaping(transform) { transform in
            visit(ModuleVisitor(onParameter: transform))
        }
    }

    /// Clears every parameter's gradient (PyTorch's `zero_grad(set_to_none=True)`).
    public func zeroGrad() {
        for parameter in parameters() { parameter.zeroGrad() }
    }

    /// Switches every sub-module to training mode (dropout active).
    public mutating func train() {
        visit(ModuleVisitor(onParameter: { _, _ in }, onTrainingFlag: { $0 = true }))
    }

    /// Switches every sub-module to evaluation mode (dropout off).
    public mutating func eval() {
        visit(ModuleVisitor(onParameter: { _, _ in }, onTrainingFlag: { $0 = false }))
    }
}
