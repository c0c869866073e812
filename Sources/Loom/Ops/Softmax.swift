// Softmax and log-softmax along one axis, numerically stable (the maximum along the axis
// is subtracted first), each with a direct backward from its own output.

extension Tensor {
    /// The `[outer, length, inner]` view of this tensor around `axis`.
    private func blockAround(_ axis: Int) -> (outer: Int, length: Int, inner: Int) {
        (Shape.count(of: Array(shape[..<axis])), shape[axis], Shape.count(of: Array(shape[(axis + 1)...])))
    }

    private func softmaxFamily(dim: Int, logarithm: Bool) -> Tensor {
        let name = logarithm ? "logSoftmax" : "softmax"
        // A zero-dimensional tensor is treated as one element along its only "axis".
        let axis = rank == 0 ? 0 : Shape.normalize(axis: dim, rank: rank, op: name)
        let (outer, length, inner) = rank == 0 ? (1, 1, 1) : blockAround(axis)
        let y = Tensor(shape: shape) { out in
            Kernels.softmaxMiddleAxis(storage.base, outer: outer, length: length, inner: inner,
                                      out.baseAddress!, logarithm: logarithm)
        }
        return y.recorded(name, inputs: [self]) {
            let y = y.detached()
            return { g in
                [Tensor(shape: y.shape) { out in
                    Kernels.softmaxBackwardMiddleAxis(g.storage.base, y.storage.base, outer: outer, length: length,
                                                      inner: inner, out.baseAddress!, logarithm: logarithm)
                }]
            }
        }
    }

    /// `exp(x) / sum(exp(x))` along `dim` (negative counts from the end), computed with
    /// the maximum subtracted first so large logits do not overflow. Same shape as `self`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func softmax(dim: Int) -> Tensor {
        softmaxFamily(dim: dim, logarithm: false)
    }

    /// `x - log(sum(exp(x)))` along `dim` (negative counts from the end), computed as
    /// `x - max - log(sum(exp(x - max)))`, finite for any finite logits (±1000 in `Float`
    /// included). Same shape as `self`; the gradient is `g - softmax(x) * sum(g)`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func logSoftmax(dim: Int) -> Tensor {
        softmaxFamily(dim: dim, logarithm: true)
    }
}

/// Softmax of `x` along `dim`; see `Tensor.softmax(dim:)`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func softmax<Scalar>(_ x: Tensor<Scalar>, dim: Int) -> Tensor<Scalar> { x.softmax(dim: dim) }

/// Log-softmax of `x` along `dim`; see `Tensor.logSoftmax(dim:)`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func logSoftmax<Scalar>(_ x: Tensor<Scalar>, dim: Int) -> Tensor<Scalar> { x.logSoftmax(dim: dim) }
