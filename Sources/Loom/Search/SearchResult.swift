/// One decoded sequence: the symbols a search produced for one item, without the end
/// symbol, and their score.
public struct SearchResult: Equatable, Sendable {
    /// The produced symbols, without the start and end symbols.
    public var symbols: [Int]
    /// The sum of the log-probabilities (log-softmax of the step's logits) of the chosen
    /// symbols, the end symbol included when it was produced.
    public var score: Double
    /// Whether the sequence ended with the end symbol (false: the step limit cut it).
    public var finished: Bool

    /// A result with these fields.
    public init(symbols: [Int], score: Double, finished: Bool) {
        self.symbols = symbols
        self.score = score
        self.finished = finished
    }
}

/// The log-softmax of each row of `logits` `[rows, symbols]`, in `Double`.
func logProbabilities<Scalar: TensorScalar>(_ logits: Tensor<Scalar>, rows: Int, operation: String) -> [[Double]] {
    checkShape(logits.rank == 2 && logits.shape[0] == rows,
               "\(operation): the step must return logits [\(rows), symbols], got \(logits.shape)")
    let symbols = logits.shape[1]
    let x = logits.storage.base
    return (0..<rows).map { row in
        let (maximum, logSum) = Kernels.shiftedLogSumExp(x + row * symbols, count: symbols)
        return (0..<symbols).map { Double((x[row * symbols + $0] - maximum) - logSum) }
    }
}
