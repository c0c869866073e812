import Foundation
import Testing
@testable import Loom

/// The vectorized Float functions against libm (in Double) over the whole Float range: a sweep
/// through the bit patterns of every exponent, plus the special values. The errors are in
/// units in the last place (ulp) of the correctly rounded Float result.
@Suite struct VectorMathRangeTests {
    /// Every 4099th bit pattern of the non-negative Floats and their negatives: about 1 million
    /// values spread evenly over every binade, subnormals, infinities and NaNs included.
    static let sweep: [Float] = {
        var values: [Float] = []
        var bits: UInt32 = 0
        while bits < 0x7FC0_0000 {
            values.append(Float(bitPattern: bits))
            values.append(-Float(bitPattern: bits))
            bits &+= 4099
        }
        values += [0, -0.0, .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, 1, -1]
        while values.count % 16 != 0 { values.append(1) }
        return values
    }()

    /// The largest error in ulp of `f` on 16-lane vectors, against `reference`, over the
    /// inputs where the reference is finite and a normal Float; non-finite results must match
    /// exactly (both NaN, or the same infinity).
    func worstError(_ f: (SIMD16<Float>) -> SIMD16<Float>, _ reference: (Double) -> Double,
                    domain: (Float) -> Bool = { _ in true }) -> (ulp: Double, at: Float) {
        var worst = 0.0, at: Float = 0
        let xs = Self.sweep
        for start in stride(from: 0, to: xs.count, by: 16) {
            let v = f(SIMD16(xs[start..<start + 16]))
            for lane in 0..<16 {
                let x = xs[start + lane], got = v[lane], expected = reference(Double(x))
                if !x.isNaN && !domain(x) { continue }
                let rounded = Float(expected)
                if !rounded.isFinite || rounded.isNaN || expected.isNaN {
                    let same = (got.isNaN && expected.isNaN) || got == rounded
                    if !same { return (.infinity, x) }
                    continue
                }
                if abs(rounded) < Float.leastNormalMagnitude { continue }   // subnormal results: absolute, tested elsewhere
                let error = abs(Double(got) - expected) / Double(rounded.ulp)
                if error > worst { worst = error; at = x }
            }
        }
        return (worst, at)
    }

    @Test func logIsWithinTwoUlpEverywhere() {
        let (ulp, at) = worstError({ VectorMath.log($0) }, { Foundation.log($0) })
        #expect(ulp <= 2, "worst \(ulp) ulp at x = \(at)")
    }

    /// exp is within 2 ulp on [-87.3, 88.3] (and for ±inf, NaN); outside it flushes to 0 below
    /// (where e^x < 1.2·10⁻³⁸) and gives +inf above (where e^x > 2.2·10³⁸), as documented.
    @Test func expIsWithinTwoUlpOnItsDomainAndDocumentedOutside() {
        let (ulp, at) = worstError({ VectorMath.exp($0) }, { Foundation.exp($0) },
                                   domain: { $0.isInfinite || (-87.3...88.3).contains($0) })
        #expect(ulp <= 2, "worst \(ulp) ulp at x = \(at)")
        let edges = VectorMath.exp(SIMD4<Float>(-87.31, -100, 88.31, 1000))
        #expect(edges == SIMD4<Float>(0, 0, .infinity, .infinity))
    }

    /// sigmoid is within 4 ulp wherever its result is at least e^-87.3; below that (x < -87.3)
    /// the input is clamped, so the result is positive and at most e^-87.3 ≈ 1.22·10⁻³⁸ (an
    /// absolute error of that size at most).
    @Test func sigmoidIsWithinFourUlpOnItsDomainAndTinyBelow() {
        let (ulp, at) = worstError({ VectorMath.sigmoid($0) }, { 1 / (1 + Foundation.exp(-$0)) },
                                   domain: { $0 >= -87.3 })
        #expect(ulp <= 4, "worst \(ulp) ulp at x = \(at)")
        let below = VectorMath.sigmoid(SIMD4<Float>(-87.31, -100, -1000, -.infinity))
        #expect((0..<4).allSatisfy { below[$0] > 0 && below[$0] <= 1.2193e-38 })
    }

    @Test func tanhIsWithinFourUlpEverywhere() {
        let (ulp, at) = worstError({ VectorMath.tanh($0) }, { Foundation.tanh($0) })
        #expect(ulp <= 4, "worst \(ulp) ulp at x = \(at)")
    }

    /// The unary ops give the same bits on every path, tails included.
    @Test(arguments: [1, 7, 16, 33, 1000])
    func unaryOpsAreBitwiseTheSameOnEveryPath(count: Int) {
        var generator = RandomGenerator(seed: UInt64(count))
        let x = Tensor<Float>.randn([count], using: &generator) * 6
        let positive = x * x + 1e-3
        func run(_ path: InstructionSet) -> [[Float]] {
            InstructionSet.with(path) { [x.exp().scalars, positive.log().scalars, x.tanh().scalars, x.sigmoid().scalars] }
        }
        let reference = run(.avx2)
        for path in InstructionSet.allCases {
            #expect(run(path) == reference, "\(path)")
        }
    }
}
