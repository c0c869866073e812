// Joining and splitting along an axis: cat, stack, split and chunk.

extension Tensor {
    /// The tensors joined end to end along `dim` (PyTorch's `torch.cat`). All must have the
    /// same rank and the same sizes on every other axis; shapes `[a, n1, b]`, `[a, n2, b]`
    /// with `dim: 1` give `[a, n1 + n2, b]`. A negative `dim` counts from the last axis.
    /// Each input receives its own part of the gradient.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func cat(_ tensors: [Tensor], dim: Int) -> Tensor {
        checkShape(!tensors.isEmpty, "cat: needs at least one tensor")
        let first = tensors[0]
        checkShape(first.rank > 0, "cat: cannot concatenate zero-dimensional tensors")
        let axis = Shape.normalize(axis: dim, rank: first.rank, op: "cat")
        var total = 0
        for tensor in tensors {
            var same = tensor.rank == first.rank
            if same {
                for a in 0..<first.rank where a != axis && tensor.shape[a] != first.shape[a] { same = false }
            }
            checkShape(same, "cat: shapes \(tensors.map(\.shape)) differ outside dim \(dim)")
            total += tensor.shape[axis]
        }
        if tensors.count == 1 { return first }
        var resultShape = first.shape
        resultShape[axis] = total
        let (outer, inner) = first.outerAndInner(around: axis)
        let lengths = tensors.map { $0.shape[axis] * inner }
        let result = Tensor(shape: resultShape) { out in
            var offset = 0
            for (tensor, length) in zip(tensors, lengths) {
                copyRuns(tensor.storage.base, sourceStride: length,
                         out.baseAddress! + offset, destinationStride: total * inner,
                         length: length, runs: outer)
                offset += length
            }
        }
        return result.recorded("cat", inputs: tensors) {
            let needs = tensors.map(\.requiresGrad)
            let shapes = tensors.map(\.shape)
            return { g in
                var offset = 0
                var grads: [Tensor?] = []
                for (n, length) in lengths.enumerated() {
                    if needs[n] {
                        let start = offset
                        grads.append(Tensor(shape: shapes[n]) { out in
                            copyRuns(g.storage.base + start, sourceStride: total * inner,
                                     out.baseAddress!, destinationStride: length,
                                     length: length, runs: outer)
                        })
                    } else {
                        grads.append(nil)
                    }
                    offset += length
                }
                return grads
            }
        }.traced(.concatenate(axis: axis), tensors)
    }

    /// The tensors, all of one shape, stacked along a new axis inserted at `dim` (PyTorch's
    /// `torch.stack`): `n` tensors of shape `[a, b]` with `dim: 1` give `[a, n, b]`. A
    /// negative `dim` counts from the end of the result's axes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func stack(_ tensors: [Tensor], dim: Int) -> Tensor {
        checkShape(!tensors.isEmpty, "stack: needs at least one tensor")
        let shape = tensors[0].shape
        checkShape(tensors.allSatisfy { $0.shape == shape }, "stack: shapes \(tensors.map(\.shape)) differ")
        let axis = Shape.normalize(axis: dim, rank: shape.count + 1, op: "stack")
        return cat(tensors.map { $0.unsqueezed(dim: axis) }, dim: axis)
    }

    /// Consecutive pieces along `dim` with the given sizes, which must add up to the size of
    /// that axis (PyTorch's `split` with a list of sizes). Each piece is its own op, so a
    /// piece that is not used contributes no gradient.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func split(_ sizes: [Int], dim: Int) -> [Tensor] {
        checkShape(rank > 0, "split: needs a tensor of rank at least 1, got shape \(shape)")
        let axis = Shape.normalize(axis: dim, rank: rank, op: "split")
        checkShape(sizes.allSatisfy { $0 >= 0 } && sizes.reduce(0, +) == shape[axis],
                   "split: sizes \(sizes) do not add up to dim \(dim) of shape \(shape)")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return narrow(dim: axis, start: start, length: size)
        }
    }

    /// `chunks` pieces of equal size along `dim` (PyTorch's `chunk`, e.g. the four gates of
    /// an LSTM from one `[batch, 4 * hidden]` tensor). Stops if the axis does not divide
    /// evenly. Each piece is its own op.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func chunk(_ chunks: Int, dim: Int) -> [Tensor] {
        checkShape(rank > 0, "chunk: needs a tensor of rank at least 1, got shape \(shape)")
        let axis = Shape.normalize(axis: dim, rank: rank, op: "chunk")
        checkShape(chunks > 0 && shape[axis] % chunks == 0,
                   "chunk: dim \(dim) of shape \(shape) does not divide into \(chunks) equal chunks")
        return split([Int](repeating: shape[axis] / chunks, count: chunks), dim: axis)
    }
}
