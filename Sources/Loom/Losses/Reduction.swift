// How a loss turns its per-element (or per-sample) values into its result.

/// How a loss combines its per-element values (PyTorch's `reduction`).
public enum Reduction: Sendable, Equatable, CaseIterable {
    /// The average over the counted elements (for cross-entropy and NLL: the targets that
    /// are not ignored). A scalar.
    case mean
    /// The sum of the elements. A scalar.
    case sum
    /// No reduction: one value per element (per sample for cross-entropy and NLL).
    case none

    /// PyTorch's spelling: `"mean"`, `"sum"` or `"none"`.
    public var name: String {
        switch self {
        case .mean: "mean"
        case .sum: "sum"
        case .none: "none"
        }
    }

    /// The reduction PyTorch spells `name` (`"mean"`, `"sum"`, `"none"`), or `nil`.
    public init?(name: String) {
        guard let match = Reduction.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }

    /// The result of a loss from its per-element values `losses` (of shape `shape`):
    /// a scalar for `.mean` (divided by `divisor`; 0 when `divisor` is 0) and `.sum`,
    /// `losses` itself for `.none`. Unrecorded.
    func reduce<Scalar: TensorScalar>(_ losses: [Scalar], shape: [Int], divisor: Int) -> Tensor<Scalar> {
        switch self {
        case .none:
            return Tensor(shape: shape, scalars: losses)
        case .sum:
            return Tensor(losses.withUnsafeBufferPointer { Kernels.sum($0.baseAddress!, count: $0.count) })
        case .mean:
            let total = losses.withUnsafeBufferPointer { Kernels.sum($0.baseAddress!, count: $0.count) }
            return Tensor(divisor == 0 ? 0 : total / Scalar(divisor))
        }
    }

    /// The upstream gradient reaching element `i` of the per-element values, given the
    /// gradient `g` of the reduced result: `g[i]` for `.none`, `g` for `.sum`,
    /// `g / divisor` for `.mean` (0 when `divisor` is 0).
    func elementGradient<Scalar: TensorScalar>(_ g: Tensor<Scalar>, divisor: Int) -> (Int) -> Scalar {
        switch self {
        case .none:
            let upstream = g.detached()
            return { upstream.storage.base[$0] }
        case .sum:
            let value = g.item
            return { _ in value }
        case .mean:
            let value = divisor == 0 ? 0 : g.item / Scalar(divisor)
            return { _ in value }
        }
    }
}
