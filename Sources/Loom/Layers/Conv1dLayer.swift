/// A 1-D convolution layer, stride 1 (PyTorch's `nn.Conv1d`): `[batch, inChannels, length]`
/// to `[batch, outChannels, length + 2 · padding - kernelSize + 1]`.
///
/// Parameters: `weight` `[outChannels, inChannels, kernelSize]` and `bias` `[outChannels]`,
/// both initialized uniform in ±1/√(inChannels · kernelSize) as PyTorch does.
public struct Conv1d<Scalar: TensorScalar>: Module {
    /// The filters, `[outChannels, inChannels, kernelSize]`.
    public var weight: Tensor<Scalar>
    /// The bias, `[outChannels]`, or `nil` for a layer without bias.
    public var bias: Tensor<Scalar>?
    /// Zeros added at each end of every sequence.
    public let padding: Int

    /// The channels each input position has.
    public var inChannels: Int { weight.shape[1] }
    /// The channels each output position has.
    public var outChannels: Int { weight.shape[0] }
    /// The width of each filter.
    public var kernelSize: Int { weight.shape[2] }

    /// A layer mapping `inChannels` to `outChannels` with filters `kernelSize` wide,
    /// initialized from `generator` (weight first, then bias).
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, padding: Int = 0, bias: Bool = true,
                using generator: inout RandomGenerator) {
        checkShape(inChannels >= 1 && outChannels >= 1 && kernelSize >= 1 && padding >= 0,
                   "Conv1d(\(inChannels), \(outChannels), kernelSize: \(kernelSize), padding: \(padding)): sizes must be positive")
        let bound = 1 / Scalar(Double(inChannels * kernelSize).squareRoot())
        weight = Tensor.uniform([outChannels, inChannels, kernelSize], low: -bound, high: bound, using: &generator).requiringGrad()
        self.bias = bias ? Tensor.uniform([outChannels], low: -bound, high: bound, using: &generator).requiringGrad() : nil
        self.padding = padding
    }

    /// A layer initialized from the global generator (see `manualSeed`).
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, padding: Int = 0, bias: Bool = true) {
        self = RandomGenerator.withGlobal {
            Conv1d(inChannels, outChannels, kernelSize: kernelSize, padding: padding, bias: bias, using: &$0)
        }
    }

    /// Applies the layer to `[batch, inChannels, length]`.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        checkShape(x.rank == 3 && x.shape[1] == inChannels,
                   "Conv1d(\(inChannels), \(outChannels)) expects [batch, \(inChannels), length], got \(x.shape)")
        return conv1d(x, weight: weight, bias: bias, padding: padding)
    }

    /// Visits `weight` and `bias`.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        visitor.parameter("weight", &weight)
        visitor.parameter("bias", &bias)
    }
}
