/// Layer normalization over the last axis with a learned elementwise affine map (PyTorch's
/// `nn.LayerNorm(D)`): `[..., D]` to `[..., D]`.
///
/// Parameters: `weight` `[D]` (ones) and `bias` `[D]` (zeros), as PyTorch initializes them.
public struct LayerNorm<Scalar: TensorScalar>: Module {
    /// The scale, `[D]`, or `nil` without the affine map.
    public var weight: Tensor<Scalar>?
    /// The shift, `[D]`, or `nil` without the affine map.
    public var bias: Tensor<Scalar>?
    /// The size of the normalized (last) axis.
    public let normalizedSize: Int
    /// Added to the variance.
    public let eps: Double

    /// A layer normalizing vectors of `normalizedSize`, with the affine map unless
    /// `elementwiseAffine` is false.
    public init(_ normalizedSize: Int, eps: Double = 1e-5, elementwiseAffine: Bool = true) {
        checkShape(normalizedSize >= 1, "LayerNorm(\(normalizedSize)): the size must be positive")
        self.normalizedSize = normalizedSize
        self.eps = eps
        weight = elementwiseAffine ? Tensor.ones([normalizedSize]).requiringGrad() : nil
        bias = elementwiseAffine ? Tensor.zeros([normalizedSize]).requiringGrad() : nil
    }

    /// Normalizes `[..., normalizedSize]`.
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        checkShape(x.rank >= 1 && x.shape[x.rank - 1] == normalizedSize,
                   "LayerNorm(\(normalizedSize)) expects [..., \(normalizedSize)], got \(x.shape)")
        return layerNorm(x, weight: weight, bias: bias, eps: eps)
    }

    /// Visits `weight` and `bias`.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        visitor.parameter("weight", &weight)
        visitor.parameter("bias", &bias)
    }
}
