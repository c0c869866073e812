import Testing
@testable import Loom

/// `layerNorm` and `LayerNorm`: forward against the definition, Double gradient checks with
/// and without the affine map, PyTorch's initialization and names.
@Suite struct LayerNormTests {
    func normal(_ shape: [Int], seed: UInt64, scale: Double = 1) -> Tensor<Double> {
        var generator = RandomGenerator(seed: seed)
        return Tensor<Double>.randn(shape, using: &generator) * Tensor(scale)
    }

    @Test func forwardMatchesTheDefinition() {
        for (n, width) in [1, 3, 8, 17, 40].enumerated() {
            let x = normal([2, 3, width], seed: UInt64(n), scale: 3) + Tensor(5)
            let w = normal([width], seed: UInt64(10 + n)), b = normal([width], seed: UInt64(20 + n))
            let y = layerNorm(x, weight: w, bias: b, eps: 1e-5)
            let xs = x.scalars
            var worst = 0.0
            for r in 0..<6 {
                let row = Array(xs[r * width ..< (r + 1) * width])
                let mean = row.reduce(0, +) / Double(width)
                let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(width)
                for i in 0..<width {
                    let expected = (row[i] - mean) / (variance + 1e-5).squareRoot() * w.scalars[i] + b.scalars[i]
                    worst = max(worst, abs(y.scalars[r * width + i] - expected))
                }
            }
            #expect(worst < 1e-12, "width \(width): off by \(worst)")
        }
    }

    @Test func gradientsMatchFiniteDifferences() {
        for width in [1, 5, 19] {
            let inputs = [normal([3, width], seed: 1), normal([width], seed: 2), normal([width], seed: 3)]
            let upstream = normal([3, width], seed: 4)
            let affine = gradientCheck(inputs) { t in (layerNorm(t[0], weight: t[1], bias: t[2]) * upstream).sum() }
            #expect(affine.passed, "width \(width), affine: \(affine)")
            let plain = gradientCheck([inputs[0]]) { t in (layerNorm(t[0]) * upstream).sum() }
            #expect(plain.passed, "width \(width): \(plain)")
        }
    }

    @Test func floatRowsAreNormalized() {
        var generator = RandomGenerator(seed: 9)
        let x = Tensor<Float>.randn([4, 128], using: &generator) * Tensor(100) + Tensor(1000)
        let y = layerNorm(x).scalars
        for r in 0..<4 {
            let row = y[r * 128 ..< (r + 1) * 128]
            let mean = row.reduce(0, +) / 128
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 128
            #expect(abs(mean) < 1e-4 && abs(variance - 1) < 1e-3)
        }
    }

    @Test func layerInitializesAsPyTorch() {
        let layer = LayerNorm<Float>(6)
        #expect(layer.weight?.scalars == [Float](repeating: 1, count: 6))
        #expect(layer.bias?.scalars == [Float](repeating: 0, count: 6))
        #expect(layer.namedParameters().map(\.name) == ["weight", "bias"])
        #expect(layer(Tensor<Float>.ones([2, 6])).scalars.allSatisfy { $0 == 0 })
        let plain = LayerNorm<Float>(6, elementwiseAffine: false)
        #expect(plain.namedParameters().isEmpty)
    }
}
