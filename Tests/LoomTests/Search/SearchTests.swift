import Foundation
import Testing
import Loom

/// A toy decoder over 4 symbols whose next-symbol logits depend on the item and on the
/// whole prefix, so every branch of a search tree scores differently. Symbol 3 ends.
private struct ToyDecoder {
    static let symbols = 4
    static let end = 3
    static let start = 0

    /// The state of each row: its item and the symbols produced so far.
    struct State {
        var items: [Int]
        var prefixes: [[Int]]
        var started = false
    }

    static func logits(item: Int, prefix: [Int]) -> [Double] {
        var mix = Double(item * 13 + 5)
        for (i, p) in prefix.enumerated() { mix += Double((i + 1) * (p + 2) * 31) }
        return (0..<symbols).map { v in 2.5 * Foundation.sin(mix * 0.37 + Double(v * 7)) + (v == end ? -0.3 : 0) }
    }

    static func logProbability(item: Int, prefix: [Int], symbol: Int) -> Double {
        let row = logits(item: item, prefix: prefix)
        let top = row.max()!
        return row[symbol] - top - Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - top) })
    }

    static func step(_ previous: IntTensor, _ state: State) -> (logits: Tensor<Double>, state: State) {
        var next = state
        var values: [Double] = []
        for row in 0..<state.items.count {
            if state.started { next.prefixes[row].append(previous.scalars[row]) }
            values += logits(item: state.items[row], prefix: next.prefixes[row])
        }
        next.started = true
        return (Tensor(shape: [state.items.count, symbols], scalars: values), next)
    }

    static func select(_ state: State, _ rows: IntTensor) -> State {
        State(items: rows.scalars.map { state.items[$0] }, prefixes: rows.scalars.map { state.prefixes[$0] }, started: state.started)
    }

    /// The best finished sequence of at most `maxSteps` steps (the end symbol's included),
    /// by enumerating every one.
    static func exhaustive(item: Int, maxSteps: Int) -> (symbols: [Int], score: Double) {
        var best: (symbols: [Int], score: Double) = ([], -.infinity)
        func walk(_ prefix: [Int], _ score: Double) {
            let ended = score + logProbability(item: item, prefix: prefix, symbol: end)
            if ended > best.score { best = (prefix, ended) }
            guard prefix.count + 1 < maxSteps else { return }
            for symbol in 0..<symbols where symbol != end {
                walk(prefix + [symbol], score + logProbability(item: item, prefix: prefix, symbol: symbol))
            }
        }
        walk([], 0)
        return best
    }
}

@Suite struct SearchTests {
    private let items = [0, 1, 2, 3, 4, 5, 6, 7]
    private var initial: ToyDecoder.State { ToyDecoder.State(items: items, prefixes: items.map { _ in [] }) }

    @Test func aWideBeamFindsTheExhaustiveBest() throws {
        let maxSteps = [1, 2, 3, 4, 5, 5, 4, 5]
        let search = BeamSearch(beamWidth: 400, startSymbol: ToyDecoder.start, endSymbol: ToyDecoder.end)
        let results = search(maxSteps: maxSteps, initialState: initial, selectRows: ToyDecoder.select, step: ToyDecoder.step)
        for (index, item) in items.enumerated() {
            let expected = ToyDecoder.exhaustive(item: item, maxSteps: maxSteps[index])
            #expect(results[index].finished)
            #expect(results[index].symbols == expected.symbols, "item \(item)")
            #expect(Swift.abs(results[index].score - expected.score) < 1e-12)
        }
        // Some item's best is not its greedy path, so the comparison has teeth.
        let greedy = GreedySearch(startSymbol: ToyDecoder.start, endSymbol: ToyDecoder.end)
        let greedyResults = greedy(maxSteps: maxSteps, initialState: initial, step: ToyDecoder.step)
        #expect(zip(greedyResults, results).contains { $0.symbols != $1.symbols })
    }

    @Test func beamWidthOneIsGreedy() {
        let maxSteps = [6, 1, 3, 8, 2, 7, 5, 6]
        let beam = BeamSearch(beamWidth: 1, startSymbol: ToyDecoder.start, endSymbol: ToyDecoder.end)
        let greedy = GreedySearch(startSymbol: ToyDecoder.start, endSymbol: ToyDecoder.end)
        let a = beam(maxSteps: maxSteps, initialState: initial, selectRows: ToyDecoder.select, step: ToyDecoder.step)
        let b = greedy(maxSteps: maxSteps, initialState: initial, step: ToyDecoder.step)
        #expect(a.map(\.symbols) == b.map(\.symbols))
        #expect(a.map(\.finished) == b.map(\.finished))
        for (x, y) in zip(a, b) { #expect(Swift.abs(x.score - y.score) < 1e-12) }
    }

    @Test func greedyFollowsTheArgmaxAndStopsAtTheLimit() {
        let maxSteps = [3, 3, 3, 3, 3, 3, 3, 3]
        let greedy = GreedySearch(startSymbol: ToyDecoder.start, endSymbol: ToyDecoder.end)
        let results = greedy(maxSteps: maxSteps, initialState: initial, step: ToyDecoder.step)
        for (index, item) in items.enumerated() {
            var prefix: [Int] = []
            var score = 0.0
            var finished = false
            for _ in 0..<3 {
                let row = ToyDecoder.logits(item: item, prefix: prefix)
                let symbol = row.firstIndex(of: row.max()!)!
                score += ToyDecoder.logProbability(item: item, prefix: prefix, symbol: symbol)
                if symbol == ToyDecoder.end { finished = true; break }
                prefix.append(symbol)
            }
            #expect(results[index].symbols == prefix && results[index].finished == finished)
            #expect(Swift.abs(results[index].score - score) < 1e-12)
            #expect(results[index].symbols.count <= 3)
        }
    }

    @Test func aNarrowBeamReturnsConsistentScoresWithinTheLimit() {
        let maxSteps = [4, 5, 6, 7, 4, 5, 6, 0]
        let beam = BeamSearch(beamWidth: 3, startSymbol: ToyDecoder.start, endSymbol: ToyDecoder.end)
        let results = beam(maxSteps: maxSteps, initialState: initial, selectRows: ToyDecoder.select, step: ToyDecoder.step)
        #expect(results[7] == SearchResult(symbols: [], score: 0, finished: false))
        for (index, item) in items.enumerated().dropLast() {
            let result = results[index]
            var prefix: [Int] = []
            var score = 0.0
            for symbol in result.symbols {
                score += ToyDecoder.logProbability(item: item, prefix: prefix, symbol: symbol)
                prefix.append(symbol)
            }
            if result.finished { score += ToyDecoder.logProbability(item: item, prefix: prefix, symbol: ToyDecoder.end) }
            #expect(Swift.abs(result.score - score) < 1e-12)
            #expect(result.symbols.count + (result.finished ? 1 : 0) <= maxSteps[index])
            #expect(!result.symbols.contains(ToyDecoder.end))
        }
    }

    @Test func hypothesisRowsRepeatEachItem() {
        let beam = BeamSearch(beamWidth: 3, startSymbol: 0, endSymbol: 1)
        #expect(beam.hypothesisRows(items: 2).scalars == [0, 0, 0, 1, 1, 1])
    }
}
