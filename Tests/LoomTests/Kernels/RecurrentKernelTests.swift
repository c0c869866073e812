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
}
