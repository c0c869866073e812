// Backpropagation through time over a replayed step program: the steps in reverse order,
// each step's instructions in reverse, gradients accumulated in one buffer per register over
// all packed rows; the state gradients of a step flow to the rows of the step before it (or
// to the start state), and the parameters' gradients are summed over all rows at the end,
// in row order.

extension StepProgramRun {
    /// The gradients of one backward pass: of the packed input, of each start state
    /// (`[batch, width]`, packed order) and of each parameter (nil where none is needed).
    struct Gradients {
        var data: Tensor<Scalar>?
        var start: [Tensor<Scalar>]
        var parameters: [Tensor<Scalar>?]
    }

    /// Backpropagates `outputGradient` (`[rowCount, outputWidth]`, or nil for zeros) and
    /// `finalGradient` (laid out as `finalStates`) through every step.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func backward(outputGradient: Tensor<Scalar>?, finalGradient: Tensor<Scalar>, needsData: Bool, needsParameters: [Bool]) -> Gradients {
        let program = self.program
        let maxWidth = program.widths.max() ?? 1
        // Gradients kept for every packed row: the output's and the states' (they cross
        // steps), the input's and the hoisted registers' (backpropagated after the walk), and
        // those the parameters' gradients are summed from. The others are produced and used
        // within one step and share one block of `batchSizes.max()` rows.
        // Registers that share a gradient buffer keep it for every row.
        var keptRows = program.gradientsKeptForAllRows
        let shares = program.gradientShares
        for (r, share) in shares.enumerated() where share != r { keptRows[r] = true; keptRows[share] = true }
        let stepRows = batchSizes.max() ?? 0
        let bytes = program.widths.indices.reduce(0) { bytes, r in
            shares[r] != r ? bytes : bytes + StepArena.size(of: (keptRows[r] ? rowCount : stepRows) * program.widths[r], Scalar.self)
        } + StepArena.size(of: rowCount * maxWidth, Scalar.self)
        let arena = StepArena.make(bytes: bytes)
        defer { arena.release() }
        // The output's and next states' gradients are seeded before the walk (and the state
        // gradients of a step are added to the rows of the step before it ahead of that
        // step), so they start zeroed. Every other register's rows of a step get gradients
        // only from that step (or from the hoisted instructions after the walk): the first
        // contribution in the step overwrites them, and rows nothing wrote are zeroed at the
        // end of the step.
        let seeded = Set([program.outputRegister] + program.stateOutputRegisters)
        // The output's own buffer, given an output gradient, is written `0 + g` in one pass
        // instead of being zeroed and then added to.
        let output = program.outputRegister
        let outputWritten = outputGradient != nil && shares[output] == output
        // A shared buffer belongs to the later register (the sum), so go from the last.
        var buffers = [UnsafeMutablePointer<Scalar>?](repeating: nil, count: program.widths.count)
        for r in program.widths.indices.reversed() {
            buffers[r] = shares[r] != r ? buffers[shares[r]]
                : arena.take((keptRows[r] ? rowCount : stepRows) * program.widths[r], of: Scalar.self,
                             zeroed: seeded.contains(r) && !(outputWritten && r == output))
        }
        let grads = buffers.map { $0! }
        let zeroedPerStep = program.widths.indices.filter { !seeded.contains($0) }
        let scratch = arena.take(rowCount * maxWidth, of: Scalar.self)
        let context = BackwardContext(run: self, grads: grads, keptRows: keptRows, scratch: scratch, needsData: needsData)

        if let outputGradient {
            let g = outputGradient.storage.base, count = rowCount * program.widths[output]
            if outputWritten {
                var zero = Scalar(0)
                Kernels.binaryRow(AddKernel.self, &zero, aStride: 0, g, bStride: 1, grads[output], count: count)
            } else {
                Kernels.accumulate(g, into: grads[output], count: count)
            }
        }
        var start: [Tensor<Scalar>] = []
        let lengths = self.lengths
        var final = UnsafePointer(finalGradient.storage.base)
        for s in 0..<program.stateCount {
            let width = program.widths[1 + s]
            var startGradient = Tensor<Scalar>.zeros([batch, width])
            startGradient.withUnsafeMutableBufferPointer { dStart in
                for j in 0..<batch {
                    let destination = finalRow(of: j, length: lengths[j]).map { grads[program.stateOutputRegisters[s]] + $0 * width }
                        ?? dStart.baseAddress! + j * width
                    Kernels.accumulate(final + j * width, into: destination, count: width)
                }
            }
            start.append(startGradient)
            final += batch * width
        }

        for t in stepOrder.reversed() {
            let size = batchSizes[t], offset = offsets[t]
            context.stepStart = offset
            for r in zeroedPerStep { context.written[r] = false }
            for i in program.instructions.indices.reversed() where program.runs(i, hoisted: false) {
                context.backward(i, rows: offset, count: size)
            }
            // Rows no instruction of this step wrote get their gradients later (or none). A
            // shared buffer is the sum's to fill.
            for r in zeroedPerStep where !context.written[r] && keptRows[r] && shares[r] == r {
                let width = program.widths[r]
                UnsafeMutableRawPointer(grads[r] + offset * width)
                    .initializeMemory(as: UInt8.self, repeating: 0, count: size * width * MemoryLayout<Scalar>.stride)
            }
            let previous = previousStep(t)
            let carried = previous.map { Swift.min(batchSizes[$0], size) } ?? 0
            for s in 0..<program.stateCount {
                let width = program.widths[1 + s]
                let source = grads[1 + s] + offset * width
                if let previous, carried > 0 {
                    Kernels.accumulate(source, into: grads[program.stateOutputRegisters[s]] + offsets[previous] * width, count: carried * width)
                }
                if carried < size {
                    start[s].withUnsafeMutableBufferPointer { dStart in
                        Kernels.accumulate(source + carried * width, into: dStart.baseAddress! + carried * width, count: (size - carried) * width)
                    }
                }
            }
        }
        context.stepStart = 0
        for r in program.widths.indices { context.written[r] = true }
        for i in program.instructions.indices.reversed() where program.runs(i, hoisted: true) {
            context.backward(i, rows: 0, count: rowCount)
        }
        let dParameters = context.parameterGradients(needs: needsParameters)
        let dData: Tensor<Scalar>? = needsData
            ? Tensor(shape: [rowCount, program.widths[0]]) { out in out.baseAddress!.update(from: grads[0], count: rowCount * program.widths[0]) }
            : nil
        return Gradients(data: dData, start: start, parameters: dParameters)
    }
}

/// The buffers of one backward pass and the per-instruction gradient rules.
private final class BackwardContext<Scalar: TensorScalar> {
    let run: StepProgramRun<Scalar>
    let grads: [UnsafeMutablePointer<Scalar>]
    let scratch: UnsafeMutablePointer<Scalar>
    let needsData: Bool
    /// Per register: whether its rows of the current step hold a gradient already (else the
    /// next contribution overwrites them).
    var written: [Bool]
    var program: StepProgram<Scalar> { run.program }

    /// Per register: whether `grads` holds every packed row (else only the current step's).
    let keptRows: [Bool]
    /// Per register, the register whose gradient buffer it uses (`StepProgram.gradientShares`).
    let shares: [Int]
    /// Per register: whether its readers are slices that cover it (`StepProgram.tiledBySlices`).
    let tiledBySlices: [Bool]
    /// The current step's first packed row.
    var stepStart = 0

    init(run: StepProgramRun<Scalar>, grads: [UnsafeMutablePointer<Scalar>], keptRows: [Bool], scratch: UnsafeMutablePointer<Scalar>,
         needsData: Bool) {
        self.run = run
        self.grads = grads
        self.keptRows = keptRows
        shares = run.program.gradientShares
        tiledBySlices = run.program.tiledBySlices
        self.scratch = scratch
        self.needsData = needsData
        written = [Bool](repeating: true, count: run.program.widths.count)
    }

    /// Register `r`'s gradient at packed row `row` (of the current step, for a register
    /// whose gradients are kept for that step only).
    @inline(__always) func gradient(_ r: Int, _ row: Int) -> UnsafeMutablePointer<Scalar> {
        grads[r] + (keptRows[r] ? row : row - stepStart) * program.widths[r]
    }

    /// Whether a contribution covering whole rows of register `r` may overwrite them (the
    /// first one of the step); marks them written.
    func overwrites(_ r: Int) -> Bool {
        defer { written[r] = true }
        return !written[r]
    }

    /// Before a contribution to some columns of register `r`'s rows: zeroes the rows if
    /// nothing wrote them yet in this step.
    func prepareColumns(_ r: Int, start: Int, count: Int) {
        guard !written[r] else { return }
        written[r] = true
        let width = program.widths[r]
        UnsafeMutableRawPointer(gradient(r, start)).initializeMemory(as: UInt8.self, repeating: 0,
                                                                           count: count * width * MemoryLayout<Scalar>.stride)
    }

    /// `y = x` or `y += x`.
    func add(_ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, count: Int, overwrite: Bool) {
        if overwrite { y.update(from: x, count: count) } else { Kernels.accumulate(x, into: y, count: count) }
    }

    /// `y = α·x` or `y += α·x`.
    func addScaled(_ alpha: Scalar, _ x: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, count: Int, overwrite: Bool) {
        if overwrite { Kernels.scale(x, by: alpha, y, count: count) } else { Kernels.axpy(alpha, x, y, count: count) }
    }

    /// `y = a·b` or `y += a·b`.
    func addProduct(_ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, into y: UnsafeMutablePointer<Scalar>, count: Int, overwrite: Bool) {
        if overwrite { Kernels.binaryRow(MultiplyKernel.self, a, aStride: 1, b, bStride: 1, y, count: count) }
        else { Kernels.accumulateProduct(a, b, into: y, count: count) }
    }

    /// Zeroes `count` scalars when overwriting, so an accumulating kernel can then write them.
    func clear(_ y: UnsafeMutablePointer<Scalar>, count: Int, if overwrite: Bool) {
        if overwrite { UnsafeMutableRawPointer(y).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<Scalar>.stride) }
    }

    func value(_ r: Int) -> UnsafeMutablePointer<Scalar> { run.value(r) }

    /// Adds instruction `i`'s input gradients for packed rows `start..<start + count`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func backward(_ i: Int, rows start: Int, count: Int) {
        let r = program.register(ofInstruction: i)
        let width = program.widths[r]
        let g = UnsafePointer(gradient(r, start))
        let n = count * width
        switch program.instructions[i] {
        case .linear(let input, let weightRef, _):
            guard input != 0 || needsData else { return }
            let inWidth = program.widths[input]
            let weight = MatmulOperand(run.tensor(weightRef))
            let overwrite = overwrites(input)
            Tensor.gemm(transposeA: false, m: count, n: inWidth, k: width, g, lda: width, weight, transposeB: weight.isTransposed,
                        batch: 0, batchStride: 0, gradient(input, start), ldc: inWidth, accumulate: !overwrite)
        case .binary(let op, let a, let b):
            // An operand sharing the sum's gradient buffer has its gradient already.
            if case .register(let ra) = a {
                if shares[ra] == r { written[ra] = true } else { addFirst(op, into: ra, g, b, start, count, width) }
            }
            if case .register(let rb) = b {
                if shares[rb] == r { written[rb] = true } else { addSecond(op, into: rb, g, a, b, start, count, width) }
            }
        case .unary(let function, let input):
            let target = gradient(input, start)
            // Only the values `StepProgram.valuesReadByBackward` kept are read (the kernel loads
            // both operands, so an unneeded one points at `g`).
            let output = function == .log || function == .negate ? g : UnsafePointer(value(r) + start * width)
            let x = function == .log ? UnsafePointer(value(input) + start * width) : g
            Kernels.accumulateUnaryGradient(function, g, output: output, input: x, into: target, count: n, overwrite: overwrites(input))
        case .scale(let input, let factor):
            addScaled(factor, g, into: gradient(input, start), count: n, overwrite: overwrites(input))
        case .narrow(let input, let column):
            let inWidth = program.widths[input]
            if tiledBySlices[input] {
                written[input] = true
                Tensor.copyRuns(g, sourceStride: width, gradient(input, start) + column, destinationStride: inWidth, length: width, runs: count)
                return
            }
            prepareColumns(input, start: start, count: count)
            for k in 0..<count {
                Kernels.accumulate(g + k * width, into: gradient(input, start + k) + column, count: width)
            }
        case .concatenate(let parts):
            var column = 0
            for part in parts {
                let partWidth = program.widths[part]
                let overwrite = overwrites(part)
                for k in 0..<count {
                    add(g + k * width + column, into: gradient(part, start + k), count: partWidth, overwrite: overwrite)
                }
                column += partWidth
            }
        case .layerNorm(let input, let weightRef, _, _):
            let saved = run.savedNormalization(r)
            let overwrite = overwrites(input)
            Kernels.layerNormBackward(g, xHat: saved.rows + start * width, rstd: saved.rstd + start,
                                      weight: weightRef.map { UnsafePointer(run.tensor($0).storage.base) },
                                      rows: count, width: width, dx: overwrite ? gradient(input, start) : scratch)
            if !overwrite { Kernels.accumulate(scratch, into: gradient(input, start), count: n) }
        }
    }

    /// The rows `start..<start + count` of operand `x` as pointer and stride per element, or
    /// per row for a fixed row (`rowStride` 0).
    private func rows(_ x: StepOperand<Scalar>, _ start: Int, _ width: Int, _ scalar: UnsafeMutablePointer<Scalar>)
        -> (pointer: UnsafePointer<Scalar>, stride: Int, rowStride: Int) {
        switch x {
        case .register(let r): return (UnsafePointer(value(r) + start * width), 1, width)
        case .scalar(let s): scalar.pointee = s; return (UnsafePointer(scalar), 0, 0)
        case .fixed(let f): return (UnsafePointer(run.tensor(f).storage.base), 1, 0)
        }
    }

    /// `da += ∂(a op b)/∂a · g` (or `=` for the first contribution of the step).
    private func addFirst(_ op: StepBinaryOp, into ra: Int, _ g: UnsafePointer<Scalar>,
                          _ b: StepOperand<Scalar>, _ start: Int, _ count: Int, _ width: Int) {
        let da = gradient(ra, start)
        let overwrite = overwrites(ra)
        switch op {
        case .add, .subtract:
            add(g, into: da, count: count * width, overwrite: overwrite)
        case .multiply, .divide:
            var scalar: Scalar = 0
            withUnsafeMutablePointer(to: &scalar) { scalar in
                let other = rows(b, start, width, scalar)
                if other.stride == 0 {
                    if op == .multiply { addScaled(other.pointer[0], g, into: da, count: count * width, overwrite: overwrite) }
                    else {
                        clear(da, count: count * width, if: overwrite)
                        Kernels.accumulateQuotient(g, other.pointer, bStride: 0, into: da, count: count * width)
                    }
                } else if other.rowStride == width {
                    if op == .multiply { addProduct(g, other.pointer, into: da, count: count * width, overwrite: overwrite) }
                    else {
                        clear(da, count: count * width, if: overwrite)
                        Kernels.accumulateQuotient(g, other.pointer, bStride: 1, into: da, count: count * width)
                    }
                } else {
                    clear(da, count: count * width, if: overwrite && op == .divide)
                    for k in 0..<count {
                        if op == .multiply { addProduct(g + k * width, other.pointer, into: da + k * width, count: width, overwrite: overwrite) }
                        else { Kernels.accumulateQuotient(g + k * width, other.pointer, bStride: 1, into: da + k * width, count: width) }
                    }
                }
            }
        }
    }

    /// `db += ∂(a op b)/∂b · g` (or `=` for the first contribution of the step).
    private func addSecond(_ op: StepBinaryOp, into rb: Int, _ g: UnsafePointer<Scalar>,
                           _ a: StepOperand<Scalar>, _ b: StepOperand<Scalar>, _ start: Int, _ count: Int, _ width: Int) {
        let db = gradient(rb, start)
        let overwrite = overwrites(rb)
        switch op {
        case .add:
            add(g, into: db, count: count * width, overwrite: overwrite)
        case .subtract:
            addScaled(-1, g, into: db, count: count * width, overwrite: overwrite)
        case .multiply, .divide:
            var scalar: Scalar = 0
            withUnsafeMutablePointer(to: &scalar) { scalar in
                let other = rows(a, start, width, scalar)
                if op == .multiply {
                    if other.stride == 0 { addScaled(other.pointer[0], g, into: db, count: count * width, overwrite: overwrite) }
                    else if other.rowStride == width { addProduct(g, other.pointer, into: db, count: count * width, overwrite: overwrite) }
                    else {
                        for k in 0..<count { addProduct(g + k * width, other.pointer, into: db + k * width, count: width, overwrite: overwrite) }
                    }
                } else {
                    clear(db, count: count * width, if: overwrite)
                    let divisor = UnsafePointer(value(rb) + start * width)
                    if other.rowStride == 0 && other.stride != 0 {
                        for k in 0..<count {
                            Kernels.accumulateDivisorGradient(g + k * width, other.pointer, aStride: 1, divisor + k * width, bStride: 1,
                                                              into: db + k * width, count: width)
                        }
                    } else {
                        Kernels.accumulateDivisorGradient(g, other.pointer, aStride: other.stride, divisor, bStride: 1, into: db, count: count * width)
                    }
                }
            }
        }
    }

    // MARK: Parameters

    /// Each parameter's gradient summed over all packed rows (nil where not needed or not
    /// read by the step).
    func parameterGradients(needs: [Bool]) -> [Tensor<Scalar>?] {
        var buffers: [Int: UnsafeMutablePointer<Scalar>] = [:]
        defer { for buffer in buffers.values { buffer.deallocate() } }
        func isFresh(_ fixed: StepFixedTensor?) -> Bool {
            guard case .parameter(let p)? = fixed else { return false }
            return buffers[p] == nil
        }
        func gradient(_ fixed: StepFixedTensor?) -> UnsafeMutablePointer<Scalar>? {
            guard case .parameter(let p)? = fixed, needs[p] else { return nil }
            if let buffer = buffers[p] { return buffer }
            let count = run.parameters[p].count
            let buffer = UnsafeMutablePointer<Scalar>.allocate(capacity: Swift.max(count, 1))
            UnsafeMutableRawPointer(buffer).initializeMemory(as: UInt8.self, repeating: 0, count: count * MemoryLayout<Scalar>.stride)
            buffers[p] = buffer
            return buffer
        }
        let rowCount = run.rowCount
        let sharedProducts = program.linearsSharingAGradient
        var takenBySharedProduct = Set<Int>()
        for i in program.instructions.indices {
            let r = program.register(ofInstruction: i)
            guard program.live[r] else { continue }
            let width = program.widths[r]
            let g = UnsafePointer(grads[r])
            switch program.instructions[i] {
            case .linear(let input, let weightRef, let biasRef):
                if takenBySharedProduct.contains(i) { continue }
                if let second = sharedProducts[i], case .linear(let input2, let weightRef2, let biasRef2) = program.instructions[second],
                   let dW = gradient(weightRef), let dW2 = gradient(weightRef2) {
                    // Both weights' gradients from one product `gᵀ · [input | input2]` (their
                    // parameters are read nowhere else, so these are their first and only
                    // gradients); the bias sums, when wanted, as it packs `gᵀ`.
                    takenBySharedProduct.insert(second)
                    let (dB, dB2) = (gradient(biasRef), gradient(biasRef2))
                    let (inWidth, inWidth2) = (program.widths[input], program.widths[input2])
                    Kernels.gemmSharingA(transposeA: true, m: width, k: rowCount, g, lda: width,
                                         value(input), ldb1: inWidth, n1: inWidth, dW, ldc1: inWidth,
                                         value(input2), ldb2: inWidth2, n2: inWidth2, dW2, ldc2: inWidth2, rowSumsOfA: dB ?? dB2)
                    if let dB, let dB2 { dB2.update(from: dB, count: width) }
                    continue
                }
                let inWidth = program.widths[input]
                // A bias's first gradient (its zeroed buffer plus the rows in order) is summed
                // as the weight's product packs `gᵀ`, without a pass of its own.
                let biasInProduct = isFresh(biasRef)
                if let dW = gradient(weightRef) {
                    Kernels.gemm(transposeA: true, transposeB: false, m: width, n: inWidth, k: rowCount, g, lda: width,
                                 value(input), ldb: inWidth, dW, ldc: inWidth, accumulate: true,
                                 rowSumsOfA: biasInProduct ? gradient(biasRef) : nil)
                    if biasInProduct { continue }
                }
                if let dB = gradient(biasRef) { sumRows(g, rowCount, width, into: dB) }
            case .binary(let op, let a, let b):
                for (position, operand) in [a, b].enumerated() {
                    guard case .fixed(let f) = operand, let dV = gradient(f) else { continue }
                    let other = position == 0 ? b : a
                    switch op {
                    case .add: sumRows(g, rowCount, width, into: dV)
                    case .subtract:
                        if position == 0 { sumRows(g, rowCount, width, into: dV) }
                        else { for k in 0..<rowCount { Kernels.axpy(-1, g + k * width, dV, count: width) } }
                    case .multiply:
                        switch other {
                        case .register(let ro):
                            for k in 0..<rowCount { Kernels.accumulateProduct(g + k * width, value(ro) + k * width, into: dV, count: width) }
                        case .scalar(let s):
                            for k in 0..<rowCount { Kernels.axpy(s, g + k * width, dV, count: width) }
                        case .fixed: break
                        }
                    case .divide:
                        guard case .register(let ro) = other else { break }
                        let row = UnsafePointer(run.tensor(f).storage.base)
                        for k in 0..<rowCount {
                            if position == 0 {
                                Kernels.accumulateQuotient(g + k * width, value(ro) + k * width, bStride: 1, into: dV, count: width)
                            } else {
                                Kernels.accumulateDivisorGradient(g + k * width, value(ro) + k * width, aStride: 1, row, bStride: 1,
                                                                  into: dV, count: width)
                            }
                        }
                    }
                }
            case .layerNorm(_, let weightRef, let biasRef, _):
                if let dW = gradient(weightRef) {
                    let saved = run.savedNormalization(r)
                    for k in 0..<rowCount { Kernels.accumulateProduct(g + k * width, saved.rows + k * width, into: dW, count: width) }
                }
                if let dB = gradient(biasRef) { sumRows(g, rowCount, width, into: dB) }
            case .unary, .scale, .narrow, .concatenate:
                break
            }
        }
        return run.parameters.indices.map { p in
            buffers[p].map { buffer in
                Tensor(shape: run.parameters[p].shape) { out in out.baseAddress!.update(from: buffer, count: out.count) }
            }
        }
    }

    private func sumRows(_ g: UnsafePointer<Scalar>, _ rows: Int, _ width: Int, into destination: UnsafeMutablePointer<Scalar>) {
        for k in 0..<rows { Kernels.accumulate(g + k * width, into: destination, count: width) }
    }
}
