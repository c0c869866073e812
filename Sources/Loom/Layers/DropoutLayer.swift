/// Inverted dropout as a layer (PyTorch's `nn.Dropout`): in training each element is
/// zeroed with probability `p` and the rest scaled by `1/(1-p)`; in evaluation it is the
/// identity. Any shape in, the same shape out.
public struct Dropout<Scalar: TensorScalar>: Module {
    /// The probability of zeroing an element.
    public var p: Double
    /// Whether the layer is active (`train()` / `eval()` set it).
    public var training = true

    /// A dropout layer with probability `p` in [0, 1].
    public init(p: Double = 0.5) {
        checkShape(p >= 0 && p <= 1, "Dropout(p: \(p)): p must be in [0, 1]")
        self.p = p
    }

    /// Applies dropout with masks drawn from `generator`.
    public func callAsFunction(_ x: Tensor<Scalar>, using generator: inout RandomGenerator) -> Tensor<Scalar> {
        x.dropout(p: p, training: training, using: &generator)
    }

    /// Applies dropout with masks drawn from the global generator (see `manualSeed`).
    public func callAsFunction(_ x: Tensor<Scalar>) -> Tensor<Scalar> {
        x.dropout(p: p, training: training)
    }

    /// Visits the training flag (no parameters).
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        visitor.trainingFlag(&training)
    }
}
