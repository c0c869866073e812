import Foundation
import Testing
@testable import Loom

/// The vectorized Float exp/sigmoid/tanh of the fused kernels against libm.
@Suite struct VectorMathTests {
    /// Inputs across the useful range, dense near zero, plus extremes. Results below 1e-30
    /// (where Float is denormal) are compared absolutely.
    var inputs: [Float] {
        var values: [Float] = [0, -0.0, 1e-8, -1e-8, 1e-3, -1e-3, 0.1249, 0.1251, -0.1251, 88, -88, -87.2, -100, 100, 1000, -1000]
        var generator = RandomGenerator(seed: 5)
        for _ in 0..<4000 { values.append(Float(generator.nextNormal() * 6)) }
        for _ in 0..<1000 { values.append(Float(generator.nextUnit() * 0.5 - 0.25)) }
        while values.count % 8 != 0 { values.append(0.5) }
        return values
    }

    func check(_ f: (SIMD8<Float>) -> SIMD8<Float>, _ reference: (Double) -> Double, tolerance: Double, relative: Bool) {
        let xs = inputs
        var worst = 0.0, at: Float = 0
        for start in stride(from: 0, to: xs.count, by: 8) {
            let v = f(SIMD8(xs[start..<start + 8]))
            for lane in 0..<8 {
                let expected = reference(Double(xs[start + lane]))
                let got = Double(v[lane])
                if expected.isInfinite { #expect(got == expected); continue }
                let error = Swift.abs(got - expected) / (relative ? Swift.max(Swift.abs(expected), 1e-30) : 1)
                if error > worst { worst = error; at = xs[start + lane] }
            }
        }
        #expect(worst <= tolerance, "worst error \(worst) at x = \(at)")
    }

    @Test func expIsWithinAFewUlps() {
        check(VectorMath.exp, { Foundation.exp($0) > Double(Float.greatestFiniteMagnitude) ? .infinity : Foundation.exp($0) }, tolerance: 4e-7, relative: true)
    }

    @Test func sigmoidIsAccurate() {
        check(VectorMath.sigmoid, { 1 / (1 + Foundation.exp(-$0)) }, tolerance: 4e-7, relative: true)
    }

    @Test func tanhIsAccurate() {
        check(VectorMath.tanh, { Foundation.tanh($0) }, tolerance: 6e-7, relative: false)
        check(VectorMath.tanh, { Foundation.tanh($0) }, tolerance: 2e-6, relative: true)
    }

    @Test func nanPropagates() {
        let v = VectorMath.tanh(SIMD8<Float>(repeating: .nan))
        #expect(v[0].isNaN)
        #expect(VectorMath.sigmoid(SIMD8<Float>(repeating: .nan))[3].isNaN)
    }
}

/// Every vector width computes the same bits, lane for lane.
@Suite struct VectorMathWidthTests {
    func lanes(_ seed: UInt64) -> [Float] {
        var generator = RandomGenerator(seed: seed)
        var values: [Float] = [0, -0.0, .nan, .infinity, -.infinity, 1e-8, -88, 88.5, -100, 1e-30, 3, -3, 0.5, -0.5, 20, -20]
        for _ in 0..<(4096 - values.count) { values.append(Float(generator.nextNormal() * 8)) }
        return values
    }

    func apply<V: SIMD>(_ f: (V) -> V, to xs: [Float]) -> [UInt32] where V.Scalar == Float {
        var out: [UInt32] = []
        for start in stride(from: 0, to: xs.count, by: V.scalarCount) {
            let v = f(V(xs[start..<start + V.scalarCount]))
            for lane in 0..<V.scalarCount { out.append(v[lane].bitPattern) }
        }
        return out
    }

    @Test(arguments: ["exp", "sigmoid", "tanh"])
    func widthsAgreeBitwise(function: String) {
        let xs = lanes(17)
        func run<V: SIMD>(_: V.Type) -> [UInt32] where V.Scalar == Float {
            switch function {
            case "exp": return apply({ (v: V) in VectorMath.exp(v) }, to: xs)
            case "sigmoid": return apply({ (v: V) in VectorMath.sigmoid(v) }, to: xs)
            default: return apply({ (v: V) in VectorMath.tanh(v) }, to: xs)
            }
        }
        let four = run(SIMD4<Float>.self), eight = run(SIMD8<Float>.self), sixteen = run(SIMD16<Float>.self)
        #expect(four == eight)
        #expect(eight == sixteen)
    }
}

/// The ReLU gradient mask: `select(_:wherePositive:otherwise:)` keeps `chosen` exactly where
/// `x > 0` (not at 0, -0, negative values or NaN), at every `Float` width and for `Double`, and
/// the captured step's ReLU gradient kernel gives each element, in its vector body and its
/// tail, the bits of its one-element formula `v > 0 ? g : 0`.
@Suite struct ReluMaskTests {
    let x: [Float] = [1, 0, -0.0, -1, .nan, .infinity, -.infinity, 1e-40, -1e-40, 3, -3, .leastNonzeroMagnitude, 0.5, -0.5, 2, -2]

    func masked<V: SIMD>(_: V.Type) -> [Float] where V.Scalar == Float {
        var out: [Float] = []
        for start in stride(from: 0, to: x.count, by: V.scalarCount) {
            let chosen = V((0..<V.scalarCount).map { Float(start + $0 + 10) })
            let v = VectorMath.select(chosen, wherePositive: V(x[start..<start + V.scalarCount]), otherwise: V(repeating: -7))
            for lane in 0..<V.scalarCount { out.append(v[lane]) }
        }
        return out
    }

    @Test func selectKeepsExactlyThePositiveLanes() {
        let expected = x.indices.map { x[$0] > 0 ? Float($0 + 10) : -7 }
        #expect(masked(SIMD4<Float>.self) == expected)
        #expect(masked(SIMD8<Float>.self) == expected)
        #expect(masked(SIMD16<Float>.self) == expected)
        let doubles = VectorMath.select(SIMD8<Double>(repeating: 5), wherePositive: SIMD8<Double>(x[0..<8].map(Double.init)),
                                        otherwise: SIMD8<Double>(repeating: 0))
        #expect((0..<8).map { doubles[$0] } == x[0..<8].map { $0 > 0 ? 5 : 0 })
    }

    @Test(arguments: [5, 16, 21, 40]) func stepReluGradientMatchesTheElementFormula(count: Int) {
        var generator = RandomGenerator(seed: UInt64(count))
        let g = (0..<count).map { _ in Float(generator.nextNormal()) }
        let v = (0..<count).map { i in i % 5 == 0 ? (i % 10 == 0 ? 0 : -0.0) : Float(generator.nextNormal()) }
        for overwrite in [true, false] {
            var y = [Float](repeating: 0.25, count: count)
            Kernels.accumulateUnaryGradient(.relu, g, output: v, input: v, into: &y, count: count, overwrite: overwrite)
            for i in 0..<count {
                let gradient: Float = v[i] > 0 ? g[i] : 0
                #expect(y[i] == (overwrite ? gradient : 0.25 + gradient), "element \(i) of \(count), overwrite \(overwrite)")
            }
        }
    }
}
