/// Greedy decoding over a user's step function, batched over items: every step takes the
/// most likely symbol of each item and feeds it back, until the item produces the end
/// symbol or reaches its step limit.
///
/// ```swift
/// let search = GreedySearch(startSymbol: 2, endSymbol: 3)
/// let results = try search(maxSteps: lengths.map { $0 + 10 }, initialState: decoderState) { previous, state in
///     try decoder.step(previous, state)   // logits [B, V] and the next state
/// }
/// ```
public struct GreedySearch: Sendable {
    /// The symbol fed to the first step.
    public var startSymbol: Int
    /// The symbol that ends a sequence (it counts as a step and is not part of the result).
    public var endSymbol: Int

    /// A greedy search from `startSymbol` that stops at `endSymbol`.
    public init(startSymbol: Int, endSymbol: Int) {
        self.startSymbol = startSymbol
        self.endSymbol = endSymbol
    }

    /// Decodes every item of a batch.
    ///
    /// - Parameters:
    ///   - maxSteps: the step limit of each item (the end symbol's step counts); its count
    ///     is the batch size B.
    ///   - initialState: the decoder state of the B items, passed to the first step.
    ///   - step: given the previous symbol of every item `[B]` and the state, returns the
    ///     logits `[B, V]` of the next symbol and the next state. It runs for all B rows until
    ///     every item has ended; what it returns for an ended item is ignored.
    /// - Returns: one result per item: the argmax symbols up to the end symbol (or up to
    ///   the limit), with the sum of their log-probabilities. Ties go to the lower symbol.
    public func callAsFunction<Scalar: TensorScalar, State>(
        maxSteps: [Int], initialState: State,
        step: (_ previous: IntTensor, _ state: State) throws -> (logits: Tensor<Scalar>, state: State)
    ) rethrows -> [SearchResult] {
        let items = maxSteps.count
        var results = [SearchResult](repeating: SearchResult(symbols: [], score: 0, finished: false), count: items)
        var done = maxSteps.map { $0 <= 0 }
        var previous = [Int](repeating: startSymbol, count: items)
        var state = initialState
        var t = 0
        while !done.allSatisfy({ $0 }) {
            let (logits, next) = try step(IntTensor(previous), state)
            state = next
            let logProbabilities = logProbabilities(logits, rows: items, operation: "GreedySearch")
            let choices = logits.argmax(dim: 1).scalars
            for item in 0..<items where !done[item] {
                let symbol = choices[item]
                previous[item] = symbol
                results[item].score += logProbabilities[item][symbol]
                if symbol == endSymbol {
                    results[item].finished = true
                    done[item] = true
                } else {
                    results[item].symbols.append(symbol)
                    if t + 1 >= maxSteps[item] { done[item] = true }
                }
            }
            t += 1
        }
        return results
    }
}
