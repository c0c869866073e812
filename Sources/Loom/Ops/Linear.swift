// The affine map of a linear layer, `y = x · Wᵀ + b`, as one op with one matmul each way
// (no transposed copy of the weight; the weight's packed form is kept between calls, so a
// decoder calling it at every step packs it once). Recurrent layers use it for the input projection of
// all time steps at once and for the recurrent product at each step.

/// `x · weightᵀ + bias` over the last axis (PyTorch's `F.linear`).
///
/// - Parameters:
///   - x: `[..., inFeatures]`.
///   - weight: `[outFeatures, inFeatures]`.
///   - bias: `[outFeatures]` or `nil`.
/// - Returns: `[..., outFeatures]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func linear<Scalar>(_ x: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil) -> Tensor<Scalar> {
    checkShape(weight.rank == 2 && x.rank >= 1 && x.shape[x.rank - 1] == weight.shape[1],
               "linear: input \(x.shape) does not match weight \(weight.shape) (expects [..., \(weight.rank == 2 ? weight.shape[1] : -1)])")
    let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
    if let bias {
        checkShape(bias.shape == [outFeatures], "linear: bias \(bias.shape) does not match weight \(weight.shape)")
    }
    let rows = x.count / Swift.max(inFeatures, 1)
    let outShape = Array(x.shape.dropLast()) + [outFeatures]
    let result = Tensor<Scalar>(shape: outShape) { out in
        // The bias is added where each tile of the product is written (no pass filling it first).
        let w = MatmulOperand(weight)
        Tensor.gemm(transposeA: false, m: rows, n: outFeatures, k: inFeatures, x.storage.base, lda: inFeatures,
                    w, transposeB: !w.isTransposed, batch: 0, batchStride: 0, out.baseAddress!, ldc: outFeatures,
                    accumulate: false, bias: bias.map { UnsafePointer($0.storage.base) })
    }
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return result.recorded("linear", inputs: inputs) {
        let xValue = x.detached(), w = weight.detached()
        let needX = x.requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
        return { g in
            // dx = g · W, dW = gᵀ · x, db = Σ_rows g.
            var grads: [Tensor<Scalar>?] = [nil, nil]
            if needX {
                grads[0] = Tensor(shape: xValue.shape) { out in
                    let weightOperand = MatmulOperand(w)
                    Tensor.gemm(transposeA: false, m: rows, n: inFeatures, k: outFeatures, g.storage.base, lda: outFeatures,
                                weightOperand, transposeB: weightOperand.isTransposed, batch: 0, batchStride: 0,
                                out.baseAddress!, ldc: inFeatures, accumulate: false)
                }
            }
            if needW {
                grads[1] = Tensor(shape: w.shape) { out in
                    Kernels.gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                                 g.storage.base, lda: outFeatures, xValue.storage.base, ldb: inFeatures,
                                 out.baseAddress!, ldc: inFeatures, accumulate: false)
                }
            }
            if inputs.count == 3 {
                grads.append(needB ? Tensor(shape: [outFeatures]) { out in
                    Kernels.sumMiddleAxis(g.storage.base, outer: 1, length: rows, inner: outFeatures, out.baseAddress!)
                } : nil)
            }
            return grads
        }
    }.traced(.linear, inputs)
}
