// Layer normalization over the last axis (PyTorch's `F.layer_norm` with a one-axis
// `normalized_shape`), forward and backward beside each other.

/// Normalizes each vector along the last axis to zero mean and unit variance, then applies
/// the elementwise affine map (PyTorch's `F.layer_norm(x, [D], weight, bias, eps)`):
/// `y = (x - mean) / √(var + eps) · weight + bias`, `var` the biased variance of the row.
///
/// - Parameters:
///   - x: `[..., D]`.
///   - weight: `[D]` or `nil` (ones).
///   - bias: `[D]` or `nil` (zeros).
///   - eps: added to the variance (PyTorch's default 1e-5).
/// - Returns: `[..., D]`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func layerNorm<Scalar>(_ x: Tensor<Scalar>, weight: Tensor<Scalar>? = nil, bias: Tensor<Scalar>? = nil,
                              eps: Double = 1e-5) -> Tensor<Scalar> {
    checkShape(x.rank >= 1 && x.shape[x.rank - 1] >= 1, "layerNorm: needs [..., D] with D ≥ 1, got \(x.shape)")
    let width = x.shape[x.rank - 1], rows = x.count / width
    if let weight { checkShape(weight.shape == [width], "layerNorm: weight \(weight.shape) does not match input \(x.shape)") }
    if let bias { checkShape(bias.shape == [width], "layerNorm: bias \(bias.shape) does not match input \(x.shape)") }
    let xHat = Tensor<Scalar>(shape: x.shape) { _ in }
    let rstd = Tensor<Scalar>(shape: [rows]) { _ in }
    let result = Tensor<Scalar>(shape: x.shape) { out in
        Kernels.layerNormForward(x.storage.base, rows: rows, width: width, epsilon: Scalar(eps),
                                 weight: weight.map { UnsafePointer($0.storage.base) }, bias: bias.map { UnsafePointer($0.storage.base) },
                                 y: out.baseAddress!, xHat: xHat.storage.base, rstd: rstd.storage.base)
    }
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    return result.recorded("layerNorm", inputs: inputs) {
        let w = weight?.detached()
        let needX = x.requiresGrad, needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
        let hasWeight = weight != nil, hasBias = bias != nil
        return { g in
            var grads: [Tensor<Scalar>?] = []
            grads.append(needX ? Tensor(shape: g.shape) { out in
                Kernels.layerNormBackward(g.storage.base, xHat: xHat.storage.base, rstd: rstd.storage.base,
                                          weight: w.map { UnsafePointer($0.storage.base) }, rows: rows, width: width,
                                          dx: out.baseAddress!)
            } : nil)
            if hasWeight {
                // dW = Σ_rows dy ⊙ xHat, in row order.
                grads.append(needW ? Tensor(shape: [width]) { out in
                    let dW = out.baseAddress!, dy = g.storage.base, normalized = xHat.storage.base
                    dW.initialize(repeating: 0, count: width)
                    for r in 0..<rows {
                        for i in 0..<width { dW[i] += dy[r * width + i] * normalized[r * width + i] }
                    }
                } : nil)
            }
            if hasBias {
                grads.append(needB ? Tensor(shape: [width]) { out in
                    Kernels.sumMiddleAxis(g.storage.base, outer: 1, length: rows, inner: width, out.baseAddress!)
                } : nil)
            }
            return grads
        }
    }.traced(.layerNorm(epsilon: Scalar(eps), hasWeight: weight != nil, hasBias: bias != nil), inputs)
}
