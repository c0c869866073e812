// Replaying a captured step over the packed rows of a batch, forward and backward. Every
// register gets a buffer of all packed rows (`[rows, width]`): step `t` writes its rows
// `offsets[t]..<offsets[t] + batchSizes[t]`, hoisted registers are computed for many rows at
// once (all of them, or a chunk of steps just before those steps run), and backward reads
// what forward left there. Each op uses the same kernel as the op it replays, so results
// match op-by-op evaluation; nothing depends on the thread count.

/// One replay of a `StepProgram` over a packed batch, with the buffers backward needs.
final class StepProgramRun<Scalar: TensorScalar>: @unchecked Sendable {
    let program: StepProgram<Scalar>
    /// The cell's parameters, indexed as `StepFixedTensor.parameter`.
    let parameters: [Tensor<Scalar>]
    let batchSizes: [Int]
    let offsets: [Int]
    let reversed: Bool
    /// Packed rows over all steps.
    let rowCount: Int
    /// The sequences of the batch.
    let batch: Int
    /// The packed input, register 0's memory.
    private let data: Tensor<Scalar>
    /// Per register, its values at every packed row.
    private let values: [UnsafeMutablePointer<Scalar>]
    /// Per layer-norm register, the normalized rows and inverse deviations it saved.
    private let normalized: [Int: (rows: UnsafeMutablePointer<Scalar>, rstd: UnsafeMutablePointer<Scalar>)]
    /// The memory of every buffer but register 0's and the output's.
    private let arena: StepArena
    /// The step outputs of every row (the output register's memory, unless that is the input).
    private let outputValue: Tensor<Scalar>
    /// Per register: whether it lives in two alternating blocks of `ringRows` rows (values a
    /// step computes for itself alone that backward will not read: all of them without
    /// `keepsAllRows`, else those of `StepProgram.valuesReadByBackward`).
    private let ring: [Bool]
    private let ringRows: Int
    /// The most packed rows whose hoisted registers are computed together (`rowCount` when
    /// they are computed all at once; see `hoistedChunkRows(…)`).
    let hoistedChunkRows: Int
    /// Per register: whether it is a hoisted value that holds only the current chunk's rows
    /// (`hoistedChunkRows` of them), because nothing reads it after its chunk's steps: with
    /// chunks, every hoisted register but the output, a next state and (with `keepsAllRows`)
    /// those backward reads.
    private let chunked: [Bool]
    // The replay's position, read by every row lookup of every instruction. Only `forward`
    // writes it, between steps and never during a lookup, so its reads skip the run-time
    // exclusivity check (half a percent of a small captured cell's step).
    /// The first packed row of the chunk whose hoisted rows the chunked registers hold.
    @exclusivity(unchecked) private var chunkOffset = 0
    /// The alternating block the current step uses, and the current step's first packed row.
    @exclusivity(unchecked) private var slot = 0
    @exclusivity(unchecked) private var slotOffset = 0
    /// Per state tensor, where the current step reads it when that is the previous step's
    /// next-state rows in place (nil: the state register's own rows).
    @exclusivity(unchecked) private var carriedState: [UnsafeMutablePointer<Scalar>?] = []
    /// Per state tensor, each sequence's state after its last step (`[batch, width]`).
    private let finals: [UnsafeMutablePointer<Scalar>]
    /// How each step's instructions run.
    private let schedule: StepSchedule
    /// The temporaries of the chain running now.
    let chainScratch: UnsafeMutablePointer<Scalar>

    /// Register `r` at packed row `row` (of the current step, for a register in a ring).
    @inline(__always) func rows(_ r: Int, _ row: Int) -> UnsafeMutablePointer<Scalar> {
        let width = program.widths[r]
        if r > 0 && r <= program.stateCount, let carried = carriedState[r - 1] { return carried + (row - slotOffset) * width }
        if chunked[r] { return values[r] + (row - chunkOffset) * width }
        return ring[r] ? values[r] + (slot * ringRows + row - slotOffset) * width : values[r] + row * width
    }

    /// Register `r`'s first row of step `t`, which ran in block `stepSlot`.
    private func rows(_ r: Int, step t: Int, slot stepSlot: Int) -> UnsafeMutablePointer<Scalar> {
        let width = program.widths[r]
        return ring[r] ? values[r] + stepSlot * ringRows * width : values[r] + offsets[t] * width
    }

    /// `keepsAllRows`: keep every step's values backward reads; the other values a step
    /// computes for itself alone live in two alternating blocks of `batch` rows.
    init(program: StepProgram<Scalar>, parameters: [Tensor<Scalar>], data: Tensor<Scalar>, batchSizes: [Int], reversed: Bool, batch: Int,
         keepsAllRows: Bool = true) {
        self.program = program
        self.parameters = parameters
        self.data = data
        self.batchSizes = batchSizes
        self.reversed = reversed
        self.batch = batch
        var offsets: [Int] = [], total = 0
        for size in batchSizes { offsets.append(total); total += size }
        self.offsets = offsets
        rowCount = total
        ringRows = batchSizes.first ?? 0
        let chunkRows = Self.hoistedChunkRows(program, parameters: parameters, batchSizes: batchSizes)
        hoistedChunkRows = chunkRows
        let crossesSteps = Set([program.outputRegister] + program.stateOutputRegisters)
        var ring = program.widths.indices.map { r in
            r != 0 && r != program.outputRegister && !program.hoisted[r] && !(keepsAllRows && program.valuesReadByBackward[r])
        }
        var chunked = program.widths.indices.map { r in
            chunkRows < total && r != 0 && program.hoisted[r] && !crossesSteps.contains(r) && !(keepsAllRows && program.valuesReadByBackward[r])
        }
        // Values that last only while their step (or chunk) runs.
        schedule = StepSchedule(program, keepsAllRows: keepsAllRows, ring: zip(ring, chunked).map { $0 || $1 })
        let shared = schedule.sharedValues
        // A sum sharing a hoisted register's rows that crosses steps needs all of them.
        for r in shared.indices where shared[r] != r && crossesSteps.contains(r) { chunked[shared[r]] = false }
        for r in ring.indices where shared[r] != r {
            ring[r] = ring[shared[r]]
            chunked[r] = chunked[shared[r]]
        }
        self.ring = ring
        self.chunked = chunked
        let rowsHeld = { [ringRows] (r: Int) -> Int in ring[r] ? 2 * ringRows : chunked[r] ? chunkRows : total }
        var bytes = StepArena.size(of: schedule.scratchCount, Scalar.self)
        for (r, width) in program.widths.enumerated() where r != 0 && r != program.outputRegister && shared[r] == r {
            bytes += StepArena.size(of: rowsHeld(r) * width, Scalar.self)
        }
        for s in 0..<program.stateCount { bytes += StepArena.size(of: batch * program.widths[1 + s], Scalar.self) }
        for (i, instruction) in program.instructions.enumerated() {
            if case .layerNorm = instruction {
                bytes += StepArena.size(of: total * program.widths[program.register(ofInstruction: i)], Scalar.self)
                    + StepArena.size(of: total, Scalar.self)
            }
        }
        arena = StepArena.make(bytes: bytes)
        chainScratch = arena.take(schedule.scratchCount, of: Scalar.self)
        carriedState = Array(repeating: nil, count: program.stateCount)
        // The output register's buffer is the output tensor's storage (the tensor holds it;
        // copy-on-write keeps the values backward reads from being changed in place).
        let outputRegister = program.outputRegister
        outputValue = Tensor(shape: [total, program.widths[outputRegister]]) { _ in }
        var values: [UnsafeMutablePointer<Scalar>] = []
        for (r, width) in program.widths.enumerated() {
            values.append(r == 0 ? data.storage.base
                          : r == outputRegister ? outputValue.storage.base
                          : shared[r] != r ? values[shared[r]]
                          : arena.take(rowsHeld(r) * width, of: Scalar.self))
        }
        self.values = values
        var finals: [UnsafeMutablePointer<Scalar>] = []
        for s in 0..<program.stateCount { finals.append(arena.take(batch * program.widths[1 + s], of: Scalar.self)) }
        self.finals = finals
        var normalized: [Int: (rows: UnsafeMutablePointer<Scalar>, rstd: UnsafeMutablePointer<Scalar>)] = [:]
        for (i, instruction) in program.instructions.enumerated() {
            if case .layerNorm = instruction {
                let r = program.register(ofInstruction: i)
                normalized[r] = (arena.take(total * program.widths[r], of: Scalar.self), arena.take(total, of: Scalar.self))
            }
        }
        self.normalized = normalized
    }

    deinit {
        arena.release()
    }

    /// Register `r`'s values at every packed row.
    func value(_ r: Int) -> UnsafeMutablePointer<Scalar> { values[r] }

    /// What layer-norm register `r` saved: its normalized rows and inverse deviations.
    func savedNormalization(_ r: Int) -> (rows: UnsafeMutablePointer<Scalar>, rstd: UnsafeMutablePointer<Scalar>) { normalized[r]! }

    func tensor(_ fixed: StepFixedTensor) -> Tensor<Scalar> {
        switch fixed {
        case .parameter(let i): return parameters[i]
        case .constant(let i): return program.constants[i]
        }
    }

    /// The steps in the order the recurrence runs them.
    var stepOrder: [Int] { reversed ? Array(batchSizes.indices.reversed()) : Array(batchSizes.indices) }

    /// The step whose next state step `t` reads, if any.
    func previousStep(_ t: Int) -> Int? {
        let p = reversed ? t + 1 : t - 1
        return p >= 0 && p < batchSizes.count ? p : nil
    }

    // MARK: Forward

    /// Runs every step; `start` holds the state before the first step of each sequence (in
    /// packed order), each `[batch, width]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func forward(start: [Tensor<Scalar>]) {
        let program = self.program
        let order = stepOrder
        let chunkRows = hoistedChunkRows
        var chunkEnd = 0
        for (n, t) in order.enumerated() {
            let size = batchSizes[t], offset = offsets[t]
            if n == chunkEnd {
                // The hoisted rows of the steps from this one on, up to `chunkRows` of them.
                var rows = size
                chunkEnd = n + 1
                while chunkEnd < order.count, rows + batchSizes[order[chunkEnd]] <= chunkRows {
                    rows += batchSizes[order[chunkEnd]]
                    chunkEnd += 1
                }
                // The chunk's rows are contiguous: they run down the packed rows in reverse.
                let first = reversed ? offsets[order[chunkEnd - 1]] : offset
                chunkOffset = first
                for i in program.instructions.indices where program.runs(i, hoisted: true) {
                    execute(i, rows: first, count: rows)
                }
            }
            slot = n % 2
            slotOffset = offset
            let previous = previousStep(t)
            let carried = previous.map { Swift.min(batchSizes[$0], size) } ?? 0
            for s in 0..<program.stateCount {
                carriedState[s] = nil
                let width = program.widths[1 + s], next = program.stateOutputRegisters[s]
                // A state only this step reads, all of it carried, is read where the previous
                // step wrote it.
                if let previous, carried == size, ring[1 + s], next > program.stateCount, 1 + s != program.outputRegister {
                    carriedState[s] = rows(next, step: previous, slot: 1 - slot)
                    continue
                }
                let destination = rows(1 + s, offset)
                if let previous, carried > 0 {
                    destination.update(from: rows(next, step: previous, slot: 1 - slot), count: carried * width)
                }
                if carried < size {
                    (destination + carried * width).update(from: start[s].storage.base + carried * width, count: (size - carried) * width)
                }
            }
            for item in schedule.stepItems {
                switch item {
                case .instruction(let i): execute(i, rows: offset, count: size)
                case .accumulatedProduct(let linear, let into): accumulateProduct(linear, into: into, rows: offset, count: size)
                case .chain(let chain): run(chain, rows: offset, count: size)
                }
            }
            // The sequences whose last step this is keep their state.
            let next = reversed ? (t == 0 ? 0 : size) : (t + 1 < batchSizes.count ? batchSizes[t + 1] : 0)
            for s in 0..<program.stateCount where next < size {
                let width = program.widths[1 + s]
                (finals[s] + next * width).update(from: rows(program.stateOutputRegisters[s], offset + next), count: (size - next) * width)
            }
        }
        for s in carriedState.indices { carriedState[s] = nil }
    }

    /// The most packed rows whose hoisted registers are computed together, just before the
    /// first of their steps runs: `StepwiseProjection.chunkBytes` of them (at least the first
    /// step's) when `StepwiseProjection.chunks` says so for their size and their largest
    /// weight (the rule of the fused recurrence's projection), else all rows. Rows are
    /// independent in every instruction, so the values are the same bits however the rows
    /// are chunked.
    static func hoistedChunkRows(_ program: StepProgram<Scalar>, parameters: [Tensor<Scalar>], batchSizes: [Int]) -> Int {
        let size = MemoryLayout<Scalar>.stride
        let rowCount = batchSizes.reduce(0, +)
        var bytesPerRow = 0, largestWeight = 0
        for (i, instruction) in program.instructions.enumerated() where program.runs(i, hoisted: true) {
            bytesPerRow += program.widths[program.register(ofInstruction: i)] * size
            if case .linear(_, let weight, _) = instruction {
                let count: Int
                switch weight {
                case .parameter(let p): count = parameters[p].count
                case .constant(let c): count = program.constants[c].count
                }
                largestWeight = Swift.max(largestWeight, count * size)
            }
        }
        guard StepwiseProjection.chunks(bytes: rowCount * bytesPerRow, rows: rowCount, steps: batchSizes.count,
                                        weightBytes: largestWeight) else { return rowCount }
        return StepwiseProjection.chunkRows(bytesPerRow: bytesPerRow, firstStepRows: batchSizes.first ?? 0)
    }

    /// Instruction `i` over packed rows `rows..<rows + count`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    private func execute(_ i: Int, rows start: Int, count: Int) {
        let r = program.register(ofInstruction: i)
        let width = program.widths[r]
        let out = rows(r, start)
        switch program.instructions[i] {
        case .linear(let input, let weightRef, let biasRef):
            multiply(rows(input, start), width: program.widths[input], by: weightRef, count: count, into: out, width: width,
                     accumulate: false, bias: biasRef.map { UnsafePointer(tensor($0).storage.base) })
        case .binary(let op, let a, let b):
            if case .fixed(let f) = a {
                let row = tensor(f).storage.base
                for k in 0..<count { binary(op, row, 1, operand(b, start + k, width), 1, out + k * width, width) }
            } else if case .fixed(let f) = b {
                let row = tensor(f).storage.base
                for k in 0..<count { binary(op, operand(a, start + k, width), 1, row, 1, out + k * width, width) }
            } else {
                withScalarOperands(a, b, start, width) { pa, sa, pb, sb in binary(op, pa, sa, pb, sb, out, count * width) }
            }
        case .unary(let function, let input):
            apply(function, rows(input, start), rowStride: width, out, rowStride: width, rows: count, width: width)
        case .scale(let input, let factor):
            Kernels.scale(rows(input, start), by: factor, out, count: count * width)
        case .narrow(let input, let column):
            let inWidth = program.widths[input]
            Tensor.copyRuns(rows(input, start) + column, sourceStride: inWidth, out, destinationStride: width,
                            length: width, runs: count)
        case .concatenate(let parts):
            var column = 0
            for part in parts {
                let partWidth = program.widths[part]
                Tensor.copyRuns(rows(part, start), sourceStride: partWidth, out + column, destinationStride: width,
                                length: partWidth, runs: count)
                column += partWidth
            }
        case .layerNorm(let input, let weightRef, let biasRef, let epsilon):
            let saved = normalized[r]!
            Kernels.layerNormForward(rows(input, start), rows: count, width: width, epsilon: epsilon,
                                     weight: weightRef.map { UnsafePointer(tensor($0).storage.base) },
                                     bias: biasRef.map { UnsafePointer(tensor($0).storage.base) },
                                     y: out, xHat: saved.rows + start * width, rstd: saved.rstd + start)
        }
    }

    /// `count` rows `x · weightᵀ` (`x` rows `inWidth` apart), stored to `out` (rows `width`
    /// apart), with the row `bias` added when there is one, or added to `out` when `accumulate`.
    func multiply(_ x: UnsafePointer<Scalar>, width inWidth: Int, by weightRef: StepFixedTensor, count: Int,
                  into out: UnsafeMutablePointer<Scalar>, width: Int, accumulate: Bool, bias: UnsafePointer<Scalar>? = nil) {
        let weight = MatmulOperand(tensor(weightRef))
        Tensor.gemm(transposeA: false, m: count, n: width, k: inWidth, x, lda: inWidth,
                    weight, transposeB: !weight.isTransposed, batch: 0, batchStride: 0, out, ldc: width, accumulate: accumulate,
                    bias: bias)
    }

    /// `function` on `rows` rows of `width` elements, the rows of `x` and `out` their strides apart.
    func apply(_ function: StepUnaryOp, _ x: UnsafePointer<Scalar>, rowStride xStride: Int, _ out: UnsafeMutablePointer<Scalar>,
               rowStride outStride: Int, rows: Int, width: Int) {
        switch function {
        case .negate: Kernels.unaryRows(NegateKernel.self, x, rowStride: xStride, out, rowStride: outStride, rows: rows, width: width)
        case .exp: Kernels.unaryRows(ExpKernel.self, x, rowStride: xStride, out, rowStride: outStride, rows: rows, width: width)
        case .log: Kernels.unaryRows(LogKernel.self, x, rowStride: xStride, out, rowStride: outStride, rows: rows, width: width)
        case .tanh: Kernels.unaryRows(TanhKernel.self, x, rowStride: xStride, out, rowStride: outStride, rows: rows, width: width)
        case .sigmoid: Kernels.unaryRows(SigmoidKernel.self, x, rowStride: xStride, out, rowStride: outStride, rows: rows, width: width)
        case .relu: Kernels.unaryRows(ReluKernel.self, x, rowStride: xStride, out, rowStride: outStride, rows: rows, width: width)
        }
    }

    /// The row `row` of a register operand (only registers reach here).
    private func operand(_ operand: StepOperand<Scalar>, _ row: Int, _ width: Int) -> UnsafePointer<Scalar> {
        guard case .register(let r) = operand else { preconditionFailure("a register operand") }
        return UnsafePointer(rows(r, row))
    }

    /// Calls `body` with each of two register-or-scalar operands as a pointer and stride
    /// (1 for a register from row `start`, 0 for a scalar).
    private func withScalarOperands(_ a: StepOperand<Scalar>, _ b: StepOperand<Scalar>, _ start: Int, _ width: Int,
                                    _ body: (UnsafePointer<Scalar>, Int, UnsafePointer<Scalar>, Int) -> Void) {
        var scalars: (Scalar, Scalar) = (0, 0)
        if case .scalar(let s) = a { scalars.0 = s }
        if case .scalar(let s) = b { scalars.1 = s }
        withUnsafePointer(to: &scalars.0) { sa in
            withUnsafePointer(to: &scalars.1) { sb in
                let (pa, strideA) = pointer(a, start, width, scalar: sa)
                let (pb, strideB) = pointer(b, start, width, scalar: sb)
                body(pa, strideA, pb, strideB)
            }
        }
    }

    private func pointer(_ operand: StepOperand<Scalar>, _ start: Int, _ width: Int,
                         scalar: UnsafePointer<Scalar>) -> (UnsafePointer<Scalar>, Int) {
        switch operand {
        case .register(let r): return (UnsafePointer(rows(r, start)), 1)
        case .scalar: return (scalar, 0)
        case .fixed: preconditionFailure("fixed rows are applied row by row")
        }
    }

    func binary(_ op: StepBinaryOp, _ a: UnsafePointer<Scalar>, _ aStride: Int, _ b: UnsafePointer<Scalar>, _ bStride: Int,
                        _ out: UnsafeMutablePointer<Scalar>, _ count: Int) {
        switch op {
        case .add: Kernels.binaryRow(AddKernel.self, a, aStride: aStride, b, bStride: bStride, out, count: count)
        case .subtract: Kernels.binaryRow(SubtractKernel.self, a, aStride: aStride, b, bStride: bStride, out, count: count)
        case .multiply: Kernels.binaryRow(MultiplyKernel.self, a, aStride: aStride, b, bStride: bStride, out, count: count)
        case .divide: Kernels.binaryRow(DivideKernel.self, a, aStride: aStride, b, bStride: bStride, out, count: count)
        }
    }

    // MARK: Results

    /// The output of every step, packed: `[rowCount, outputWidth]`.
    func output() -> Tensor<Scalar> {
        let r = program.outputRegister, width = program.widths[r]
        guard r == 0 else { return outputValue }
        return Tensor(shape: [rowCount, width]) { out in out.baseAddress!.update(from: values[r], count: rowCount * width) }
    }

    /// The number of steps of each sequence, in packed order.
    var lengths: [Int] {
        (0..<batch).map { j in batchSizes.reduce(0) { $0 + ($1 > j ? 1 : 0) } }
    }

    /// The packed row holding sequence `j`'s last step (its first step for the reverse
    /// direction), or nil for a sequence without steps.
    func finalRow(of j: Int, length: Int) -> Int? {
        guard length > 0 else { return nil }
        return reversed ? offsets[0] + j : offsets[length - 1] + j
    }

    /// Each state tensor after each sequence's last step, `[batch, width]` in packed order (the
    /// start state for a sequence without steps), all flattened one after the other.
    func finalStates(start: [Tensor<Scalar>]) -> Tensor<Scalar> {
        let lengths = self.lengths
        let total = (0..<program.stateCount).reduce(0) { $0 + batch * program.widths[1 + $1] }
        return Tensor(shape: [total]) { out in
            var destination = out.baseAddress!
            for s in 0..<program.stateCount {
                let width = program.widths[1 + s]
                for j in 0..<batch {
                    let source = lengths[j] > 0 ? UnsafePointer(finals[s] + j * width) : UnsafePointer(start[s].storage.base + j * width)
                    (destination + j * width).update(from: source, count: width)
                }
                destination += batch * width
            }
        }
    }
}
