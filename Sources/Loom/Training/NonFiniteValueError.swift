/// A training run produced a loss or gradient norm that is NaN or infinite. It names the
/// quantity and the (1-based) epoch and step where it first appeared, so the run can stop
/// there instead of silently training on garbage.
public struct NonFiniteValueError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What was not finite (`"loss"` or `"gradient norm"`).
    public var quantity: String
    /// The offending value (NaN or ±infinity).
    public var value: Double
    /// The 1-based epoch.
    public var epoch: Int
    /// The 1-based step within the epoch.
    public var step: Int

    /// An error for `quantity` with `value` at `epoch` and `step` (both 1-based).
    public init(quantity: String, value: Double, epoch: Int, step: Int) {
        self.quantity = quantity
        self.value = value
        self.epoch = epoch
        self.step = step
    }

    /// `non-finite loss (nan) at epoch 2, step 17`.
    public var description: String {
        "non-finite \(quantity) (\(value)) at epoch \(epoch), step \(step)"
    }

    /// Throws a `NonFiniteValueError` unless `loss` and `gradientNorm` are finite; the loss
    /// is checked first, since a non-finite loss makes the gradients non-finite too.
    public static func check(loss: Double, gradientNorm: Double?, epoch: Int, step: Int) throws(NonFiniteValueError) {
        guard loss.isFinite else {
            throw NonFiniteValueError(quantity: "loss", value: loss, epoch: epoch, step: step)
        }
        if let gradientNorm, !gradientNorm.isFinite {
            throw NonFiniteValueError(quantity: "gradient norm", value: gradientNorm, epoch: epoch, step: step)
        }
    }
}
