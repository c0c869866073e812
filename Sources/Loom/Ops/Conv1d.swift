// The 1-D convolution over `[batch, channels, length]` (PyTorch's `F.conv1d`, stride 1),
// computed as one matrix product over the unfolded windows: the windows of every sequence
// become the columns of a `[channels · kernelSize, batch · outputLength]` matrix
// (Kernels/WindowKernels.swift) that the weight `[outChannels, channels · kernelSize]`
// multiplies through the gemm. The backward pass is two more products and a fold.

/// The cross-correlation of `x` with `weight` plus `bias`, stride 1 (PyTorch's
/// `F.conv1d(x, weight, bias, padding=padding)`):
/// `y[b, o, l] = bias[o] + Σ_c Σ_k weight[o, c, k] · x[b, c, l + k - padding]`, where
/// positions outside `0..<length` read zero.
///
/// - Parameters:
///   - x: `[batch, inChannels, length]`.
///   - weight: `[outChannels, inChannels, kernelSize]`.
///   - bias: `[outChannels]` or `nil`.
///   - padding: zeros added at each end of every sequence (≥ 0).
/// - Returns: `[batch, outChannels, length + 2 · padding - kernelSize + 1]`; that length must
///   be at least 1.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func conv1d<Scalar>(_ x: Tensor<Scalar>, weight: Tensor<Scalar>, bias: Tensor<Scalar>? = nil,
                           padding: Int = 0) -> Tensor<Scalar> {
    checkShape(x.rank == 3, "conv1d: input must be [batch, channels, length], got \(x.shape)")
    checkShape(weight.rank == 3 && weight.shape[1] == x.shape[1],
               "conv1d: weight \(weight.shape) does not match input \(x.shape) (expects [outChannels, \(x.shape[1]), kernelSize])")
    checkShape(padding >= 0, "conv1d: padding must be ≥ 0, got \(padding)")
    let batch = x.shape[0], channels = x.shape[1], length = x.shape[2]
    let outChannels = weight.shape[0], kernelSize = weight.shape[2]
    checkShape(kernelSize >= 1, "conv1d: kernel size must be ≥ 1, got weight \(weight.shape)")
    let outputLength = length + 2 * padding - kernelSize + 1
    checkShape(outputLength >= 1,
               "conv1d: input length \(length) with padding \(padding) is shorter than the kernel (\(kernelSize))")
    if let bias {
        checkShape(bias.shape == [outChannels], "conv1d: bias \(bias.shape) does not match weight \(weight.shape)")
    }
    let depth = channels * kernelSize, columns = batch * outputLength
    let windows = Tensor<Scalar>(shape: [depth, columns]) { out in
        Kernels.unfoldWindows(x.storage.base, batch: batch, channels: channels, length: length, kernelSize: kernelSize,
                              padding: padding, outputLength: outputLength, into: out.baseAddress!)
    }
    // [outChannels, batch · outputLength], then laid out as [batch, outChannels, outputLength].
    let product = Tensor<Scalar>(shape: [outChannels, columns]) { out in
        Kernels.gemm(transposeA: false, transposeB: false, m: outChannels, n: columns, k: depth,
                     weight.storage.base, lda: depth, windows.storage.base, ldb: columns,
                     out.baseAddress!, ldc: columns, accumulate: false)
    }
    let result = Tensor<Scalar>(shape: [batch, outChannels, outputLength]) { out in
        let y = out.baseAddress!, p = product.storage.base
        for b in 0..<batch {
            for o in 0..<outChannels {
                let target = y + (b * outChannels + o) * outputLength
                target.initialize(from: p + o * columns + b * outputLength, count: outputLength)
                if let bias {
                    let value = bias.storage.base[o]
                    for l in 0..<outputLength { target[l] += value }
                }
            }
        }
    }
    let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
    return result.recorded("conv1d", inputs: inputs) {
        let w = weight.detached()
        let needX = x.requiresGrad, needW = weight.requiresGrad, needB = bias?.requiresGrad ?? false
        return { g in
            // The upstream gradient as [outChannels, batch · outputLength], like the product.
            let gradient = Tensor<Scalar>(shape: [outChannels, columns]) { out in
                let source = g.storage.base
                for b in 0..<batch {
                    for o in 0..<outChannels {
                        (out.baseAddress! + o * columns + b * outputLength)
                            .initialize(from: source + (b * outChannels + o) * outputLength, count: outputLength)
                    }
                }
            }
            var grads: [Tensor<Scalar>?] = [nil, nil]
            if needX {
                // d windows = Wᵀ · g, folded back onto the positions they were read from.
                let windowGradient = Tensor<Scalar>(shape: [depth, columns]) { out in
                    Kernels.gemm(transposeA: true, transposeB: false, m: depth, n: columns, k: outChannels,
                                 w.storage.base, lda: depth, gradient.storage.base, ldb: columns,
                                 out.baseAddress!, ldc: columns, accumulate: false)
                }
                grads[0] = Tensor(shape: [batch, channels, length]) { out in
                    out.initialize(repeating: 0)
                    Kernels.foldWindows(windowGradient.storage.base, batch: batch, channels: channels, length: length,
                                        kernelSize: kernelSize, padding: padding, outputLength: outputLength,
                                        into: out.baseAddress!)
                }
            }
            if needW {
                // dW = g · windowsᵀ.
                grads[1] = Tensor(shape: [outChannels, channels, kernelSize]) { out in
                    Kernels.gemm(transposeA: false, transposeB: true, m: outChannels, n: depth, k: columns,
                                 gradient.storage.base, lda: columns, windows.storage.base, ldb: columns,
                                 out.baseAddress!, ldc: depth, accumulate: false)
                }
            }
            if inputs.count == 3 {
                grads.append(needB ? Tensor(shape: [outChannels]) { out in
                    Kernels.sumMiddleAxis(gradient.storage.base, outer: outChannels, length: columns, inner: 1, out.baseAddress!)
                } : nil)
            }
            return grads
        }
    }
}
