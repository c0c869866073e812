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
            if needX { grads[0] = linearInputGradient(g.storage.base, weight: w, rows: rows, shape: xValue.shape) }
            let (dW, dB) = linearParameterGradients(g.storage.base, xValue.storage.base, rows: rows, outFeatures: outFeatures,
                                                    inFeatures: inFeatures, weight: needW, bias: needB)
            grads[1] = dW
            if inputs.count == 3 { grads.append(dB) }
            return grads
        }
    }.traced(.linear, inputs)
}

/// The gradient of a linear map's input, `dx = g · W`, from the output's gradient `g`
/// (`[rows, outFeatures]`, contiguous) and the weight (`[outFeatures, inFeatures]`, read in
/// place, or through the packed form its storage keeps); shaped `shape` (`rows · inFeatures`
/// elements, the input's shape).
func linearInputGradient<Scalar: TensorScalar>(_ g: UnsafePointer<Scalar>, weight: Tensor<Scalar>, rows: Int, shape: [Int])
    -> Tensor<Scalar> {
    let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
    return Tensor(shape: shape) { out in
        let weightOperand = MatmulOperand(weight)
        Tensor.gemm(transposeA: false, m: rows, n: inFeatures, k: outFeatures, g, lda: outFeatures,
                    weightOperand, transposeB: weightOperand.isTransposed, batch: 0, batchStride: 0,
                    out.baseAddress!, ldc: inFeatures, accumulate: false)
    }
}

/// The gradients of a linear map's weight and bias, each when asked for: `dW = gᵀ · x`
/// (`[outFeatures, inFeatures]`) and `db = Σ_rows g` (`[outFeatures]`, summed in row order),
/// from the output's gradient `g` (`[rows, outFeatures]`) and the input `x`
/// (`[rows, inFeatures]`), both contiguous. With both, the bias's is summed as the weight's
/// product packs `gᵀ`, so `g` is read once.
func linearParameterGradients<Scalar: TensorScalar>(
    _ g: UnsafePointer<Scalar>, _ x: UnsafePointer<Scalar>, rows: Int, outFeatures: Int, inFeatures: Int, weight: Bool, bias: Bool
) -> (weight: Tensor<Scalar>?, bias: Tensor<Scalar>?) {
    func weightGradient(biasInto sums: UnsafeMutablePointer<Scalar>?) -> Tensor<Scalar> {
        Tensor(shape: [outFeatures, inFeatures]) { out in
            Kernels.gemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows, g, lda: outFeatures,
                         x, ldb: inFeatures, out.baseAddress!, ldc: inFeatures, accumulate: false, rowSumsOfA: sums)
        }
    }
    guard bias else { return (weight ? weightGradient(biasInto: nil) : nil, nil) }
    var dW: Tensor<Scalar>?
    let dB = Tensor<Scalar>(shape: [outFeatures]) { sums in
        if weight { dW = weightGradient(biasInto: sums.baseAddress!) }
        else { Kernels.sumMiddleAxis(g, outer: 1, length: rows, inner: outFeatures, sums.baseAddress!) }
    }
    return (dW, dB)
}

/// The weight gradients of two linear maps whose outputs get the same gradient `g`
/// (`[rows, outFeatures]`), one from the input `x1` (`[rows, inFeatures1]`), one from `x2`
/// (`[rows, inFeatures2]`), and the gradient `Σ_rows g` of each one's bias where asked for: a
/// recurrent layer's `W_hh`, `b_hh` and `W_ih`, `b_ih`, whose gate gradients are the same.
/// Both weights' gradients come from one product `gᵀ · [x1 | x2]`, which packs `gᵀ` once, and
/// the bias sum is taken once, as that product packs `gᵀ`; the bits are those of two
/// `linearParameterGradients` calls.
func linearParameterGradients<Scalar: TensorScalar>(
    _ g: UnsafePointer<Scalar>, sharedBy x1: UnsafePointer<Scalar>, inFeatures1: Int, _ x2: UnsafePointer<Scalar>,
    inFeatures2: Int, rows: Int, outFeatures: Int, bias1: Bool, bias2: Bool
) -> (weight1: Tensor<Scalar>, bias1: Tensor<Scalar>?, weight2: Tensor<Scalar>, bias2: Tensor<Scalar>?) {
    let dW2 = Tensor<Scalar>(shape: [outFeatures, inFeatures2]) { _ in }
    var dB: Tensor<Scalar>?
    let dW1 = Tensor<Scalar>(shape: [outFeatures, inFeatures1]) { out in
        let product = { (sums: UnsafeMutablePointer<Scalar>?) in
            Kernels.gemmSharingA(transposeA: true, m: outFeatures, k: rows, g, lda: outFeatures,
                                 x1, ldb1: inFeatures1, n1: inFeatures1, out.baseAddress!, ldc1: inFeatures1,
                                 x2, ldb2: inFeatures2, n2: inFeatures2, dW2.storage.base, ldc2: inFeatures2, rowSumsOfA: sums)
        }
        if bias1 || bias2 { dB = Tensor(shape: [outFeatures]) { sums in product(sums.baseAddress!) } } else { product(nil) }
    }
    // The second bias gets its own copy of the sums when both need them.
    let dB2 = bias1 && bias2 ? dB.map { sums in Tensor<Scalar>(shape: [outFeatures]) { $0.baseAddress!.update(from: sums.storage.base, count: outFeatures) } } : dB
    return (dW1, bias1 ? dB : nil, dW2, bias2 ? dB2 : nil)
}
