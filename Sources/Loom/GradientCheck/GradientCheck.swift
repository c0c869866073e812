/// The outcome of `gradientCheck`: how far the tape's gradients are from central finite
/// differences, and where the worst disagreement is.
public struct GradientCheckReport: CustomStringConvertible, Sendable {
    /// The largest error `|analytic - numeric| / max(1, |analytic|, |numeric|)` over every
    /// element of every input.
    public let maxError: Double
    /// Which input (position in the array passed to `gradientCheck`) holds the worst element.
    public let worstInput: Int
    /// The multi-dimensional index of the worst element inside that input.
    public let worstIndex: [Int]
    /// The tape's gradient at the worst element.
    public let analytic: Double
    /// The finite-difference estimate at the worst element.
    public let numeric: Double
    /// The tolerance the check was run with.
    public let tolerance: Double

    /// Whether every element is within the tolerance.
    public var passed: Bool { maxError <= tolerance }

    /// One line: pass/fail, the worst error and where it is.
    public var description: String {
        "gradient check \(passed ? "passed" : "FAILED"): max error \(maxError) at input \(worstInput) index \(worstIndex) (analytic \(analytic), numeric \(numeric), tolerance \(tolerance))"
    }
}

/// Compares the gradients the tape computes for `function` with central finite differences,
/// in `Double`, for any function of tensors the user writes.
///
/// The function's output (any shape) is reduced to a scalar by a fixed random projection,
/// so every output element is checked with a distinct upstream gradient. Every element of
/// every input is perturbed by ±`epsilon`.
///
/// - Parameters:
///   - inputs: the points at which to check; they need not require gradients.
///   - epsilon: the finite-difference step.
///   - tolerance: the largest acceptable relative error.
///   - seed: the seed of the random projection of the output.
///   - function: the computation to check, built from Loom ops.
/// - Returns: the report; `passed` tells whether the check passed.
public func gradientCheck(
    _ inputs: [Tensor<Double>], epsilon: Double = 1e-6, tolerance: Double = 1e-6,
    seed: UInt64 = 12345, _ function: ([Tensor<Double>]) -> Tensor<Double>
) -> GradientCheckReport {
    let leaves = inputs.map { $0.detached().requiringGrad() }
    let probe = Tape.withoutGradient { function(leaves.map { $0.detached() }) }
    var generator = RandomGenerator(seed: seed)
    let projection = Tensor<Double>.uniform(probe.shape, low: 0.5, high: 1.5, using: &generator)

    func scalarLoss(_ values: [Tensor<Double>]) -> Double {
        Tape.withoutGradient { (function(values) * projection).sum().item }
    }

    let loss = (function(leaves) * projection).sum()
    if loss.requiresGrad { loss.backward() }

    var worst = (error: 0.0, input: 0, index: [Int](), analytic: 0.0, numeric: 0.0)
    for (n, leaf) in leaves.enumerated() {
        let analyticGrad = leaf.grad?.scalars ?? [Double](repeating: 0, count: leaf.count)
        var values = leaves.map { $0.detached() }
        for i in 0..<leaf.count {
            let original = values[n].withUnsafeBufferPointer { $0[i] }
            values[n].withUnsafeMutableBufferPointer { $0[i] = original + epsilon }
            let plus = scalarLoss(values)
            values[n].withUnsafeMutableBufferPointer { $0[i] = original - epsilon }
            let minus = scalarLoss(values)
            values[n].withUnsafeMutableBufferPointer { $0[i] = original }
            let numeric = (plus - minus) / (2 * epsilon)
            let analytic = analyticGrad[i]
            let error = Swift.abs(analytic - numeric) / Swift.max(1, Swift.abs(analytic), Swift.abs(numeric))
            if error > worst.error || (error.isNaN && !worst.error.isNaN) {
                worst = (error, n, unravel(i, leaf.shape), analytic, numeric)
            }
        }
    }
    return GradientCheckReport(maxError: worst.error, worstInput: worst.input, worstIndex: worst.index,
                               analytic: worst.analytic, numeric: worst.numeric, tolerance: tolerance)
}

/// The multi-dimensional index of row-major offset `offset` in `shape`.
func unravel(_ offset: Int, _ shape: [Int]) -> [Int] {
    var index = [Int](repeating: 0, count: shape.count)
    var rest = offset
    for axis in shape.indices.reversed() where shape[axis] > 0 {
        index[axis] = rest % shape[axis]
        rest /= shape[axis]
    }
    return index
}
