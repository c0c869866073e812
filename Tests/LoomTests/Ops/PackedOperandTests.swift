import Testing
@testable import Loom

/// A weight multiplied again and again is packed once and kept with its storage; the kept
/// form gives the bits of a fresh packing and is dropped when the weight is written.
@Suite struct PackedOperandTests {
    /// `x · op(w)` with a fresh copy of w (nothing kept) as the reference.
    func reference(_ x: Tensor<Float>, _ w: Tensor<Float>, transposed: Bool) -> [Float] {
        let copy = Tensor(shape: w.shape, scalars: w.scalars)
        return (transposed ? x.matmul(copy.transposed(0, 1)) : x.matmul(copy)).scalars
    }

    @Test(arguments: [false, true])
    func keptFormsGiveTheBitsOfAFreshPacking(transposed: Bool) {
        var generator = RandomGenerator(seed: 6)
        let x = Tensor<Float>.randn([9, 70], using: &generator)
        let w = Tensor<Float>.randn(transposed ? [33, 70] : [70, 33], using: &generator)
        let expected = reference(x, w, transposed: transposed)
        for use in 0..<4 {
            let y = transposed ? x.matmul(w.transposed(0, 1)) : x.matmul(w)
            #expect(y.scalars == expected, "use \(use)")
        }
        #expect(w.storage.packedForms.withLock { $0.entries.count } == 1)
    }

    /// Writing the weight in place (as an optimizer does) drops the kept form, so the next
    /// product sees the new values; on every path.
    @Test(arguments: InstructionSet.allCases)
    func writesInPlaceDropTheKeptForm(path: InstructionSet) {
        InstructionSet.with(path) {
            var generator = RandomGenerator(seed: 7)
            let x = Tensor<Float>.randn([5, 40], using: &generator)
            var parameters = [Tensor<Float>.randn([24, 40], using: &generator).requiringGrad()]
            for _ in 0..<3 { _ = x.matmul(parameters[0].transposed(0, 1)) }
            parameters[0].withUnsafeMutableBufferPointer { $0[7] += 1; $0[100] = -3 }
            #expect(x.matmul(parameters[0].transposed(0, 1)).scalars == reference(x, parameters[0], transposed: true))
            // A training step: gradient through the kept form, SGD writes w in place.
            var optimizer = SGD<Float>(learningRate: 0.5)
            for _ in 0..<3 {
                parameters[0].zeroGrad()
                x.matmul(parameters[0].transposed(0, 1)).tanh().sum().backward()
                optimizer.step(&parameters)
                let w = parameters[0]
                #expect(x.matmul(w.transposed(0, 1)).scalars == reference(x, w, transposed: true))
            }
        }
    }
}
