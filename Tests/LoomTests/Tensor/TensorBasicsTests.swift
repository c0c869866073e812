import Testing
@testable import Loom

@Suite struct TensorBasicsTests {
    @Test func creationFunctions() {
        #expect(Tensor<Float>.zeros([2, 3]).scalars == [Float](repeating: 0, count: 6))
        #expect(Tensor<Double>.full([2], 7).scalars == [7, 7])
        #expect(Tensor<Double>.arange(0, 5, step: 2).scalars == [0, 2, 4])
        #expect(Tensor<Double>.arange(5).shape == [5])
        #expect(Tensor<Double>.eye(2).scalars == [1, 0, 0, 1])
        #expect(Tensor<Double>(3.5).shape == [] && Tensor<Double>(3.5).item == 3.5)
        #expect(Tensor<Float>([[1, 2], [3, 4]])[1, 0] == 3)
    }

    @Test func valueSemantics() {
        let a = Tensor<Double>([1, 2, 3])
        var b = a
        b[0] = 10
        #expect(a.scalars == [1, 2, 3])
        #expect(b.scalars == [10, 2, 3])
    }

    @Test func seededRandomTensorsAreReproducibleAndPlausible() {
        var g1 = RandomGenerator(seed: 42), g2 = RandomGenerator(seed: 42), g3 = RandomGenerator(seed: 43)
        let a = Tensor<Double>.randn([1000], using: &g1)
        #expect(a.scalars == Tensor<Double>.randn([1000], using: &g2).scalars)
        #expect(a.scalars != Tensor<Double>.randn([1000], using: &g3).scalars)
        let mean = a.mean().item, variance = ((a - mean) * (a - mean)).mean().item
        #expect(Swift.abs(mean) < 0.1 && Swift.abs(variance - 1) < 0.15)
        let u = Tensor<Double>.uniform([1000], low: -2, high: 3, using: &g1)
        #expect(u.scalars.allSatisfy { $0 >= -2 && $0 < 3 })
        let bern = Tensor<Double>.bernoulli([1000], p: 0.3, using: &g1)
        #expect(Set(bern.scalars).isSubset(of: [0, 1]))
        #expect(Swift.abs(bern.mean().item - 0.3) < 0.06)
    }

    @Test func printingIsReadable() {
        #expect(Tensor<Float>([[1, 2], [3, 4]]).description == "tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]])")
        #expect(Tensor<Double>([0.5]).requiringGrad().description == "tensor([0.5000], requiresGrad: true, dtype: float64)")
        #expect(Tensor<Float>(Array(repeating: 1, count: 20)).description.contains("..."))
        #expect(IntTensor([1, 2]).description == "tensor([1, 2])")
    }
}
