// The maximum over a time axis within each sequence's length: the pooling step of a
// convolutional word encoder, where a batch of words of different lengths is padded to one
// length and only each word's own positions may win.

extension Tensor {
    /// The maximum along `dim` over the first `lengths[b]` positions of batch entry `b`
    /// (the batch is axis 0). A zero length gives 0. NaN wins wherever it is.
    ///
    /// This is `x.masked_fill(~mask, -inf).max(dim).values`, with zero for empty rows, in
    /// one op.
    ///
    /// - Parameters:
    ///   - dim: the time axis, after the batch axis (negative counts from the end).
    ///   - lengths: one length per batch entry, each in `0...shape[dim]`.
    /// - Returns: this shape without `dim`. The gradient goes to the first position that
    ///   holds each maximum; positions past a length, and rows of length zero, get none.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func maskedMax(dim: Int, lengths: [Int]) -> Tensor {
        let axis = Shape.normalize(axis: dim, rank: rank, op: "maskedMax")
        checkShape(axis >= 1, "maskedMax: dim must come after the batch axis, got dim \(dim) for shape \(shape)")
        checkShape(lengths.count == shape[0],
                   "maskedMax: \(lengths.count) lengths for a batch of \(shape[0]) (shape \(shape))")
        let time = shape[axis]
        for (b, length) in lengths.enumerated() {
            checkShape(length >= 0 && length <= time,
                       "maskedMax: lengths[\(b)] = \(length) is outside 0...\(time) (shape \(shape), dim \(axis))")
        }
        let batch = shape[0]
        let middle = Shape.count(of: Array(shape[1..<axis]))
        let inner = Shape.count(of: Array(shape[(axis + 1)...]))
        var outShape = shape
        outShape.remove(at: axis)
        // For each output element, the time index of its maximum (-1 for an empty row).
        var winners = [Int](repeating: -1, count: batch * middle * inner)
        let source = storage.base
        let result = Tensor(shape: outShape) { out in
            let y = out.baseAddress!
            winners.withUnsafeMutableBufferPointer { winner in
                for b in 0..<batch {
                    let length = lengths[b]
                    for m in 0..<middle {
                        let block = source + ((b * middle + m) * time) * inner
                        let row = (b * middle + m) * inner
                        for i in 0..<inner {
                            guard length > 0 else { y[row + i] = 0; continue }
                            var best = block[i], bestIndex = 0
                            if !best.isNaN {
                                for t in 1..<length {
                                    let value = block[t * inner + i]
                                    if value > best || value.isNaN {
                                        best = value
                                        bestIndex = t
                                        if value.isNaN { break }
                                    }
                                }
                            }
                            y[row + i] = best
                            winner[row + i] = bestIndex
                        }
                    }
                }
            }
        }
        return result.recorded("maskedMax", inputs: [self]) {
            let inputShape = shape
            let picks = winners
            return { g in
                [Tensor(shape: inputShape) { out in
                    out.initialize(repeating: 0)
                    let dx = out.baseAddress!, gradient = g.storage.base
                    for b in 0..<batch {
                        for m in 0..<middle {
                            let row = (b * middle + m) * inner
                            let block = dx + ((b * middle + m) * time) * inner
                            for i in 0..<inner where picks[row + i] >= 0 {
                                block[picks[row + i] * inner + i] = gradient[row + i]
                            }
                        }
                    }
                }]
            }
        }
    }
}
