// Inverted dropout, as PyTorch does it: each element is kept with probability 1 - p and
// scaled by 1 / (1 - p), so the expected value is unchanged and evaluation needs no
// rescaling.

extension Tensor {
    /// Zeroes each element with probability `p` and scales the others by `1 / (1 - p)`
    /// (PyTorch's `F.dropout`). Same shape in and out.
    ///
    /// The mask takes one draw per element from `generator`, in row-major order, so the same
    /// generator state gives the same mask. `p == 0` or `training == false` returns this
    /// tensor unchanged and draws nothing; `p == 1` gives zeros (and draws nothing). The
    /// gradient is the incoming gradient times the same scaled mask. Stops if `p` is not in
    /// [0, 1].
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func dropout(p: Double, training: Bool = true, using generator: inout RandomGenerator) -> Tensor {
        checkShape(p >= 0 && p <= 1, "dropout: probability p must be in [0, 1], got \(p)")
        if !training || p == 0 { return self }
        let mask: Tensor
        if p == 1 {
            mask = Tensor.zeros(shape)
        } else {
            let scale = 1 / Scalar(1 - p)
            mask = Tensor(shape: shape) { out in
                for i in 0..<out.count { out[i] = generator.nextUnit() < p ? 0 : scale }
            }
        }
        let result = Tensor(shape: shape) { out in
            Kernels.binaryRow(MultiplyKernel.self, storage.base, aStride: 1, mask.storage.base, bStride: 1,
                              out.baseAddress!, count: count)
        }
        return result.recorded("dropout", inputs: [self]) {
            { g in [g * mask] }
        }
    }

    /// Dropout with the mask drawn from the global generator (see `manualSeed`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func dropout(p: Double, training: Bool = true) -> Tensor {
        checkShape(p >= 0 && p <= 1, "dropout: probability p must be in [0, 1], got \(p)")
        if !training || p == 0 { return self }
        return RandomGenerator.withGlobal { dropout(p: p, training: training, using: &$0) }
    }
}
