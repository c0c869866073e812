/// A lookup table of learned vectors (PyTorch's `nn.Embedding`): indices `[...]` give
/// `[..., embeddingDim]`.
///
/// `weight` is `[numEmbeddings, embeddingDim]`, initialized standard normal as in PyTorch;
/// the row `paddingIndex`, if set, starts at zero and never receives a gradient.
public struct Embedding<Scalar: TensorScalar>: Module {
    /// The table, `[numEmbeddings, embeddingDim]`.
    public var weight: Tensor<Scalar>
    /// The index whose row stays fixed (zero at initialization) and gets no gradient.
    public let paddingIndex: Int?

    /// The number of rows of the table.
    public var numEmbeddings: Int { weight.shape[0] }
    /// The length of each vector.
    public var embeddingDim: Int { weight.shape[1] }

    /// A table of `numEmbeddings` vectors of length `embeddingDim`, drawn from `generator`.
    public init(_ numEmbeddings: Int, _ embeddingDim: Int, paddingIndex: Int? = nil, using generator: inout RandomGenerator) {
        checkShape(paddingIndex.map { $0 >= -numEmbeddings && $0 < numEmbeddings } ?? true,
                   "Embedding(\(numEmbeddings), \(embeddingDim)): paddingIndex \(paddingIndex!) is out of range")
        let padding = paddingIndex.map { $0 < 0 ? $0 + numEmbeddings : $0 }
        var table = Tensor<Scalar>.randn([numEmbeddings, embeddingDim], using: &generator)
        if let padding {
            table.withUnsafeMutableBufferPointer { w in
                for j in 0..<embeddingDim { w[padding * embeddingDim + j] = 0 }
            }
        }
        weight = table.requiringGrad()
        self.paddingIndex = padding
    }

    /// A table initialized from the global generator (see `manualSeed`).
    public init(_ numEmbeddings: Int, _ embeddingDim: Int, paddingIndex: Int? = nil) {
        self = RandomGenerator.withGlobal { Embedding(numEmbeddings, embeddingDim, paddingIndex: paddingIndex, using: &$0) }
    }

    /// Looks up `indices` (any shape), giving `indices.shape + [embeddingDim]`.
    public func callAsFunction(_ indices: IntTensor) -> Tensor<Scalar> {
        embedding(indices, weight: weight, paddingIndex: paddingIndex)
    }

    /// Visits `weight`.
    public mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        visitor.parameter("weight", &weight)
    }
}
