import Testing
@testable import Loom

/// The gradient of a `narrow` (or a chunk) is zero outside its range, and adding it to
/// another gradient touches only that range: the sums must be those of dense addition.
@Suite struct SliceGradientAccumulationTests {
    @Test func chunkGradientsAddOnlyTheirRange() {
        var generator = RandomGenerator(seed: 21)
        let x = Tensor<Double>.randn([3, 8], using: &generator).requiringGrad()
        let weights = (0..<4).map { _ in Tensor<Double>.randn([3, 2], using: &generator) }
        let parts = x.chunk(4, dim: 1)
        var loss = (x * x).sum()
        for (part, weight) in zip(parts, weights) { loss = loss + (part * weight).sum() }
        loss = loss + (parts[1] * 3).sum()
        loss.backward()
        let xs = x.scalars, grad = x.grad!.scalars
        for i in 0..<3 {
            for j in 0..<8 {
                let expected = 2 * xs[i * 8 + j] + weights[j / 2].scalars[i * 2 + j % 2] + (j / 2 == 1 ? 3 : 0)
                #expect(abs(grad[i * 8 + j] - expected) <= 1e-12, "[\(i), \(j)]: \(grad[i * 8 + j]) vs \(expected)")
            }
        }
    }

    @Test func aRangeGradientPassedOnUnchangedStaysCorrect() {
        // x's only gradient is a narrow's (zero outside columns 2..<5); add's backward hands
        // it on to a and b as it is, and a already holds a dense gradient.
        var generator = RandomGenerator(seed: 22)
        let a = Tensor<Double>.randn([2, 6], using: &generator).requiringGrad()
        let b = Tensor<Double>.randn([2, 6], using: &generator).requiringGrad()
        let x = a + b
        let loss = (a * 2).sum() + (x.narrow(dim: 1, start: 2, length: 3) * 5).sum()
        loss.backward(retainGraph: true)
        let inRange = { (j: Int) in j >= 2 && j < 5 }
        for j in 0..<12 {
            #expect(a.grad!.scalars[j] == 2 + (inRange(j % 6) ? 5 : 0), "a[\(j)]")
            #expect(b.grad!.scalars[j] == (inRange(j % 6) ? 5 : 0), "b[\(j)]")
        }
        // A second backward adds to the leaves' gradients: only the dense path is right here
        // if the range hint was dropped when a's gradient was written in place.
        let again = (x.narrow(dim: 1, start: 0, length: 2) * 7).sum() + (b * 1).sum()
        again.backward()
        for j in 0..<12 {
            #expect(a.grad!.scalars[j] == 2 + (inRange(j % 6) ? 5 : 0) + (j % 6 < 2 ? 7 : 0), "a[\(j)] after the second")
            #expect(b.grad!.scalars[j] == (inRange(j % 6) ? 5 : 0) + (j % 6 < 2 ? 7 : 0) + 1, "b[\(j)] after the second")
        }
    }
}
