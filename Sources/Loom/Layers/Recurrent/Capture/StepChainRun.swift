// The two rewritten forms of `StepSchedule` in a replay: a product accumulated into the
// value it is added to, and a chain of elementwise instructions run a block of rows at a
// time. Each uses the kernels of the instructions it stands for, element for element, so the
// results are those of running the instructions one by one.

extension StepProgramRun {
    /// Packed rows `start..<start + count` of the product `linear` (which has no bias), added
    /// into the same rows of register `into`.
    func accumulateProduct(_ linear: Int, into: Int, rows start: Int, count: Int) {
        guard case .linear(let input, let weightRef, _) = program.instructions[linear] else { preconditionFailure("a product") }
        multiply(rows(input, start), width: program.widths[input], by: weightRef, count: count, into: rows(into, start),
                 width: program.widths[into], accumulate: true)
    }

    /// Runs `chain` over packed rows `start..<start + count`: each block of rows goes through
    /// every instruction of the chain before the next block.
    func run(_ chain: StepSchedule.Chain, rows start: Int, count: Int) {
        let end = start + count
        var row = start
        while row < end {
            let rows = Swift.min(chain.blockRows, end - row)
            for i in chain.instructions { evaluate(i, in: chain, from: row, rows: rows) }
            row += rows
        }
    }

    /// Register `r`'s block from packed row `row`: its first element and the distance between
    /// its rows.
    @inline(__always)
    private func block(_ r: Int, in chain: StepSchedule.Chain, from row: Int) -> (pointer: UnsafeMutablePointer<Scalar>, rowStride: Int) {
        switch chain.locations[r] {
        case .memory: return (rows(r, row), program.widths[r])
        case .view(let input, let column): return (rows(input, row) + column, program.widths[input])
        case .temporary(let index): return (chainScratch + index * chain.blockRows * chain.width, chain.width)
        }
    }

    /// Instruction `i` of `chain` on the block of `rows` rows from packed row `row`.
    private func evaluate(_ i: Int, in chain: StepSchedule.Chain, from row: Int, rows: Int) {
        let r = program.register(ofInstruction: i)
        if case .view = chain.locations[r] { return }
        let width = chain.width
        let out = block(r, in: chain, from: row)
        switch program.instructions[i] {
        case .unary(let function, let input):
            let x = block(input, in: chain, from: row)
            apply(function, x.pointer, rowStride: x.rowStride, out.pointer, rowStride: out.rowStride, rows: rows, width: width)
        case .binary(let op, let a, let b):
            var scalars: (Scalar, Scalar) = (0, 0)
            if case .scalar(let s) = a { scalars.0 = s }
            if case .scalar(let s) = b { scalars.1 = s }
            withUnsafePointer(to: &scalars.0) { sa in
                withUnsafePointer(to: &scalars.1) { sb in
                    let left = operand(a, in: chain, from: row, scalar: sa), right = operand(b, in: chain, from: row, scalar: sb)
                    for k in 0..<rows {
                        binary(op, left.pointer + k * left.rowStride, left.stride, right.pointer + k * right.rowStride, right.stride,
                               out.pointer + k * out.rowStride, width)
                    }
                }
            }
        case .scale(let input, let factor):
            let x = block(input, in: chain, from: row)
            for k in 0..<rows { Kernels.scale(x.pointer + k * x.rowStride, by: factor, out.pointer + k * out.rowStride, count: width) }
        case .narrow(let input, let column):
            Tensor.copyRuns(self.rows(input, row) + column, sourceStride: program.widths[input], out.pointer, destinationStride: out.rowStride,
                            length: width, runs: rows)
        case .linear, .concatenate, .layerNorm:
            preconditionFailure("not an elementwise instruction")
        }
    }

    /// An operand of a binary instruction in a chain block: its first element, the step to
    /// its next element (0 for a scalar) and to its next row (0 for a scalar or a fixed row).
    @inline(__always)
    private func operand(_ x: StepOperand<Scalar>, in chain: StepSchedule.Chain, from row: Int, scalar: UnsafePointer<Scalar>)
        -> (pointer: UnsafePointer<Scalar>, stride: Int, rowStride: Int) {
        switch x {
        case .register(let r):
            let b = block(r, in: chain, from: row)
            return (UnsafePointer(b.pointer), 1, b.rowStride)
        case .scalar: return (scalar, 0, 0)
        case .fixed(let f): return (UnsafePointer(tensor(f).storage.base), 1, 0)
        }
    }
}
