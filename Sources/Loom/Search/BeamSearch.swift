/// Beam search over a user's step function, batched over items, scoring a sequence by the
/// sum of its symbols' log-probabilities (no length normalization).
///
/// Each item keeps up to `beamWidth` hypotheses, starting from one (the start symbol).
/// Every step expands every live hypothesis by every symbol and keeps the `beamWidth`
/// best candidates of the item; a kept candidate that ends with the end symbol moves to
/// the item's finished list and frees its slot, so the live beam can shrink. An item stops
/// when nothing is live, when its best finished score is at least its best live score
/// (scores only fall, so no live hypothesis can overtake it), or at its step limit. The
/// answer is the best finished hypothesis, or the best live one when none finished. With
/// `beamWidth` 1 this is exactly `GreedySearch`.
///
/// The step sees `B·beamWidth` rows: row `b·beamWidth + k` is hypothesis k of item b.
/// Tensors that are fixed per item (encoder outputs) are repeated once with
/// `hypothesisRows(items:)`; the state is reordered by `selectRows` after every step.
public struct BeamSearch: Sendable {
    /// The number of hypotheses kept per item.
    public var beamWidth: Int
    /// The symbol fed to the first step.
    public var startSymbol: Int
    /// The symbol that ends a sequence (it counts as a step and is not part of the result).
    public var endSymbol: Int

    /// A beam search keeping `beamWidth` (at least 1) hypotheses per item.
    public init(beamWidth: Int, startSymbol: Int, endSymbol: Int) {
        precondition(beamWidth >= 1, "BeamSearch: beamWidth must be at least 1, got \(beamWidth)")
        self.beamWidth = beamWidth
        self.startSymbol = startSymbol
        self.endSymbol = endSymbol
    }

    /// The row of each hypothesis's item, `[B·beamWidth]`: `x.indexSelect(dim: 0, index:
    /// hypothesisRows(items: B))` repeats each item's row of `x` for its hypotheses.
    public func hypothesisRows(items: Int) -> IntTensor {
        IntTensor((0..<(items * beamWidth)).map { $0 / beamWidth })
    }

    /// Decodes every item of a batch.
    ///
    /// - Parameters:
    ///   - maxSteps: the step limit of each item (the end symbol's step counts); its count
    ///     is the batch size B.
    ///   - initialState: the decoder state of the B items (one row each).
    ///   - selectRows: the state of the given rows of a state (`indexSelect(dim: 0, ...)`
    ///     on each of its tensors). It is called once with `hypothesisRows(items: B)` to
    ///     repeat the initial state, then after each step with rows `[B·beamWidth]` that
    ///     stay inside each item's block of rows.
    ///   - step: given the previous symbol of every hypothesis `[B·beamWidth]` and the state,
    ///     returns the logits `[B·beamWidth, V]` of the next symbol and the next state.
    /// - Returns: one result per item (see the type's documentation).
    public func callAsFunction<Scalar: TensorScalar, State>(
        maxSteps: [Int], initialState: State,
        selectRows: (_ state: State, _ rows: IntTensor) throws -> State,
        step: (_ previous: IntTensor, _ state: State) throws -> (logits: Tensor<Scalar>, state: State)
    ) rethrows -> [SearchResult] {
        let items = maxSteps.count, width = beamWidth
        let dead = -Double.infinity
        var scores = [[Double]](repeating: [0] + [Double](repeating: dead, count: width - 1), count: items)
        var sequences = [[[Int]]](repeating: [[Int]](repeating: [], count: width), count: items)
        var best = [SearchResult?](repeating: nil, count: items)
        var active = maxSteps.map { $0 > 0 }
        for item in 0..<items where !active[item] { best[item] = SearchResult(symbols: [], score: 0, finished: false) }
        var previous = [Int](repeating: startSymbol, count: items * width)
        var state = try selectRows(initialState, hypothesisRows(items: items))
        var t = 0
        while active.contains(true) {
            let (logits, next) = try step(IntTensor(previous), state)
            let rows = items * width
            let logProbabilities = logProbabilities(logits, rows: rows, operation: "BeamSearch")
            let symbols = logits.shape[1]
            var origins = [Int](repeating: 0, count: rows)
            for item in 0..<items {
                let base = item * width
                for k in 0..<width { origins[base + k] = base + k }
                guard active[item] else { continue }
                let top = topCandidates(scores: scores[item], logProbabilities: logProbabilities[base..<(base + width)],
                                        symbols: symbols)
                var newScores = [Double](repeating: dead, count: width)
                var newSequences = [[Int]](repeating: [], count: width)
                for (k, candidate) in top.enumerated() where candidate.score > dead {
                    let origin = candidate.flatIndex / symbols, symbol = candidate.flatIndex % symbols
                    origins[base + k] = base + origin
                    previous[base + k] = symbol
                    if symbol == endSymbol {
                        if best[item] == nil || candidate.score > best[item]!.score {
                            best[item] = SearchResult(symbols: sequences[item][origin], score: candidate.score, finished: true)
                        }
                    } else {
                        newScores[k] = candidate.score
                        newSequences[k] = sequences[item][origin] + [symbol]
                    }
                }
                let alive = newScores.max() ?? dead
                if t + 1 >= maxSteps[item] || alive == dead || (best[item].map { $0.score >= alive } ?? false) {
                    if best[item] == nil {
                        let k = newScores.firstIndex(of: alive) ?? 0
                        best[item] = SearchResult(symbols: newSequences[k], score: alive, finished: false)
                    }
                    active[item] = false
                }
                scores[item] = active[item] ? newScores : [Double](repeating: dead, count: width)
                sequences[item] = newSequences
            }
            guard active.contains(true) else { break }
            let identity = origins.enumerated().allSatisfy { $0.offset == $0.element }
            state = identity ? next : try selectRows(next, IntTensor(origins))
            t += 1
        }
        return best.map { $0! }
    }

    /// The `beamWidth` best of an item's candidates `score[k] + logProbability[k][v]`, best
    /// first, ties to the lower flat index `k·symbols + v`; dead hypotheses give `-inf`.
    private func topCandidates(scores: [Double], logProbabilities: ArraySlice<[Double]>, symbols: Int)
        -> [(score: Double, flatIndex: Int)] {
        var top: [(score: Double, flatIndex: Int)] = []
        top.reserveCapacity(beamWidth + 1)
        for (k, rowLogProbabilities) in logProbabilities.enumerated() {
            let base = scores[k]
            for v in 0..<symbols {
                let score = base + rowLogProbabilities[v]
                if top.count == beamWidth && !(score > top[beamWidth - 1].score) { continue }
                var position = top.count
                while position > 0 && score > top[position - 1].score { position -= 1 }
                top.insert((score, k * symbols + v), at: position)
                if top.count > beamWidth { top.removeLast() }
            }
        }
        while top.count < beamWidth { top.append((-Double.infinity, 0)) }
        return top
    }
}
