import Testing
@testable import Loom

/// The middle-axis sum (bias gradients, `sum(dim:)`) adds each element's terms in the order
/// of the middle index, whatever the width: the same bits as a plain loop.
@Suite struct ReductionKernelTests {
    func check<S: TensorScalar>(_: S.Type, outer: Int, length: Int, inner: Int) -> Bool {
        var generator = RandomGenerator(seed: UInt64(outer * 1000 + length * 10 + inner))
        let x = (0..<(outer * length * inner)).map { _ in S(generator.nextUnit() * 2 - 1) }
        var expected = [S](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var total: S = 0
                for l in 0..<length { total += x[(o * length + l) * inner + i] }
                expected[o * inner + i] = total
            }
        }
        var result = [S](repeating: .nan, count: outer * inner)
        x.withUnsafeBufferPointer { x in
            result.withUnsafeMutableBufferPointer { out in
                Kernels.sumMiddleAxis(x.baseAddress!, outer: outer, length: length, inner: inner, out.baseAddress!)
            }
        }
        return result == expected
    }

    @Test func middleAxisSumsAddInRowOrder() {
        for (outer, length, inner) in [(1, 37, 512), (2, 5, 70), (3, 1, 1), (1, 0, 64), (2, 9, 7), (1, 100, 129)] {
            #expect(check(Float.self, outer: outer, length: length, inner: inner), "Float \(outer) x \(length) x \(inner)")
            #expect(check(Double.self, outer: outer, length: length, inner: inner), "Double \(outer) x \(length) x \(inner)")
        }
    }
}
