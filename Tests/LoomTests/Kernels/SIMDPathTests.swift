import Testing
@testable import Loom

/// Every SIMD path (the 16-, 8- and 4-lane instantiations of the same kernels, with their own
/// register tiles) computes the same bits: the products and everything built on them.
@Suite struct SIMDPathTests {
    /// Every path, including `neon`'s tile (plain Swift SIMD code, so it runs here too).
    static let paths = InstructionSet.allCases

    func values<S: TensorScalar>(_ count: Int, seed: UInt64, as _: S.Type) -> [S] {
        var generator = RandomGenerator(seed: seed)
        return (0..<count).map { _ in S(generator.nextNormal()) }
    }

    /// C = op(A)·op(B) (or C += ...) on `path`, from fixed operands.
    func product<S: TensorScalar>(_: S.Type, path: InstructionSet, transposeA: Bool, transposeB: Bool,
                                  m: Int, n: Int, k: Int, accumulate: Bool, threads: Int) -> [S] {
        let a = values(m * k, seed: 1, as: S.self), b = values(k * n, seed: 2, as: S.self)
        var c = values(m * n, seed: 3, as: S.self)
        InstructionSet.with(path) {
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        Kernels.gemmParallel(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                                             a.baseAddress!, lda: transposeA ? m : k, b.baseAddress!, ldb: transposeB ? k : n,
                                             c.baseAddress!, ldc: n, accumulate: accumulate, threads: threads)
                    }
                }
            }
        }
        return c
    }

    @Test(arguments: [(1, 1, 1), (7, 70, 33), (13, 129, 300), (64, 512, 128), (100, 37, 513)])
    func gemmIsBitwiseTheSameOnEveryPath(shape: (Int, Int, Int)) {
        let (m, n, k) = shape
        for (transposeA, transposeB) in [(false, false), (false, true), (true, false), (true, true)] {
            for accumulate in [false, true] {
                let threads = m * n * k > Kernels.gemmParallelThreshold ? 2 : 1
                let float = Self.paths.map { product(Float.self, path: $0, transposeA: transposeA, transposeB: transposeB,
                                                     m: m, n: n, k: k, accumulate: accumulate, threads: threads) }
                let double = Self.paths.map { product(Double.self, path: $0, transposeA: transposeA, transposeB: transposeB,
                                                      m: m, n: n, k: k, accumulate: accumulate, threads: threads) }
                for index in 1..<Self.paths.count {
                    #expect(float[index] == float[0], "Float \(Self.paths[index]) vs \(Self.paths[0]), m\(m) n\(n) k\(k)")
                    #expect(double[index] == double[0], "Double \(Self.paths[index]) vs \(Self.paths[0]), m\(m) n\(n) k\(k)")
                }
            }
        }
    }

    @Test func prepackedProductsMatchOnEveryPath() {
        let (m, n, k) = (21, 200, 130)
        let a = values(m * k, seed: 4, as: Float.self), w = values(n * k, seed: 5, as: Float.self)
        var results: [[Float]] = []
        for path in Self.paths {
            InstructionSet.with(path) {
                var c = [Float](repeating: 0, count: m * n)
                w.withUnsafeBufferPointer { w in
                    let packed = GemmPackedB(w.baseAddress!, ldb: k, transposed: true, k: k, n: n)
                    #expect(packed.path == path)
                    a.withUnsafeBufferPointer { a in
                        c.withUnsafeMutableBufferPointer { c in
                            Kernels.gemmPrepacked(transposeA: false, m: m, a.baseAddress!, lda: k, packed, c.baseAddress!,
                                                  ldc: n, accumulate: false, threads: 1)
                        }
                    }
                }
                results.append(c)
            }
        }
        for index in 1..<results.count { #expect(results[index] == results[0]) }
    }

    /// A training step of a stacked bidirectional LSTM with dropout over variable lengths gives
    /// bitwise the same outputs and gradients on every path and for one and two threads.
    @Test func trainingStepIsBitwiseTheSameOnEveryPathAndThreadCount() {
        func step(path: InstructionSet, threads: Int) -> [[Float]] {
            InstructionSet.with(path) {
                Threads.withCount(threads) {
                    var generator = RandomGenerator(seed: 8)
                    let layer = LSTM<Float>(inputSize: 24, hiddenSize: 40, numLayers: 2, batchFirst: true, dropout: 0.3,
                                            bidirectional: true, using: &generator)
                    let gru = GRU<Float>(inputSize: 80, hiddenSize: 20, batchFirst: true, using: &generator)
                    let x = Tensor<Float>.randn([6, 9, 24], using: &generator).requiringGrad()
                    let lengths = [9, 3, 7, 0, 9, 5]
                    let first = try! layer.forward(x, lengths: lengths, using: &generator)
                    let second = try! gru.forward(first.output, lengths: lengths, using: &generator)
                    (second.output.tanh().sum() + first.hN.sigmoid().sum()).backward()
                    return [first.output.scalars, second.output.scalars, x.grad!.scalars]
                        + (layer.parameters() + gru.parameters()).map { $0.grad!.scalars }
                }
            }
        }
        let reference = step(path: .avx2, threads: 1)
        for path in Self.paths {
            for threads in [1, 2] where !(path == .avx2 && threads == 1) {
                #expect(step(path: path, threads: threads) == reference, "\(path), \(threads) threads")
            }
        }
    }
}
