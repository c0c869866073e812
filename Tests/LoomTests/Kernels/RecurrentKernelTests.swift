import Testing
@testable import Loom

/// The fused recurrent step kernels compute each hidden unit on its own lane: a unit's result
/// is the same wherever it falls relative to the vector width, the row's last partial vector
/// included. Checked by running each unit alone (a row of one unit) against the whole row.
@Suite struct RecurrentKernelTests {
    static let hiddenSizes = [1, 7, 16, 20, 37]

    func randomRow(_ count: Int, _ generator: inout RandomGenerator, scale: Float = 2) -> [Float] {
        (0..<count).map { _ in (Float(generator.nextUnit()) * 2 - 1) * scale }
    }

    /// The values of gate block `gate` at unit `j` of each array, as a one-unit row.
    func unit(_ arrays: [[Float]], hidden: Int, gates: Int, j: Int) -> [[Float]] {
        arrays.map { array in (0..<gates).map { array[$0 * hidden + j] } }
    }

    @Test(arguments: hiddenSizes) func lstmUnitsAreIndependentOfTheirPosition(hidden: Int) {
        var generator = RandomGenerator(seed: UInt64(hidden))
        let x = randomRow(4 * hidden, &generator), hg = randomRow(4 * hidden, &generator)
        let bias = randomRow(4 * hidden, &generator), cPrev = randomRow(hidden, &generator)
        func forward(_ x: [Float], _ hg: [Float], _ bias: [Float], _ cPrev: [Float], hidden: Int)
            -> (c: [Float], h: [Float], gates: [Float], tanhC: [Float]) {
            var c = [Float](repeating: 0, count: hidden), h = c, tanhC = c
            var gates = [Float](repeating: 0, count: 4 * hidden)
            RecurrentKernels.lstmForward(hidden: hidden, xGates: x, hGates: hg, biasHH: bias, cPrev: cPrev,
                                         c: &c, h: &h, savedGates: &gates, savedTanhC: &tanhC)
            return (c, h, gates, tanhC)
        }
        let row = forward(x, hg, bias, cPrev, hidden: hidden)
        let dh = randomRow(hidden, &generator), dcIn = randomRow(hidden, &generator)
        var dc = dcIn, dGates = [Float](repeating: 0, count: 4 * hidden)
        RecurrentKernels.lstmBackward(hidden: hidden, dh: dh, dc: &dc, savedGates: row.gates, savedTanhC: row.tanhC,
                                      cPrev: cPrev, dGates: &dGates)
        for j in 0..<hidden {
            let parts = unit([x, hg, bias], hidden: hidden, gates: 4, j: j)
            let alone = forward(parts[0], parts[1], parts[2], [cPrev[j]], hidden: 1)
            #expect(alone.c[0] == row.c[j] && alone.h[0] == row.h[j], "unit \(j) of \(hidden)")
            var dcAlone = [dcIn[j]], dGatesAlone = [Float](repeating: 0, count: 4)
            RecurrentKernels.lstmBackward(hidden: 1, dh: [dh[j]], dc: &dcAlone, savedGates: alone.gates,
                                          savedTanhC: alone.tanhC, cPrev: [cPrev[j]], dGates: &dGatesAlone)
            #expect(dcAlone[0] == dc[j], "unit \(j) of \(hidden)")
            #expect(dGatesAlone == unit([dGates], hidden: hidden, gates: 4, j: j)[0], "unit \(j) of \(hidden)")
        }
    }

    @Test(arguments: hiddenSizes) func gruAndRNNUnitsAreIndependentOfTheirPosition(hidden: Int) {
        var generator = RandomGenerator(seed: UInt64(100 + hidden))
        let x = randomRow(3 * hidden, &generator), hg = randomRow(3 * hidden, &generator)
        let bias = randomRow(3 * hidden, &generator), hPrev = randomRow(hidden, &generator)
        func gru(_ x: [Float], _ hg: [Float], _ bias: [Float], _ hPrev: [Float], hidden: Int) -> (h: [Float], saved: [Float]) {
            var h = [Float](repeating: 0, count: hidden), saved = [Float](repeating: 0, count: 4 * hidden)
            RecurrentKernels.gruForward(hidden: hidden, xGates: x, hGates: hg, biasHH: bias, hPrev: hPrev, h: &h, saved: &saved)
            return (h, saved)
        }
        func rnn(_ x: [Float], _ hg: [Float], _ bias: [Float], hidden: Int) -> [Float] {
            var h = [Float](repeating: 0, count: hidden)
            RecurrentKernels.rnnForward(hidden: hidden, relu: false, xGates: x, hGates: hg, biasHH: bias, h: &h)
            return h
        }
        let row = gru(x, hg, bias, hPrev, hidden: hidden)
        let rnnRow = rnn(x, hg, bias, hidden: hidden)
        for j in 0..<hidden {
            let parts = unit([x, hg, bias], hidden: hidden, gates: 3, j: j)
            #expect(gru(parts[0], parts[1], parts[2], [hPrev[j]], hidden: 1).h[0] == row.h[j], "unit \(j) of \(hidden)")
            #expect(rnn([x[j]], [hg[j]], [bias[j]], hidden: 1)[0] == rnnRow[j], "unit \(j) of \(hidden)")
        }
    }

    /// RNN backward gives every unit, in the vector body and in the tail alike, the bits of
    /// `(dh + dy) · (1 - h²)` (tanh) or `dh + dy` where `h > 0`, else 0 (ReLU), computed one
    /// unit at a time; ReLU's zero, negative and NaN outputs pass no gradient.
    @Test(arguments: [1, 7, 16, 20, 37, 40]) func rnnBackwardMatchesTheUnitFormula(hidden: Int) {
        var generator = RandomGenerator(seed: UInt64(300 + hidden))
        let dh = randomRow(hidden, &generator), dy = randomRow(hidden, &generator)
        var h = randomRow(hidden, &generator, scale: 1)
        for (j, special) in [Float(0), -0.0, .nan, -1].enumerated() where 3 * j + 1 < hidden { h[3 * j + 1] = special }
        for relu in [false, true] {
            var dGates = [Float](repeating: 0, count: hidden)
            RecurrentKernels.rnnBackward(hidden: hidden, relu: relu, dh: dh, dy: dy, h: h, dGates: &dGates)
            for j in 0..<hidden {
                let total = dh[j] + dy[j]
                let expected = relu ? (h[j] > 0 ? total : 0) : total * (1 - h[j] * h[j])
                #expect(dGates[j].bitPattern == expected.bitPattern || (dGates[j].isNaN && expected.isNaN),
                        "unit \(j) of \(hidden), relu \(relu): \(dGates[j]) vs \(expected)")
            }
        }
    }

    /// The gradient from the layer's output, passed as `dy`, is added to `dh` exactly as if the
    /// caller had added it first: the same bits, in the vector body and the partial tail.
    @Test(arguments: hiddenSizes) func backwardAddsTheOutputGradientToTheStateGradient(hidden: Int) {
        var generator = RandomGenerator(seed: UInt64(200 + hidden))
        let dh = randomRow(hidden, &generator), dy = randomRow(hidden, &generator)
        let sum = zip(dh, dy).map { $0 + $1 }
        // Saved activations in (0, 1), as gates and tanh values are.
        let saved = randomRow(4 * hidden, &generator, scale: 1).map { abs($0) }
        let tanhC = randomRow(hidden, &generator, scale: 1), cPrev = randomRow(hidden, &generator)
        let dcIn = randomRow(hidden, &generator)

        func lstm(_ dh: [Float], _ dy: [Float]?) -> [Float] {
            var dc = dcIn, dGates = [Float](repeating: 0, count: 4 * hidden)
            dy.withOptionalPointer { dy in
                RecurrentKernels.lstmBackward(hidden: hidden, dh: dh, dy: dy, dc: &dc, savedGates: saved, savedTanhC: tanhC,
                                              cPrev: cPrev, dGates: &dGates)
            }
            return dGates + dc
        }
        func gru(_ dh: [Float], _ dy: [Float]?) -> [Float] {
            var dNInput = [Float](repeating: 0, count: hidden), dHGates = [Float](repeating: 0, count: 3 * hidden)
            var dhPrev = [Float](repeating: 0, count: hidden)
            dy.withOptionalPointer { dy in
                RecurrentKernels.gruBackward(hidden: hidden, dh: dh, dy: dy, saved: saved, hPrev: cPrev, dNInput: &dNInput,
                                             dHGates: &dHGates, dhPrev: &dhPrev)
            }
            return dNInput + dHGates + dhPrev
        }
        func rnn(_ dh: [Float], _ dy: [Float]?, relu: Bool) -> [Float] {
            var dGates = [Float](repeating: 0, count: hidden)
            dy.withOptionalPointer { dy in
                RecurrentKernels.rnnBackward(hidden: hidden, relu: relu, dh: dh, dy: dy, h: tanhC, dGates: &dGates)
            }
            return dGates
        }
        #expect(lstm(dh, dy) == lstm(sum, nil))
        #expect(gru(dh, dy) == gru(sum, nil))
        #expect(rnn(dh, dy, relu: false) == rnn(sum, nil, relu: false))
        #expect(rnn(dh, dy, relu: true) == rnn(sum, nil, relu: true))
        // And the gradient does change with dy (the comparison above is not vacuous).
        #expect(lstm(dh, dy) != lstm(dh, nil))
    }
}

private extension Optional where Wrapped == [Float] {
    /// Calls `body` with a pointer to the array's elements, or with `nil`.
    func withOptionalPointer<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        switch self {
        case .some(let array): array.withUnsafeBufferPointer { body($0.baseAddress!) }
        case .none: body(nil)
        }
    }
}
