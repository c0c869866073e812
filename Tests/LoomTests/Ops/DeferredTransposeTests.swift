import Foundation
import Testing
@testable import Loom

/// A swap of the last two axes is deferred: a product reads it in place, and anything else
/// writes it on first read. Either way the values and gradients are those of the copy.
@Suite struct DeferredTransposeTests {
    /// The same tensor, its transpose written out (reading `scalars` writes it).
    func written<S>(_ t: Tensor<S>) -> Tensor<S> {
        _ = t.scalars
        return t
    }

    /// Products with either or both operands transposed, plain and batched (with a shared
    /// 2-D operand): the deferred operands give the bits of the written ones, for the result
    /// and for the gradients of the tensors that were transposed.
    @Test(arguments: [(false, true), (true, false), (true, true)])
    func productsOfTransposesMatchTheWrittenTransposes(transposeLeft: Bool, transposeRight: Bool) {
        var generator = RandomGenerator(seed: 3)
        for batched in [false, true] {
            let m = 7, k = 19, n = 13
            let batchShape: [Int] = batched ? [3] : []
            let leftShape = batchShape + (transposeLeft ? [k, m] : [m, k])
            let rightShape = transposeRight ? [n, k] : [k, n]
            let a = Tensor<Float>.randn(leftShape, using: &generator).requiringGrad()
            let b = Tensor<Float>.randn(rightShape, using: &generator).requiringGrad()
            let seed = Tensor<Float>.randn(batchShape + [m, n], using: &generator)
            func run(deferred: Bool) -> (output: [Float], gradA: [Float], gradB: [Float]) {
                a.zeroGrad(); b.zeroGrad()
                var left = transposeLeft ? a.transposed(-1, -2) : a
                var right = transposeRight ? b.transposed(0, 1) : b
                if !deferred { left = written(left); right = written(right) }
                if deferred {
                    #expect(left.storage.isDeferred == transposeLeft)
                    #expect(right.storage.isDeferred == transposeRight)
                }
                let output = left.matmul(right)
                (output * seed).sum().backward()
                return (output.scalars, a.grad!.scalars, b.grad!.scalars)
            }
            let fast = run(deferred: true), reference = run(deferred: false)
            #expect(fast.output == reference.output, "batched \(batched)")
            #expect(fast.gradA == reference.gradA, "batched \(batched)")
            #expect(fast.gradB == reference.gradB, "batched \(batched)")
        }
    }

    /// The product against a loop in Double over the element definitions.
    @Test func productOfATransposeIsTheProductOfTheTranspose() {
        var generator = RandomGenerator(seed: 4)
        let x = Tensor<Double>.randn([5, 6], using: &generator)
        let w = Tensor<Double>.randn([4, 6], using: &generator)
        let y = x.matmul(w.transposed(0, 1))
        for i in 0..<5 {
            for j in 0..<4 {
                let expected = (0..<6).reduce(0.0) { $0 + x[i, $1] * w[j, $1] }
                #expect(abs(y[i, j] - expected) < 1e-12)
            }
        }
    }

    /// Transposing twice gives back the original scalars without writing anything; other
    /// ops and element reads see the transposed values.
    @Test func deferredTransposesReadAsTheirValues() {
        let t = Tensor<Double>([[1, 2, 3], [4, 5, 6]])
        let transposed = t.transposed(0, 1)
        #expect(transposed.shape == [3, 2])
        let back = transposed.transposed(0, 1)
        #expect(back.storage === t.storage)
        #expect(transposed.storage.isDeferred)
        #expect((transposed + 0).scalars == [1, 4, 2, 5, 3, 6])
        #expect(transposed[2, 1] == 6)
        #expect(!transposed.storage.isDeferred)
        let batched = Tensor<Double>(shape: [2, 2, 3], scalars: (0..<12).map(Double.init)).transposed(1, 2)
        #expect(batched.scalars == [0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11])
    }

    /// Value semantics hold: writing the source after transposing, or writing the transpose,
    /// changes only the tensor written.
    @Test func writesDoNotLeakBetweenATensorAndItsTranspose() {
        var source = Tensor<Double>([[1, 2], [3, 4]])
        var transposed = source.transposed(0, 1)
        source[0, 1] = 20
        #expect(transposed.scalars == [1, 3, 2, 4])
        transposed[0, 0] = 10
        #expect(source.scalars == [1, 20, 3, 4])
        #expect(transposed.scalars == [10, 3, 2, 4])
        let other = Tensor<Double>([[1, 2], [3, 4]])
        var twice = other.transposed(0, 1).transposed(0, 1)
        twice[1, 1] = 40
        #expect(other.scalars == [1, 2, 3, 4])
    }

    /// Many threads reading one deferred transpose at once all see it written once, whole.
    @Test func concurrentFirstReadsAgree() async {
        var generator = RandomGenerator(seed: 5)
        for _ in 0..<20 {
            let source = Tensor<Float>.randn([64, 48], using: &generator)
            let transposed = source.transposed(0, 1)
            let expected = (0..<48).flatMap { j in (0..<64).map { i in source[i, j] } }
            let results = await withTaskGroup(of: [Float].self) { group in
                for _ in 0..<8 { group.addTask { transposed.scalars } }
                return await group.reduce(into: [[Float]]()) { $0.append($1) }
            }
            #expect(results.allSatisfy { $0 == expected })
        }
    }
}
