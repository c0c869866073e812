/// Rescales gradients so their joint norm is at most `maxNorm` (PyTorch's
/// `clip_grad_norm_`) and returns the norm *before* clipping.
///
/// The joint norm is the `normType`-norm of all gradient elements together (2 by default;
/// `.infinity` for the largest magnitude). When it exceeds `maxNorm`, every gradient is
/// multiplied by `maxNorm / (norm + 1e-6)`. Parameters without a gradient are ignored. A
/// non-finite norm is returned as is (the caller reports it) and gradients are left alone.
@discardableResult
@_specialize(where Scalar == Float)  // reached unspecialized from client modules otherwise
public func clipGradNorm<Scalar>(_ parameters: [Tensor<Scalar>], maxNorm: Double, normType: Double = 2) -> Double {
    var total = 0.0
    for parameter in parameters {
        // No array of the gradients is kept: each must stay uniquely referenced by its
        // parameter so the rescale below works in place.
        guard let grad = parameter.grad else { continue }
        grad.withUnsafeBufferPointer { g in
            if normType == .infinity {
                for value in g { total = Swift.max(total, Swift.abs(Double(value))) }
            } else if normType == 2 {
                if let base = g.baseAddress { total += Kernels.sumOfSquares(base, count: g.count) }
            } else {
                for value in g { total += Foundation.pow(Swift.abs(Double(value)), normType) }
            }
        }
    }
    if normType != .infinity { total = Foundation.pow(total, 1 / normType) }
    guard total.isFinite else { return total }
    let coefficient = maxNorm / (total + 1e-6)
    if coefficient < 1 {
        for parameter in parameters {
            guard var grad = parameter.grad else { continue }
            // Detach the gradient from the parameter first, so `grad` holds the only reference
            // and is rescaled in place (no copy of, say, a whole embedding table's gradient).
            parameter.grad = nil
            grad.withUnsafeMutableBufferPointer { g in
                Kernels.scale(UnsafePointer(g.baseAddress!), by: Scalar(coefficient), g.baseAddress!, count: g.count)
            }
            parameter.grad = grad
        }
    }
    return total
}

/// Clips the gradients of every parameter of `model` (see `clipGradNorm(_:maxNorm:normType:)`).
@discardableResult
public func clipGradNorm<M: Module>(_ model: M, maxNorm: Double, normType: Double = 2) -> Double {
    clipGradNorm(model.parameters(), maxNorm: maxNorm, normType: normType)
}

import Foundation
