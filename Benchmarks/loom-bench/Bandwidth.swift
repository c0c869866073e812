import Foundation
import Loom

// `loom-bench --bandwidth`: the streaming work of an embedding-heavy training step (the
// IMDb classifier's 76,487 x 100 table) against the machine's measured memory bandwidth.
//
// The reference loops (read, copy, triad, and a 4-read/3-write loop with Adam's access
// pattern) are plain SIMD8 loops over arrays far larger than the caches; each figure is
// the median of `--reps` runs. GB/s counts the bytes the algorithm must move (reads +
// writes, as STREAM does), not the extra read-for-ownership traffic of the writes.

/// Elements of the IMDb classifier's embedding table (76,487 words x 100).
private let tableRows = 76_487, tableWidth = 100
private let tableCount = tableRows * tableWidth

/// One line of the bandwidth table.
private struct BandwidthResult {
    let name: String
    let what: String
    let milliseconds: Double
    let bytes: Double
    var gigabytesPerSecond: Double { bytes / (milliseconds * 1e-3) / 1e9 }
}

/// A page-aligned array of `count` floats, filled with small distinct values (every page touched).
private func makeArray(_ count: Int, seed: Float) -> UnsafeMutablePointer<Float> {
    let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
    for i in 0..<count { pointer[i] = seed + Float(i % 1000) * 1e-4 }
    return pointer
}

@inline(never)
private func readLoop(_ a: UnsafePointer<Float>, count: Int) -> Float {
    var s0 = SIMD8<Float>(), s1 = SIMD8<Float>(), s2 = SIMD8<Float>(), s3 = SIMD8<Float>()
    var i = 0
    while i + 32 <= count {
        s0 += load8(a + i)
        s1 += load8(a + i + 8)
        s2 += load8(a + i + 16)
        s3 += load8(a + i + 24)
        i += 32
    }
    var total = (s0 + s1 + s2 + s3).sum()
    while i < count { total += a[i]; i += 1 }
    return total
}

@inline(never)
private func triadLoop(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, count: Int) {
    let scale = SIMD8<Float>(repeating: 0.5)
    var i = 0
    while i + 8 <= count {
        var value = load8(b + i)
        value.multiplyAdd(scale, load8(c + i))
        store8(value, a + i)
        i += 8
    }
    while i < count { a[i] = b[i] + 0.5 * c[i]; i += 1 }
}

/// Adam's access pattern with almost no arithmetic: reads p, g, m, v; writes p, m, v.
@inline(never)
private func adamPatternLoop(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ m: UnsafeMutablePointer<Float>,
                             _ v: UnsafeMutablePointer<Float>, count: Int) {
    let half = SIMD8<Float>(repeating: 0.5)
    var i = 0
    while i + 8 <= count {
        let grad = load8(g + i)
        let mi = load8(m + i) * half + grad
        let vi = load8(v + i) * half + grad
        store8(load8(p + i) - mi * half + vi * half, p + i)
        store8(mi, m + i)
        store8(vi, v + i)
        i += 8
    }
}

/// Runs the bandwidth measurements and prints a table (or JSON lines).
func runBandwidthBenchmarks(_ options: BenchOptions) {
    let n = tableCount
    let bytes = Double(n * MemoryLayout<Float>.stride)
    let reps = options.reps
    // Four arrays of the table's size: 122 MB in all, far beyond the 32 MB L3.
    let a = makeArray(n, seed: 1), b = makeArray(n, seed: 2), c = makeArray(n, seed: 3), d = makeArray(n, seed: 4)
    defer { a.deallocate(); b.deallocate(); c.deallocate(); d.deallocate() }
    var results: [BandwidthResult] = []
    var sink: Float = 0
    var rotation = 0
    let arrays = [a, b, c, d]

    results.append(BandwidthResult(name: "read", what: "sum of one array", milliseconds: medianMilliseconds(reps: reps) {
        rotation += 1
        sink += readLoop(arrays[rotation % 4], count: n)
    }, bytes: bytes))
    results.append(BandwidthResult(name: "copy", what: "memcpy b → a", milliseconds: medianMilliseconds(reps: reps) {
        rotation += 1
        arrays[rotation % 4].update(from: arrays[(rotation + 1) % 4], count: n)
    }, bytes: 2 * bytes))
    results.append(BandwidthResult(name: "zero", what: "memset a = 0 (write only)", milliseconds: medianMilliseconds(reps: reps) {
        rotation += 1
        arrays[rotation % 4].update(repeating: 0, count: n)
    }, bytes: bytes))
    for array in arrays { for i in stride(from: 0, to: n, by: 1000) { array[i] = 1 } }
    results.append(BandwidthResult(name: "triad", what: "a = b + s·c", milliseconds: medianMilliseconds(reps: reps) {
        triadLoop(a, b, c, count: n)
    }, bytes: 3 * bytes))
    results.append(BandwidthResult(name: "adam-pattern", what: "read p,g,m,v; write p,m,v (no math)",
                                   milliseconds: medianMilliseconds(reps: reps) { adamPatternLoop(a, b, c, d, count: n) },
                                   bytes: 7 * bytes))

    // The real kernels on the table.
    for i in 0..<n { c[i] = 0; d[i] = 0; b[i] = Float(i % 977) * 1e-5 - 0.004 }
    results.append(BandwidthResult(name: "adamStep", what: "Kernels.adamStep, 76,487 x 100", milliseconds: medianMilliseconds(reps: reps) {
        Kernels.adamStep(parameter: a, gradient: b, firstMoment: c, secondMoment: d, count: n, beta1: 0.9, beta2: 0.999,
                         epsilon: 1e-8, stepSize: 1e-3, biasCorrection2Root: 0.03, l2: 0, decay: 1)
    }, bytes: 7 * bytes))

    var generator = RandomGenerator(seed: 0)
    var table = Tensor<Float>.randn([tableRows, tableWidth], using: &generator)
    table.requiresGrad = true
    // An IMDb batch: 32 texts, 9,337 tokens (the lengths of bilstm-long-400), ids spread over the table.
    let lengths = ModelConfig.all.first { $0.name == "bilstm-long-400" }!.lengths
    var ids: [Int] = []
    for length in lengths { for _ in 0..<length { ids.append(generator.nextInt(below: tableRows)) } }
    let lookups = IntTensor(shape: [ids.count], scalars: ids)
    let upstream = Tensor<Float>.ones([ids.count, tableWidth])
    // The backward alone, timed inside each step: the product and sum backward (one pass
    // over the [9,337, 100] upstream gradient), then the embedding backward — a zero-filled
    // dense table plus the scatter-add of the looked-up rows — stored as the table's gradient.
    var forwardSamples: [Double] = [], backwardSamples: [Double] = []
    for rep in 0..<(reps + 2) {
        table.zeroGrad()
        let start = monotonicNanoseconds()
        let loss = (embedding(lookups, weight: table) * upstream).sum()
        let middle = monotonicNanoseconds()
        loss.backward()
        let end = monotonicNanoseconds()
        if rep >= 2 {
            forwardSamples.append(Double(middle - start) / 1e6)
            backwardSamples.append(Double(end - middle) / 1e6)
        }
    }
    let rowBytes = Double(ids.count * tableWidth * 4)
    results.append(BandwidthResult(name: "embedding-forward", what: "lookup of 9,337 rows, · upstream, sum (recorded)",
                                   milliseconds: median(forwardSamples), bytes: 4 * rowBytes))
    results.append(BandwidthResult(
        name: "embedding-backward", what: "dense [76,487, 100] gradient: zero fill + scatter-add of 9,337 rows (bytes: those two)",
        milliseconds: median(backwardSamples), bytes: bytes + 3 * rowBytes))
    table.zeroGrad()
    (embedding(lookups, weight: table) * upstream).sum().backward()
    results.append(BandwidthResult(name: "clipGradNorm", what: "norm of the table's gradient (no rescale)",
                                   milliseconds: medianMilliseconds(reps: reps) {
        sink += Float(clipGradNorm([table], maxNorm: .infinity))
    }, bytes: bytes))
    results.append(BandwidthResult(name: "clipGradNorm-rescale", what: "norm + rescale of the table's gradient",
                                   milliseconds: medianMilliseconds(reps: reps) {
        sink += Float(clipGradNorm([table], maxNorm: 1e-3))
    }, bytes: 3 * bytes))
    var optimizer = Adam<Float>(learningRate: 1e-3)
    var parameters = [table]
    optimizer.step(&parameters)
    results.append(BandwidthResult(name: "Adam.step", what: "Adam<Float>.step on the table (dense)",
                                   milliseconds: medianMilliseconds(reps: reps) { optimizer.step(&parameters) },
                                   bytes: 7 * bytes))

    if options.json {
        for r in results {
            print("{\"bench\": \"bandwidth\", \"name\": \"\(r.name)\", \"median_ms\": \(rounded(r.milliseconds, decimals: 3)), "
                  + "\"bytes\": \(Int(r.bytes)), \"gb_per_s\": \(rounded(r.gigabytesPerSecond, decimals: 2))}")
        }
    } else {
        print("Streaming work on a 76,487 x 100 Float table (30.6 MB per array), \(options.threads) thread(s) for Adam.step (the reference loops use one), median of \(reps)")
        print("| name | what | ms | MB moved | GB/s |")
        print("|---|---|---:|---:|---:|")
        for r in results {
            print("| \(r.name) | \(r.what) | \(formatted(r.milliseconds, decimals: 2)) | \(formatted(r.bytes / 1e6, decimals: 1)) "
                  + "| \(formatted(r.gigabytesPerSecond, decimals: 1)) |")
        }
    }
    if sink == .infinity { print(sink) }
}

/// One 8-lane vector from possibly unaligned memory. The loops above use their own loads and
/// stores, not Loom's (`Kernels.load`), which a portable build (without cross-module
/// optimization) calls out of line, generically, from this module.
@inline(__always)
private func load8(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
}

/// Stores one 8-lane vector to possibly unaligned memory.
@inline(__always)
private func store8(_ value: SIMD8<Float>, _ pointer: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: SIMD8<Float>.self)
}
