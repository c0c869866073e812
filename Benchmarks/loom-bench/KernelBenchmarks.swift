import Foundation
import Loom

// Kernel microbenchmarks (`loom-bench --kernels`): the matrix multiply at 512³ and at the
// shapes a recurrent layer produces, with the percentage of the core's FMA peak.

/// One matrix product shape: C[m, n] = op(A)[m, k] · op(B)[k, n].
struct GemmShape {
    let name: String
    let transposeA: Bool
    let transposeB: Bool
    let m: Int, n: Int, k: Int
    /// Through `Tensor<Float>.matmul` (a generic call from this client module) rather than
    /// `Kernels.gemm`, to show the generic path runs the same specialized code.
    var throughTensor = false
    /// Through `Kernels.gemmPrepacked` with B packed once beforehand, as a recurrent layer
    /// multiplies its states by `W_hh` at every step.
    var prepacked = false

    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
    var label: String {
        "\(transposeA ? "T" : "N")\(transposeB ? "T" : "N") \(m)x\(n)x\(k)"
    }

    static let all: [GemmShape] = [
        GemmShape(name: "gemm-512", transposeA: false, transposeB: false, m: 512, n: 512, k: 512),
        GemmShape(name: "gemm-512-nt", transposeA: false, transposeB: true, m: 512, n: 512, k: 512),
        GemmShape(name: "gemm-512-tn", transposeA: true, transposeB: false, m: 512, n: 512, k: 512),
        GemmShape(name: "matmul-512", transposeA: false, transposeB: false, m: 512, n: 512, k: 512, throughTensor: true),
        // An LSTM step at B64 H256: [batch, hidden] · [hidden, 4 hidden], and its backward:
        // dX = dY · Wᵀ, dW = Xᵀ · dY.
        GemmShape(name: "rnn-64x256x1024", transposeA: false, transposeB: false, m: 64, n: 1024, k: 256),
        GemmShape(name: "rnn-64x256x1024-nt", transposeA: false, transposeB: true, m: 64, n: 1024, k: 256),
        GemmShape(name: "rnn-64x256x1024-bwd-dx", transposeA: false, transposeB: true, m: 64, n: 256, k: 1024),
        GemmShape(name: "rnn-64x256x1024-bwd-dw", transposeA: true, transposeB: false, m: 256, n: 1024, k: 64),
        GemmShape(name: "matmul-64x256x1024", transposeA: false, transposeB: false, m: 64, n: 1024, k: 256, throughTensor: true),
        // lstm-tiny-like: [16, 32] · [32, 128], and its backward.
        GemmShape(name: "rnn-16x32x128", transposeA: false, transposeB: false, m: 16, n: 128, k: 32),
        GemmShape(name: "rnn-16x32x128-nt", transposeA: false, transposeB: true, m: 16, n: 128, k: 32),
        GemmShape(name: "rnn-16x32x128-bwd-dx", transposeA: false, transposeB: true, m: 16, n: 32, k: 128),
        GemmShape(name: "rnn-16x32x128-bwd-dw", transposeA: true, transposeB: false, m: 32, n: 128, k: 16),
        // The recurrent step against a prepacked W_hh: lstm-medium (W_hh 1 MB) and lstm-large
        // (W_hh 4 MB, more than a core's L2 on most CPUs).
        GemmShape(name: "step-64x256x1024", transposeA: false, transposeB: true, m: 64, n: 1024, k: 256, prepacked: true),
        GemmShape(name: "step-32x512x2048", transposeA: false, transposeB: true, m: 32, n: 2048, k: 512, prepacked: true),
        GemmShape(name: "step-32x512x512", transposeA: false, transposeB: true, m: 32, n: 512, k: 512, prepacked: true),
        // lstm-tiny's step (K = 32: each tile's sum is 32 multiply-adds long).
        GemmShape(name: "step-16x32x128", transposeA: false, transposeB: true, m: 16, n: 128, k: 32, prepacked: true),
        // lstm-small's step, and its input projection a chunk of 4 steps at a time (prepacked W_ih).
        GemmShape(name: "step-32x128x512", transposeA: false, transposeB: true, m: 32, n: 512, k: 128, prepacked: true),
        GemmShape(name: "proj-128x64x512", transposeA: false, transposeB: true, m: 128, n: 512, k: 64, prepacked: true),
        GemmShape(name: "proj-1600x64x512", transposeA: false, transposeB: true, m: 1600, n: 512, k: 64, prepacked: true),
        // lstm-small's step backward: dh = dGates · W_hh (K = 4H = 512, N = H = 128).
        GemmShape(name: "dh-32x512x128", transposeA: false, transposeB: false, m: 32, n: 128, k: 512, prepacked: true),
        // Weight gradients dW = dGatesᵀ · X over all packed rows: lstm-tiny's (one tile of
        // columns), lstm-small's dW_ih and dW_hh.
        GemmShape(name: "wgrad-128x560x32", transposeA: true, transposeB: false, m: 128, n: 32, k: 560),
        GemmShape(name: "wgrad-512x1600x64", transposeA: true, transposeB: false, m: 512, n: 64, k: 1600),
        GemmShape(name: "wgrad-512x1600x128", transposeA: true, transposeB: false, m: 512, n: 128, k: 1600),
        // The input projections of lstm-medium and lstm-large, all steps at once: X · W_ihᵀ.
        GemmShape(name: "proj-6400x256x1024", transposeA: false, transposeB: true, m: 6400, n: 1024, k: 256),
        GemmShape(name: "proj-3200x512x2048", transposeA: false, transposeB: true, m: 3200, n: 2048, k: 512),
        // tagger-step's input projection per direction over its 799 packed rows (K = 100),
        // its weight gradient and its input gradient.
        GemmShape(name: "proj-799x100x512", transposeA: false, transposeB: true, m: 799, n: 512, k: 100),
        GemmShape(name: "wgrad-512x799x100", transposeA: true, transposeB: false, m: 512, n: 100, k: 799),
        GemmShape(name: "dx-799x512x100", transposeA: false, transposeB: false, m: 799, n: 100, k: 512),
    ]
}

/// The peak the percentages refer to, and how it was found.
struct PeakEstimate {
    /// The SIMD path whose widest vector the peak loop uses.
    let path: InstructionSet
    /// Lanes of that vector (Float).
    let lanes: Int
    /// GFLOP/s of one core running independent multiply-adds of that width back to back, as the
    /// kernels compute them (FMAs in a native build), measured.
    let measuredGflops: Double
    /// 2 FMA pipes x lanes x 2 flops x the clock of /proc/cpuinfo (assumes full-width pipes).
    let nominalGflops: Double?
    let clockMHz: Double?

    /// Measures the peak of the SIMD path in effect: 12 independent chains of multiply-adds
    /// (`addingMultiplied`) on its widest Float vector (enough to cover the latency of both FMA
    /// pipes), best of 5 runs.
    static func measure() -> PeakEstimate {
        let path = InstructionSet.current
        let lanes: Int
        let run: (Int, Float) -> Float
        switch path {
        case .avx512: lanes = 16; run = { multiplyAddChains(SIMD16<Float>.self, iterations: $0, seed: $1) }
        case .avx2: lanes = 8; run = { multiplyAddChains(SIMD8<Float>.self, iterations: $0, seed: $1) }
        case .neon, .generic: lanes = 4; run = { multiplyAddChains(SIMD4<Float>.self, iterations: $0, seed: $1) }
        }
        let iterations = 160_000_000 / lanes
        var best = 0.0
        var sink: Float = 0
        for _ in 0..<5 {
            let start = monotonicNanoseconds()
            sink += run(iterations, sink * 1e-30 + 1)
            let seconds = Double(monotonicNanoseconds() - start) / 1e9
            best = max(best, Double(iterations) * 12 * Double(lanes) * 2 / seconds / 1e9)
        }
        if sink == 42 { print("") }  // keep the result observable
        let clock = cpuClockMHz()
        return PeakEstimate(path: path, lanes: lanes, measuredGflops: best,
                            nominalGflops: clock.map { 4 * Double(lanes) * $0 / 1000 }, clockMHz: clock)
    }

    /// The first "cpu MHz" line of /proc/cpuinfo, if any.
    static func cpuClockMHz() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("cpu MHz") {
            if let value = line.split(separator: ":").last.flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
                return value
            }
        }
        return nil
    }
}

/// Specialized per width, with the multiply-add the kernels use (`addingMultiplied`: one FMA per
/// lane in a native build, a product and a sum in a portable x86-64 build, which has no FMA
/// instructions and where the standard library's `addingProduct` would be a library call per
/// lane): a generic call per lane would make the "peak" orders of magnitude low.
@inline(never)
@_specialize(where V == SIMD16<Float>)
@_specialize(where V == SIMD8<Float>)
@_specialize(where V == SIMD4<Float>)
func multiplyAddChains<V: SIMD>(_: V.Type, iterations: Int, seed: Float) -> Float where V.Scalar == Float {
    let x = V(repeating: 0.999_999), y = V(repeating: 1e-7)
    var c0 = V(repeating: seed), c1 = c0 + 1, c2 = c0 + 2, c3 = c0 + 3, c4 = c0 + 4, c5 = c0 + 5
    var c6 = c0 + 6, c7 = c0 + 7, c8 = c0 + 8, c9 = c0 + 9, c10 = c0 + 10, c11 = c0 + 11
    for _ in 0..<iterations {
        c0 = c0.addingMultiplied(c0, x); c1 = c1.addingMultiplied(c1, x); c2 = c2.addingMultiplied(c2, x); c3 = c3.addingMultiplied(c3, x)
        c4 = c4.addingMultiplied(c4, x); c5 = c5.addingMultiplied(c5, x); c6 = c6.addingMultiplied(c6, y); c7 = c7.addingMultiplied(c7, y)
        c8 = c8.addingMultiplied(c8, y); c9 = c9.addingMultiplied(c9, y); c10 = c10.addingMultiplied(c10, y); c11 = c11.addingMultiplied(c11, y)
    }
    let total = (c0 + c1 + c2 + c3) + (c4 + c5 + c6 + c7) + (c8 + c9 + c10 + c11)
    return total.sum()
}

/// One measured kernel.
struct KernelResult {
    let shape: GemmShape
    let threads: Int
    let medianMilliseconds: Double
    var gflops: Double { shape.flops / medianMilliseconds / 1e6 }
}

/// Times `shape` on random data (median of `reps` samples).
func benchmarkGemm(_ shape: GemmShape, threads: Int, reps: Int) -> KernelResult {
    var generator = RandomGenerator(seed: 7)
    // Stored shapes: A is [m, k] or [k, m]; B is [k, n] or [n, k].
    let aShape = shape.transposeA ? [shape.k, shape.m] : [shape.m, shape.k]
    let bShape = shape.transposeB ? [shape.n, shape.k] : [shape.k, shape.n]
    let a = Tensor<Float>.randn(aShape, using: &generator)
    let b = Tensor<Float>.randn(bShape, using: &generator)
    let milliseconds: Double
    if shape.throughTensor {
        milliseconds = medianMillisecondsBatched(reps: reps) {
            let product = withoutGradient { a.matmul(b) }
            blackHole(product)
        }
    } else if shape.prepacked {
        var c = [Float](repeating: 0, count: shape.m * shape.n)
        let packedB = b.withUnsafeBufferPointer {
            GemmPackedB($0.baseAddress!, ldb: bShape[1], transposed: shape.transposeB, k: shape.k, n: shape.n)
        }
        milliseconds = a.withUnsafeBufferPointer { aBuffer in
            c.withUnsafeMutableBufferPointer { cBuffer in
                medianMillisecondsBatched(reps: reps) {
                    Kernels.gemmPrepacked(transposeA: shape.transposeA, m: shape.m, aBuffer.baseAddress!, lda: aShape[1],
                                          packedB, cBuffer.baseAddress!, ldc: shape.n, accumulate: false, threads: threads)
                }
            }
        }
    } else {
        var c = [Float](repeating: 0, count: shape.m * shape.n)
        milliseconds = a.withUnsafeBufferPointer { aBuffer in
            b.withUnsafeBufferPointer { bBuffer in
                c.withUnsafeMutableBufferPointer { cBuffer in
                    medianMillisecondsBatched(reps: reps) {
                        Kernels.gemm(transposeA: shape.transposeA, transposeB: shape.transposeB,
                                     m: shape.m, n: shape.n, k: shape.k,
                                     aBuffer.baseAddress!, lda: aShape[1], bBuffer.baseAddress!, ldb: bShape[1],
                                     cBuffer.baseAddress!, ldc: shape.n, accumulate: false)
                    }
                }
            }
        }
    }
    return KernelResult(shape: shape, threads: threads, medianMilliseconds: milliseconds)
}

/// Keeps a value alive so the work producing it is not optimized away.
@inline(never)
func blackHole<T>(_ value: T) { _ = value }

/// `loom-bench --kernels`.
func runKernelBenchmarks(_ options: BenchOptions) {
    let peak = PeakEstimate.measure()
    let reference = peak.measuredGflops
    if !options.json {
        print("SIMD path: \(peak.path) (LOOM_ISA or --isa to choose)")
        let operation = Kernels.multiplyAddIsFused ? "FMA" : "multiply-add"
        print("Float \(operation) peak, one core: \(formatted(peak.measuredGflops, decimals: 1)) GFLOP/s measured "
              + "(12 independent chains of \(peak.lanes)-lane \(operation)s)")
        if !Kernels.multiplyAddIsFused {
            print("  this build targets baseline x86-64 (no FMA instructions): each multiply-add, here as in the kernels, "
                  + "is a product and a sum on 128-bit vectors")
        }
        if Kernels.multiplyAddIsFused, let nominal = peak.nominalGflops, let clock = peak.clockMHz {
            print("  nominal: 2 FMA pipes x \(peak.lanes) lanes x 2 flops x \(formatted(clock, decimals: 0)) MHz (/proc/cpuinfo) "
                  + "= \(formatted(nominal, decimals: 1)) GFLOP/s")
        }
        print("threads: \(options.threads); median of \(options.reps) samples; % of the measured peak x threads\n")
        print(padded("kernel", 24) + padded("shape", 20) + padded("median ms", 12, right: true)
              + padded("GFLOP/s", 10, right: true) + padded("% peak", 9, right: true))
    }
    for shape in GemmShape.all {
        let result = benchmarkGemm(shape, threads: options.threads, reps: options.reps)
        let percent = 100 * result.gflops / (reference * Double(options.threads))
        if options.json {
            print("{\"kernel\": \"\(shape.name)\", \"threads\": \(options.threads), \"isa\": \"\(peak.path)\", "
                  + "\"gflops\": \(rounded(result.gflops, decimals: 2)), "
                  + "\"peak_gflops\": \(rounded(reference * Double(options.threads), decimals: 2)), "
                  + "\"median_ms\": \(rounded(result.medianMilliseconds, decimals: 4)), \"peak_percent\": \(rounded(percent, decimals: 1))}")
        } else {
            print(padded(shape.name, 24) + padded(shape.label, 20)
                  + padded(formatted(result.medianMilliseconds, decimals: 4), 12, right: true)
                  + padded(formatted(result.gflops, decimals: 1), 10, right: true)
                  + padded(formatted(percent, decimals: 1), 9, right: true))
        }
    }
}
