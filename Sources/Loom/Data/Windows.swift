/// Input windows and next-value targets for one-step-ahead forecasting.
public struct ForecastWindows: Equatable, Sendable {
    /// Each window: `windowSize` consecutive values.
    public var inputs: [[Double]]
    /// The value right after each window.
    public var targets: [Double]
    /// The index in the series of each target.
    public var targetIndices: [Int]

    /// Windows from `inputs`, their `targets` and the targets' positions in the series.
    public init(inputs: [[Double]], targets: [Double], targetIndices: [Int]) {
        self.inputs = inputs
        self.targets = targets
        self.targetIndices = targetIndices
    }

    /// The number of windows.
    public var count: Int { targets.count }

    /// The windows as a batch-first sequence tensor [count, windowSize, 1].
    public func inputTensor<Scalar: TensorScalar>(_ type: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
        let windowSize = inputs.first?.count ?? 0
        return Tensor(shape: [inputs.count, windowSize, 1], scalars: inputs.flatMap { $0.map { Scalar($0) } })
    }

    /// The targets as a tensor [count, 1].
    public func targetTensor<Scalar: TensorScalar>(_ type: Scalar.Type = Scalar.self) -> Tensor<Scalar> {
        Tensor(shape: [targets.count, 1], scalars: targets.map { Scalar($0) })
    }
}

/// Scales a series by one positive number fitted on the training part, so values are
/// around [0, 1]: the largest absolute value of the training values (which is their max
/// for a non-negative series); 1 if they are all 0 or there are none.
public struct MaxScaler: Equatable, Sendable {
    /// The divisor.
    public let scale: Double

    /// A scaler fitted to `trainingValues`.
    public init(fittingTo trainingValues: [Double]) {
        let largest = trainingValues.lazy.filter(\.isFinite).map { abs($0) }.max() ?? 0
        scale = largest > 0 ? largest : 1
    }

    /// `values` divided by `scale`.
    public func scaled(_ values: [Double]) -> [Double] { values.map { $0 / scale } }

    /// A scaled value brought back to the data's units.
    public func unscaled(_ value: Double) -> Double { value * scale }

    /// Scaled values brought back to the data's units.
    public func unscaled(_ values: [Double]) -> [Double] { values.map { $0 * scale } }
}

/// Sliding windows over a series for forecasting: a window of `windowSize` values
/// predicts the next value.
public enum Windows {
    /// Every window of `series` whose target index lies in `targets` (default: all
    /// possible, `windowSize..<series.count`); indices below `windowSize` or past the end
    /// are left out. Window i covers `series[t - windowSize ..< t]` for target index t, so
    /// test windows may reach back into the training part.
    public static func sliding(_ series: [Double], windowSize: Int = 12, targets: Range<Int>? = nil) -> ForecastWindows {
        precondition(windowSize > 0, "Windows.sliding: window size must be positive, got \(windowSize)")
        let wanted = targets ?? (windowSize..<max(windowSize, series.count))
        let lower = max(wanted.lowerBound, windowSize)
        let upper = min(wanted.upperBound, series.count)
        var result = ForecastWindows(inputs: [], targets: [], targetIndices: [])
        guard lower < upper else { return result }
        for t in lower..<upper {
            result.inputs.append(Array(series[(t - windowSize)..<t]))
            result.targets.append(series[t])
            result.targetIndices.append(t)
        }
        return result
    }

    /// The forecasting set-up of `loom train forecast`: the last `testCount` points are
    /// the test targets (one step ahead), everything before is the training part; the
    /// scaler is fitted on the training part only and both window sets are scaled.
    /// Throws `DataError` naming `source` when the series is too short (it needs at least
    /// `windowSize + 1 + testCount` values).
    public static func forecastSplit(_ series: [Double], windowSize: Int = 12, testCount: Int = 24,
                                     source: String = "<series>") throws -> (train: ForecastWindows, test: ForecastWindows, scaler: MaxScaler) {
        precondition(windowSize > 0 && testCount >= 0, "Windows.forecastSplit: needs windowSize > 0 and testCount ≥ 0")
        let needed = windowSize + 1 + testCount
        guard series.count >= needed else {
            throw DataError(file: source,
                            message: "the series has \(series.count) values; forecasting with windows of \(windowSize) and \(testCount) test points needs at least \(needed)")
        }
        let trainEnd = series.count - testCount
        let scaler = MaxScaler(fittingTo: Array(series[..<trainEnd]))
        let scaled = scaler.scaled(series)
        return (sliding(scaled, windowSize: windowSize, targets: windowSize..<trainEnd),
                sliding(scaled, windowSize: windowSize, targets: trainEnd..<series.count),
                scaler)
    }
}
