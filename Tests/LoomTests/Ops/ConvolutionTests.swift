import Testing
@testable import Loom

/// `conv1d` and `maskedMax`: forward against direct loops, Double gradient checks, the
/// `Conv1d` layer's initialization and names, and the same bits for any thread count.
@Suite struct ConvolutionTests {
    func normal(_ shape: [Int], seed: UInt64) -> Tensor<Double> {
        var generator = RandomGenerator(seed: seed)
        return Tensor<Double>.randn(shape, using: &generator)
    }

    /// The convolution written as its definition.
    func directConv1d(_ x: Tensor<Double>, _ w: Tensor<Double>, _ bias: Tensor<Double>?, padding: Int) -> [Double] {
        let (batch, channels, length) = (x.shape[0], x.shape[1], x.shape[2])
        let (outChannels, kernelSize) = (w.shape[0], w.shape[2])
        let outputLength = length + 2 * padding - kernelSize + 1
        let xs = x.scalars, ws = w.scalars, bs = bias?.scalars
        var y: [Double] = []
        for b in 0..<batch {
            for o in 0..<outChannels {
                for l in 0..<outputLength {
                    var total = bs?[o] ?? 0
                    for c in 0..<channels {
                        for k in 0..<kernelSize {
                            let position = l + k - padding
                            guard position >= 0 && position < length else { continue }
                            total += ws[(o * channels + c) * kernelSize + k] * xs[(b * channels + c) * length + position]
                        }
                    }
                    y.append(total)
                }
            }
        }
        return y
    }

    /// (batch, channels, length, outChannels, kernelSize, padding, bias)
    let cases: [(Int, Int, Int, Int, Int, Int, Bool)] = [
        (2, 3, 7, 4, 3, 1, true), (1, 2, 5, 3, 1, 0, true), (3, 2, 4, 5, 3, 0, false),
        (2, 1, 2, 2, 3, 2, true), (2, 4, 9, 3, 5, 2, true), (1, 3, 1, 2, 3, 1, false),
    ]

    @Test func forwardMatchesTheDefinition() {
        for (n, c) in cases.enumerated() {
            let x = normal([c.0, c.1, c.2], seed: UInt64(n))
            let w = normal([c.3, c.1, c.4], seed: UInt64(100 + n))
            let bias = c.6 ? normal([c.3], seed: UInt64(200 + n)) : nil
            let y = conv1d(x, weight: w, bias: bias, padding: c.5)
            #expect(y.shape == [c.0, c.3, c.2 + 2 * c.5 - c.4 + 1], "case \(c)")
            let expected = directConv1d(x, w, bias, padding: c.5)
            let worst = zip(y.scalars, expected).map { abs($0 - $1) }.max() ?? 0
            #expect(worst < 1e-12, "case \(c): off by \(worst)")
        }
    }

    @Test func gradientsMatchFiniteDifferences() {
        for (n, c) in cases.enumerated() {
            var inputs = [normal([c.0, c.1, c.2], seed: UInt64(n)), normal([c.3, c.1, c.4], seed: UInt64(100 + n))]
            if c.6 { inputs.append(normal([c.3], seed: UInt64(200 + n))) }
            let report = gradientCheck(inputs) { t in
                conv1d(t[0], weight: t[1], bias: t.count == 3 ? t[2] : nil, padding: c.5).tanh()
            }
            #expect(report.passed, "case \(c): \(report)")
        }
    }

    @Test func readsATransposedInputAsItsValues() {
        // [batch, length, channels] transposed to [batch, channels, length], as a word
        // encoder feeds embeddings to the convolution.
        let embedded = normal([3, 6, 4], seed: 7)
        let x = embedded.transposed(1, 2)
        let w = normal([5, 4, 3], seed: 8)
        let y = conv1d(x, weight: w, padding: 1)
        let expected = directConv1d(x, w, nil, padding: 1)
        #expect(zip(y.scalars, expected).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test func sameBitsForAnyThreadCount() {
        var generator = RandomGenerator(seed: 3)
        let x = Tensor<Float>.randn([64, 30, 17], using: &generator).requiringGrad()
        let w = Tensor<Float>.randn([50, 30, 3], using: &generator).requiringGrad()
        let b = Tensor<Float>.randn([50], using: &generator).requiringGrad()
        func run(_ threads: Int) -> [[Float]] {
            Threads.withCount(threads) {
                x.zeroGrad(); w.zeroGrad(); b.zeroGrad()
                let y = conv1d(x, weight: w, bias: b, padding: 1)
                (y * y).sum().backward()
                return [y.scalars, x.grad!.scalars, w.grad!.scalars, b.grad!.scalars]
            }
        }
        #expect(run(1) == run(2))
    }

    @Test func layerInitializesAsPyTorchAndNamesItsParameters() {
        var generator = RandomGenerator(seed: 1)
        var layer = Conv1d<Float>(30, 50, kernelSize: 3, padding: 1, using: &generator)
        let bound: Float = 1 / (90 as Float).squareRoot()
        #expect(layer.weight.shape == [50, 30, 3] && layer.bias?.shape == [50])
        #expect(layer.weight.scalars.allSatisfy { abs($0) <= bound })
        #expect(layer.weight.scalars.contains { abs($0) > bound * 0.9 })
        #expect(layer.namedParameters().map(\.name) == ["weight", "bias"])
        #expect(layer(Tensor<Float>.zeros([2, 30, 5])).shape == [2, 50, 5])
    }

    // MARK: maskedMax

    @Test func maskedMaxTakesTheMaximumWithinEachLength() {
        let x = normal([3, 4, 6], seed: 11)
        let lengths = [6, 0, 2]
        let y = x.maskedMax(dim: 2, lengths: lengths)
        #expect(y.shape == [3, 4])
        let xs = x.scalars
        for b in 0..<3 {
            for c in 0..<4 {
                let row = Array(xs[(b * 4 + c) * 6 ..< (b * 4 + c) * 6 + lengths[b]])
                #expect(y.scalars[b * 4 + c] == (row.max() ?? 0))
            }
        }
    }

    @Test func maskedMaxOverAMiddleAxis() {
        // [batch, time, features], max over time.
        let x = normal([2, 5, 3], seed: 12)
        let y = x.maskedMax(dim: 1, lengths: [3, 5])
        let expected = x.transposed(1, 2).maskedMax(dim: 2, lengths: [3, 5])
        #expect(y.scalars == expected.scalars)
    }

    @Test func maskedMaxGradientGoesToTheArgMaxOnly() {
        let report = gradientCheck([normal([3, 2, 5], seed: 13)]) { t in
            (t[0].maskedMax(dim: -1, lengths: [5, 0, 3]) * Tensor<Double>(shape: [3, 2], scalars: [1, -2, 3, 4, -5, 6])).sum()
        }
        #expect(report.passed, "\(report)")
        let x = Tensor<Double>(shape: [2, 1, 4], scalars: [1, 3, 3, 9, 2, 7, 1, 8]).requiringGrad()
        x.maskedMax(dim: 2, lengths: [3, 0]).sum().backward()
        // First of the tied maxima inside the length (index 1); position 3 is past it; the
        // empty row gets nothing.
        #expect(x.grad!.scalars == [0, 1, 0, 0, 0, 0, 0, 0])
    }

    @Test func maskedMaxPropagatesNaN() {
        let x = Tensor<Float>(shape: [1, 1, 3], scalars: [1, .nan, 5])
        #expect(x.maskedMax(dim: 2, lengths: [3]).scalars[0].isNaN)
        #expect(x.maskedMax(dim: 2, lengths: [1]).scalars == [1])
    }
}
