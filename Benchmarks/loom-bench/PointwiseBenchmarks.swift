import Foundation
import Loom

// `loom-bench --pointwise`: the elementwise work between the matrix products, per element.
// The vector-math ops (`exp`, `log`, `tanh`, `sigmoid`) as a user calls them, and the fused
// recurrent step kernels on the rows of one step. After the products this is where a
// recurrent model spends its time (a sixth of bilstm-long-100's inference, a third of
// lstm-tiny's), and its speed is bound by the transcendental functions' instruction chains,
// not by memory: every operand here fits in L1 or L2.

/// One line of the pointwise table.
private struct PointwiseResult {
    let name: String
    let shape: String
    let milliseconds: Double
    /// Elements (ops) or hidden units (step kernels) per call.
    let elements: Int
    var nanosecondsPerElement: Double { milliseconds * 1e6 / Double(elements) }
}

/// Rows and hidden units of the step kernels' benchmark: lstm-small's step (B32 H128).
private let stepRows = 32, stepHidden = 128

/// Runs the pointwise benchmarks and prints a table (or JSON lines).
func runPointwiseBenchmarks(_ options: BenchOptions) {
    var results: [PointwiseResult] = []
    var generator = RandomGenerator(seed: 7)

    // The ops on a [32, 512] Float tensor (64 KB), inputs where the functions are not flat.
    let shape = [32, 512], count = 32 * 512
    let x = Tensor<Float>.uniform(shape, low: -4, high: 4, using: &generator)
    let positive = Tensor<Float>.uniform(shape, low: 0.01, high: 4, using: &generator)
    let ops: [(String, () -> Tensor<Float>)] = [
        ("exp", { x.exp() }), ("log", { positive.log() }), ("tanh", { x.tanh() }), ("sigmoid", { x.sigmoid() }),
    ]
    for (name, op) in ops {
        var sink = 0
        let milliseconds = medianMillisecondsBatched(reps: options.reps) { sink &+= op().shape[0] }
        if sink < 0 { print(sink) }
        results.append(PointwiseResult(name: name, shape: "32x512", milliseconds: milliseconds, elements: count))
    }

    // The fused step kernels over the rows of one step, as the recurrence calls them.
    let hidden = stepHidden, rows = stepRows, units = rows * hidden
    func buffer(_ count: Int, low: Float = -2, high: Float = 2) -> UnsafeMutablePointer<Float> {
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        for i in 0..<count { pointer[i] = low + (high - low) * Float(generator.nextUnit()) }
        return pointer
    }
    // Every call reads the same inputs, as a step of a real sequence does: the previous cell
    // state `cPrev` is never overwritten (a cell state fed back into itself call after call
    // would grow until tanh saturates, and the backward's `dc`, multiplied by the forget gate
    // at every call with nothing added where `1 - tanh²(c)` is 0, would decay into subnormal
    // numbers, which Intel cores handle in microcode, 10x slower).
    let xGates = buffer(rows * 4 * hidden), hGates = buffer(rows * 4 * hidden), bias = buffer(4 * hidden)
    let cPrev = buffer(units), c = buffer(units), h = buffer(units), dh = buffer(units), dc = buffer(units)
    let saved = buffer(rows * 4 * hidden, low: 0.01, high: 0.99), tanhC = buffer(units, low: -0.99, high: 0.99)
    let dGates = buffer(rows * 4 * hidden)
    defer { for pointer in [xGates, hGates, bias, cPrev, c, h, dh, dc, saved, tanhC, dGates] { pointer.deallocate() } }
    /// The LSTM forward kernel over `rows` rows of `hidden` units, keeping the gates and
    /// `tanh(c)` for backward when `saving`.
    func lstmStep(rows: Int, hidden: Int, saving: Bool = false) {
        for r in 0..<rows {
            RecurrentKernels.lstmForward(hidden: hidden, xGates: xGates + r * 4 * hidden, hGates: hGates + r * 4 * hidden,
                                         biasHH: bias, cPrev: cPrev + r * hidden, c: c + r * hidden, h: h + r * hidden,
                                         savedGates: saving ? saved + r * 4 * hidden : nil,
                                         savedTanhC: saving ? tanhC + r * hidden : nil)
        }
    }
    let kernels: [(String, () -> Void)] = [
        ("lstm-step", { lstmStep(rows: rows, hidden: hidden) }),
        ("lstm-step-saved", { lstmStep(rows: rows, hidden: hidden, saving: true) }),
        ("lstm-step-backward", {
            for r in 0..<rows {
                RecurrentKernels.lstmBackward(hidden: hidden, dh: dh + r * hidden, dc: dc + r * hidden,
                                              savedGates: saved + r * 4 * hidden, savedTanhC: tanhC + r * hidden,
                                              cPrev: cPrev + r * hidden, dGates: dGates + r * 4 * hidden)
            }
        }),
        ("gru-step", {
            for r in 0..<rows {
                RecurrentKernels.gruForward(hidden: hidden, xGates: xGates + r * 4 * hidden, hGates: hGates + r * 4 * hidden,
                                            biasHH: bias, hPrev: h + r * hidden, h: h + r * hidden, saved: nil)
            }
        }),
        ("rnn-step", {
            for r in 0..<rows {
                RecurrentKernels.rnnForward(hidden: hidden, relu: false, xGates: xGates + r * 4 * hidden,
                                            hGates: hGates + r * 4 * hidden, biasHH: bias, h: h + r * hidden)
            }
        }),
    ]
    for (name, kernel) in kernels {
        let milliseconds = medianMillisecondsBatched(reps: options.reps) { kernel() }
        results.append(PointwiseResult(name: name, shape: "\(rows)x\(hidden)", milliseconds: milliseconds, elements: units))
    }
    // lstm-tiny's step (B16 H32): one row is two 16-lane vectors per gate, so the cost of
    // each call shows.
    let tinyRows = 16, tinyHidden = 32
    let tinyMilliseconds = medianMillisecondsBatched(reps: options.reps) { lstmStep(rows: tinyRows, hidden: tinyHidden) }
    results.append(PointwiseResult(name: "lstm-step", shape: "\(tinyRows)x\(tinyHidden)", milliseconds: tinyMilliseconds,
                                   elements: tinyRows * tinyHidden))

    let path = InstructionSet.current.rawValue
    if options.json {
        for r in results {
            print("{\"bench\": \"pointwise\", \"name\": \"\(r.name)\", \"shape\": \"\(r.shape)\", \"isa\": \"\(path)\", "
                  + "\"median_ms\": \(rounded(r.milliseconds, decimals: 5)), "
                  + "\"ns_per_element\": \(rounded(r.nanosecondsPerElement, decimals: 3))}")
        }
    } else {
        print("Pointwise work, one thread, SIMD path \(path) for the ops (the step kernels use 16-lane Float vectors on every path), "
              + "median of \(options.reps)")
        print("ops: elements of a [32, 512] Float tensor; step kernels: rows x hidden units (ns per unit)")
        print("| name | shape | µs per call | ns per element |")
        print("|---|---|---:|---:|")
        for r in results {
            print("| \(r.name) | \(r.shape) | \(formatted(r.milliseconds * 1e3, decimals: 2)) "
                  + "| \(formatted(r.nanosecondsPerElement, decimals: 3)) |")
        }
    }
}
