/// A fully connected layer, `y = x · Wᵀ + b` (PyTorch's `nn.Linear`).
///
/// Parameters: `weight` `[outFeatures, inFeatures]` and `bias` `[outFeatures]`, both
/// initialized uniform in ±1/√inFeatures as PyTorch does.
public struct Linear<Scalar: TensorScalar>: Module {
    /// The weight, `[outFeatures, inFeatures]`.
    public var weight: Tensor<Scalar>
    /// The bias, `[outFeatures]`, or `nil` for a layer without bias.
    public var bias: Tensor<Scalar>?

    /// The size of each input's last axis.
    public var inFeatures: Int { weight.shape[1] }
    /// The size of each output's last axis.
    public var outFeatures: Int { weight.shape[0] }

    /// A layer mapping `inFeatures` to `outFeatures`, initialized from `generator`.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, using generator: inout RandomGenerator) {
        let bound = 1 / Scalar(Double(Swift.max(inFeatures, 1)).squareRoot())
        weight = Tensor.uniform([outFeatures, inFeatures], low: -bound, high: bound, using: &generator).requiringGrad()
        self.bias = bias ? Tensor.uniform([outFeatures], low: -bound, high: bound, using: &generator).requiringGrad() : nil
    }

    /// A layer initialized from the global generator (see `manualSeed`).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        self = RandomGenerator.withGlobal { Linear(inFeatures, outFeatures, bias: bias, using: &$0) }
    }

    /// Applies the layer to `[..., inFeatures]`, giving `[..., outFeatures]`.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        checkShape(x.rank >= 1 && x.shape[x.rank - 1] == inFeatures,
                   "Linear(\(inFeatures), \(outFeatures)) expects [..., \(inFeatures)], got \(x.shape)")
        return linear(x, weight: weight, bias: bias)
    }

    /// Visits `weight` and `bias`.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        visitor.parameter("weight", &weight)
        visitor.parameter("bias", &bias)
    }
}
