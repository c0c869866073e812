import Foundation
import Synchronization

/// A recurrent cell's step captured as a small program of Loom's primitive ops, which
/// `Recurrence` replays over the packed rows of a batch instead of running the cell's ops
/// one by one.
///
/// Registers hold the step's values, each `[rows, width]`: register 0 is the step input,
/// registers `1...states` the state, and each instruction defines the next register.
/// Registers computed from the input and fixed tensors alone are *hoisted*: replay computes
/// them once for all rows of all steps (the input projection becomes one product over the
/// whole sequence).
package struct StepProgram<Scalar: TensorScalar> {
    /// The width of each register.
    let widths: [Int]
    /// Instruction `i` defines register `firstComputedRegister + i`.
    let instructions: [StepInstruction<Scalar>]
    /// Constant tensors the instructions read (`StepFixedTensor.constant`).
    let constants: [Tensor<Scalar>]
    /// The number of state tensors.
    let stateCount: Int
    /// The register of the step's output.
    let outputRegister: Int
    /// The register of each next-state tensor.
    let stateOutputRegisters: [Int]
    /// Per register: computed from the step input and fixed tensors only.
    let hoisted: [Bool]
    /// Per register: read, directly or not, by the output or the next state.
    let live: [Bool]
    /// Per register: whether backward reads its values (the input of a product, an operand
    /// of a multiplication or division, the result of exp/tanh/sigmoid/relu, the input of
    /// log). Replay keeps every row of these; the others only need the current step's.
    let valuesReadByBackward: [Bool]

    var firstComputedRegister: Int { 1 + stateCount }

    /// Per register: whether a backward pass keeps its gradient for every packed row: the
    /// input's, the states', the output's and the next states' (they cross steps), the
    /// hoisted registers' (backpropagated after the walk over the steps), and those the
    /// parameters' gradients are summed from (the results of products with a weight or a
    /// bias, of operations with a fixed tensor, of layer norms). Any other register's gradient
    /// is made and used within one step.
    var gradientsKeptForAllRows: [Bool] {
        var kept = widths.indices.map { r in r <= stateCount || hoisted[r] || r == outputRegister }
        for r in stateOutputRegisters { kept[r] = true }
        for (i, instruction) in instructions.enumerated() {
            switch instruction {
            case .linear, .layerNorm:
                kept[register(ofInstruction: i)] = true
            case .binary(_, let a, let b):
                for operand in [a, b] { if case .fixed = operand { kept[register(ofInstruction: i)] = true } }
            default:
                break
            }
        }
        return kept
    }

    /// Per register, the live instructions that read it.
    private(set) var liveReaders: [[Int]] = []
    /// Per register, the register whose gradient buffer a backward pass shares with it
    /// (itself for most): a register read only by a sum `a + b` (or as the `a` of `a - b`)
    /// has exactly the sum's gradient, so it uses the sum's buffer instead of a copy of it.
    private(set) var gradientShares: [Int] = []
    /// Pairs of live `linear` instructions whose results have one gradient buffer (each is read
    /// only by sums that lead to the same buffer, as in `linear(x, W_ih, b) + linear(h, W_hh)`)
    /// and whose weights and biases are parameters or constants read by no other instruction:
    /// their weight gradients `gᵀ · input` share their left operand, so a backward pass takes
    /// both from one product. Keyed by the earlier instruction.
    private(set) var linearsSharingAGradient: [Int: Int] = [:]
    /// Per register: whether every live instruction reading it is a column slice and the
    /// slices cover its columns once each (a `chunk`), so each slice's gradient is written
    /// into its columns as it is, with nothing to zero or add.
    private(set) var tiledBySlices: [Bool] = []

    private func readersOfRegisters() -> [[Int]] {
        var readers = [[Int]](repeating: [], count: widths.count)
        for (i, instruction) in instructions.enumerated() where live[register(ofInstruction: i)] {
            for r in instruction.registerInputs where !readers[r].contains(i) { readers[r].append(i) }
        }
        return readers
    }

    private func sharedGradients() -> [Int] {
        let readers = liveReaders
        let seeded = Set([outputRegister] + stateOutputRegisters)
        var shares = Array(widths.indices)
        for (i, instruction) in instructions.enumerated() where live[register(ofInstruction: i)] {
            guard case .binary(let op, let a, let b) = instruction, op == .add || op == .subtract else { continue }
            for (position, operand) in [a, b].enumerated() where position == 0 || op == .add {
                guard case .register(let x) = operand, x > stateCount, readers[x] == [i], !seeded.contains(x) else { continue }
                if case .register(let other) = position == 0 ? b : a, other == x { continue }
                shares[x] = register(ofInstruction: i)
            }
        }
        return shares
    }

    private func registersTiledBySlices() -> [Bool] {
        liveReaders.enumerated().map { r, readers in
            guard !readers.isEmpty else { return false }
            var columns: [(start: Int, width: Int)] = []
            for i in readers {
                guard case .narrow(_, let start) = instructions[i] else { return false }
                columns.append((start, widths[register(ofInstruction: i)]))
            }
            columns.sort { $0.start < $1.start }
            var next = 0
            for slice in columns {
                guard slice.start == next else { return false }
                next += slice.width
            }
            return next == widths[r]
        }
    }

    /// The register instruction `index` defines.
    func register(ofInstruction index: Int) -> Int { firstComputedRegister + index }

    /// Captures `cell`'s step by running it once on `input` `[rows, inputSize]` and `state`
    /// (each `[rows, width]`) with every replayable op reporting itself; `parameters` is the
    /// cell's `parameters()`, which `StepFixedTensor.parameter` indexes. Fails with the
    /// reason when the step uses an op, a shape or a tensor the program cannot express.
    static func capture<Cell: RecurrentCell>(_ cell: Cell, parameters: [Tensor<Scalar>], input: Tensor<Scalar>, state: [Tensor<Scalar>])
        -> Result<StepProgram, StepCaptureFailure> where Cell.Scalar == Scalar {
        let rows = input.shape[0]
        guard input.rank == 2, rows > 0 else { return .failure(StepCaptureFailure(reason: "the step input is not [batch, features]")) }
        for tensor in state where tensor.rank != 2 || tensor.shape[0] != rows {
            return .failure(StepCaptureFailure(reason: "a state tensor \(tensor.shape) is not [batch, width]"))
        }
        let trace = StepTrace<Scalar>(rows: rows, parameters: parameters)
        let x = input.detached().requiringGrad()
        let states = state.map { $0.detached().requiringGrad() }
        trace.addRegister(x)
        for s in states { trace.addRegister(s) }
        let step = Tape.withGradient { StepTracing.with(trace) { cell(x, state: states) } }
        guard step.state.count == states.count else {
            return .failure(StepCaptureFailure(reason: "the step returns \(step.state.count) state tensors for \(states.count)"))
        }
        let output = trace.register(of: step.output, role: "the step's output")
        var stateOutputs: [Int] = []
        for (i, next) in step.state.enumerated() {
            guard let r = trace.register(of: next, role: "next state \(i)") else { break }
            guard trace.widths[r] == states[i].shape[1] else {
                trace.fail("next state \(i) has width \(trace.widths[r]), the state \(states[i].shape[1])")
                break
            }
            stateOutputs.append(r)
        }
        if let reason = trace.failure { return .failure(StepCaptureFailure(reason: reason)) }
        return .success(StepProgram(widths: trace.widths, instructions: trace.instructions, constants: trace.constants,
                                    stateCount: states.count, outputRegister: output!, stateOutputRegisters: stateOutputs))
    }

    init(widths: [Int], instructions: [StepInstruction<Scalar>], constants: [Tensor<Scalar>], stateCount: Int,
         outputRegister: Int, stateOutputRegisters: [Int]) {
        self.widths = widths
        self.instructions = instructions
        self.constants = constants
        self.stateCount = stateCount
        self.outputRegister = outputRegister
        self.stateOutputRegisters = stateOutputRegisters
        let first = 1 + stateCount
        var hoisted = [true] + [Bool](repeating: false, count: widths.count - 1)
        for (i, instruction) in instructions.enumerated() {
            hoisted[first + i] = instruction.registerInputs.allSatisfy { hoisted[$0] }
        }
        var live = [Bool](repeating: false, count: widths.count)
        live[outputRegister] = true
        for r in stateOutputRegisters { live[r] = true }
        for i in instructions.indices.reversed() where live[first + i] {
            for r in instructions[i].registerInputs { live[r] = true }
        }
        var read = [Bool](repeating: false, count: widths.count)
        for (i, instruction) in instructions.enumerated() {
            switch instruction {
            case .linear(let input, _, _):
                read[input] = true
            case .binary(let op, let a, let b) where op == .multiply || op == .divide:
                for operand in [a, b] { if case .register(let r) = operand { read[r] = true } }
            case .unary(let function, let input):
                if function == .log { read[input] = true } else if function != .negate { read[first + i] = true }
            default:
                break
            }
        }
        self.hoisted = hoisted
        self.live = live
        valuesReadByBackward = read
        liveReaders = readersOfRegisters()
        gradientShares = sharedGradients()
        tiledBySlices = registersTiledBySlices()
        linearsSharingAGradient = linearPairsSharingAGradient()
    }

    private func linearPairsSharingAGradient() -> [Int: Int] {
        // The buffer a register's gradient ends up in (a sum's own may be shared in turn).
        func buffer(_ r: Int) -> Int { gradientShares[r] == r ? r : buffer(gradientShares[r]) }
        var uses: [StepFixedTensor: Int] = [:]
        var linears: [(instruction: Int, buffer: Int)] = []
        for (i, instruction) in instructions.enumerated() where live[register(ofInstruction: i)] {
            for fixed in instruction.fixedInputs { uses[fixed, default: 0] += 1 }
            let r = register(ofInstruction: i), root = buffer(r)
            if root != r, case .linear(_, .parameter, _) = instruction { linears.append((i, root)) }
        }
        func readOnlyThere(_ i: Int) -> Bool {
            guard case .linear(_, let weight, let bias) = instructions[i] else { return false }
            return uses[weight] == 1 && bias.map { uses[$0] == 1 } ?? true
        }
        var pairs: [Int: Int] = [:], paired = Set<Int>()
        for (n, first) in linears.enumerated() where !paired.contains(first.instruction) && readOnlyThere(first.instruction) {
            guard let second = linears[(n + 1)...].first(where: { $0.buffer == first.buffer && !paired.contains($0.instruction)
                                                                   && readOnlyThere($0.instruction) }) else { continue }
            pairs[first.instruction] = second.instruction
            paired.formUnion([first.instruction, second.instruction])
        }
        return pairs
    }

    /// Whether a replay runs instruction `i` (it is live) once for all rows (`hoisted`) or per
    /// step (not `hoisted`).
    func runs(_ i: Int, hoisted: Bool) -> Bool {
        let r = register(ofInstruction: i)
        return live[r] && self.hoisted[r] == hoisted
    }
}

/// Why a cell's step could not be captured (it then runs op by op).
package struct StepCaptureFailure: Error {
    let reason: String
}

extension StepInstruction {
    /// The registers the instruction reads.
    var registerInputs: [Int] {
        switch self {
        case .linear(let input, _, _), .unary(_, let input), .scale(let input, _), .narrow(let input, _),
             .layerNorm(let input, _, _, _):
            return [input]
        case .binary(_, let a, let b):
            return [a, b].compactMap { if case .register(let r) = $0 { return r } else { return nil } }
        case .concatenate(let parts):
            return parts
        }
    }

    /// The parameters and constants the instruction reads.
    var fixedInputs: [StepFixedTensor] {
        switch self {
        case .linear(_, let weight, let bias):
            return [weight] + [bias].compactMap { $0 }
        case .layerNorm(_, let weight, let bias, _):
            return [weight, bias].compactMap { $0 }
        case .binary(_, let a, let b):
            return [a, b].compactMap { if case .fixed(let f) = $0 { return f } else { return nil } }
        case .unary, .scale, .narrow, .concatenate:
            return []
        }
    }
}

/// How `Recurrence` runs its cells' steps.
public enum StepExecution: Sendable {
    /// Each cell's step is captured once per call into a program of Loom's primitive ops and
    /// replayed over the packed rows (one tape op for the whole sequence, input-only work done
    /// once for all steps); a step the capture cannot express runs op by op. The default.
    case captured
    /// Every step runs the cell's ops one by one, each recorded on the tape.
    case opByOp
}

/// What `Recurrence.captureStatus()` finds.
public enum StepCaptureStatus: Equatable, Sendable {
    /// Every cell's step is captured: `instructions` ops per step (for the first cell),
    /// `hoisted` of them done once for all steps.
    case captured(instructions: Int, hoisted: Int)
    /// A cell's step runs op by op, for `reason`.
    case opByOp(reason: String)
    /// The cells are built-in cells that run as the hand-written fused recurrence (one op per
    /// layer), which needs no capture.
    case fused
}

/// Prints, once per cell type and reason and only in debug builds, that a cell runs op by op.
func warnStepCaptureFallback(cell: Any.Type, reason: String) {
    #if DEBUG
    let key = "\(cell): \(reason)"
    let first = stepCaptureWarnings.withLock { $0.insert(key).inserted }
    if first {
        FileHandle.standardError.write(Data("Loom: Recurrence<\(cell)> runs its step op by op: \(reason)\n".utf8))
    }
    #endif
}

private let stepCaptureWarnings = Mutex<Set<String>>([])
