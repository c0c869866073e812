// Embedding lookup: rows of a weight matrix picked by integer ids (PyTorch's
// `F.embedding`), with an optional padding row that receives no gradient.

/// Looks up the rows of `weight` named by `indices` (PyTorch's `F.embedding`).
///
/// - Parameters:
///   - indices: ids in `0..<numEmbeddings`, of any shape.
///   - weight: the table, `[numEmbeddings, embeddingDim]`.
///   - paddingIndex: a row that receives no gradient (PyTorch's `padding_idx`; negative
///     counts from the end). Its values are still returned where it is looked up.
/// - Returns: `indices.shape + [embeddingDim]`. The gradient of `weight` has the table's
///   shape: each looked-up row accumulates its upstream rows (repeats add up) and every
///   other row, the padding row included, is zero. It is built directly into one zero
///   tensor of the table's shape, so its cost grows with the number of lookups, not with
///   a dense tensor per id.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func embedding<Scalar>(_ indices: IntTensor, weight: Tensor<Scalar>, paddingIndex: Int? = nil) -> Tensor<Scalar> {
    checkShape(weight.rank == 2, "embedding: weight must be [numEmbeddings, embeddingDim], got \(weight.shape)")
    let rows = weight.shape[0], width = weight.shape[1]
    var padding: Int? = nil
    if let paddingIndex {
        checkShape(paddingIndex >= -rows && paddingIndex < rows,
                   "embedding: paddingIndex \(paddingIndex) is out of range for \(rows) embeddings")
        padding = paddingIndex < 0 ? paddingIndex + rows : paddingIndex
    }
    for id in indices.scalars where id < 0 || id >= rows {
        checkShape(false, "embedding: index \(id) is out of range for \(rows) embeddings (weight shape \(weight.shape))")
    }
    let ids = indices.scalars
    let table = weight.storage.base
    let result = Tensor<Scalar>(shape: indices.shape + [width]) { out in
        var dst = out.baseAddress!
        for id in ids {
            dst.initialize(from: table + id * width, count: width)
            dst += width
        }
    }
    return result.recorded("embedding", inputs: [weight]) {
        let tableShape = weight.shape
        return { g in
            [Tensor<Scalar>(shape: tableShape) { out in
                out.initialize(repeating: 0)
                var src = UnsafePointer(g.storage.base)
                for id in ids {
                    if id != padding {
                        Kernels.accumulate(src, into: out.baseAddress! + id * width, count: width)
                    }
                    src += width
                }
            }]
        }
    }
}
