import Synchronization

// Recording one step of a recurrent cell as a program. While a trace is active (only inside
// `StepProgram.capture`), every op that the program can replay reports itself here after it
// ran: which op, on which tensors, giving which tensor. Tensors are recognized by their tape
// node (the step's input and state are fresh leaves, so everything computed from them has
// a node of its own), parameters by their storage and node, and anything else without a
// node is a constant. An input the trace cannot place, or an op it cannot replay, ends the
// trace with the reason; the cell then runs op by op.

/// The ops a captured step can contain, with the attributes replay needs.
package enum TracedOp<Scalar: TensorScalar> {
    /// `x · Wᵀ (+ b)`: inputs `[x, weight]` or `[x, weight, bias]`.
    case linear
    /// An elementwise `+ - * /` with broadcasting: inputs `[a, b]`.
    case binary(StepBinaryOp)
    /// An elementwise function of one input.
    case unary(StepUnaryOp)
    /// Multiplication by a scalar.
    case scale(Scalar)
    /// `narrow(dim: axis, start:, length:)`.
    case narrow(axis: Int, start: Int, length: Int)
    /// `cat(_, dim: axis)` of all inputs.
    case concatenate(axis: Int)
    /// Layer normalization over the last axis: inputs `[x]`, then weight and bias if present.
    case layerNorm(epsilon: Scalar, hasWeight: Bool, hasBias: Bool)
}

/// The elementwise binary ops a captured step can replay.
package enum StepBinaryOp: Sendable { case add, subtract, multiply, divide }

/// The elementwise functions a captured step can replay.
package enum StepUnaryOp: Sendable { case negate, exp, log, tanh, sigmoid, relu }

/// The switch every replayable op checks after computing its result: a relaxed atomic load
/// while no trace is running anywhere, and a task-local lookup only while one is.
package enum StepTracing {
    private static let activeTraces = Atomic<Int>(0)
    @TaskLocal static var current: (any AnyObject & Sendable)?

    /// Whether some task is tracing a step now (then `note` looks for this task's trace).
    @inline(__always) package static var isActive: Bool { activeTraces.load(ordering: .relaxed) > 0 }

    /// Reports that `op` applied to `inputs` gave `output`, to this task's trace if any.
    package static func note<Scalar>(_ op: TracedOp<Scalar>, _ inputs: [Tensor<Scalar>], _ output: Tensor<Scalar>) {
        (current as? StepTrace<Scalar>)?.note(op, inputs, output)
    }

    /// Runs `body` with `trace` receiving the reports of this task's ops.
    static func with<R>(_ trace: any AnyObject & Sendable, _ body: () -> R) -> R {
        activeTraces.wrappingAdd(1, ordering: .relaxed)
        defer { activeTraces.wrappingSubtract(1, ordering: .relaxed) }
        return $current.withValue(trace, operation: body)
    }
}

extension Tensor {
    /// Reports this freshly computed result of `op` on `inputs` to a running step trace.
    @inline(__always)
    func traced(_ op: @autoclosure () -> TracedOp<Scalar>, _ inputs: @autoclosure () -> [Tensor]) -> Tensor {
        if StepTracing.isActive { StepTracing.note(op(), inputs(), self) }
        return self
    }
}

/// What a traced tensor is to the program.
package enum StepOperand<Scalar: TensorScalar> {
    /// A value of the step: the input, a state, or an op's result.
    case register(Int)
    /// A tensor that is not a value of the step: a parameter of the cell (index into its
    /// `parameters()`) or a constant of the program (index into `constants`).
    case fixed(StepFixedTensor)
    /// A scalar constant (a zero-dimensional tensor without a gradient).
    case scalar(Scalar)
}

/// A tensor a captured step reads that does not change from step to step.
package enum StepFixedTensor: Hashable, Sendable {
    /// The cell's parameter at this index of `parameters()`; it gets a gradient.
    case parameter(Int)
    /// The program's constant at this index; no gradient.
    case constant(Int)
}

/// One instruction of a captured step; its result is a new register.
package enum StepInstruction<Scalar: TensorScalar> {
    /// `input · weightᵀ (+ bias)`; weight `[width, inputWidth]`, bias `[width]`.
    case linear(input: Int, weight: StepFixedTensor, bias: StepFixedTensor?)
    /// `a op b` with registers of one width, a fixed `[width]` row broadcast over the rows, or
    /// a scalar (at least one of them a register).
    case binary(StepBinaryOp, StepOperand<Scalar>, StepOperand<Scalar>)
    /// `f(input)`.
    case unary(StepUnaryOp, input: Int)
    /// `input · factor`.
    case scale(input: Int, factor: Scalar)
    /// Columns `start..<start + width` of `input`.
    case narrow(input: Int, start: Int)
    /// The inputs' columns side by side.
    case concatenate([Int])
    /// Layer normalization of each row of `input`.
    case layerNorm(input: Int, weight: StepFixedTensor?, bias: StepFixedTensor?, epsilon: Scalar)
}

/// The trace of one step being captured: registers by tape node, the instructions so far,
/// and the first reason the step cannot be captured. Only the task that runs the capture
/// reaches it (through its task-local value), so it needs no lock.
final class StepTrace<Scalar: TensorScalar>: @unchecked Sendable {
    /// The rows of every step value (the captured batch).
    let rows: Int
    /// The width of each register.
    private(set) var widths: [Int] = []
    private(set) var instructions: [StepInstruction<Scalar>] = []
    private(set) var constants: [Tensor<Scalar>] = []
    private(set) var failure: String?
    private var registerByNode: [ObjectIdentifier: Int] = [:]
    private var registerStorages: Set<ObjectIdentifier> = []
    private let parameters: [Tensor<Scalar>]
    /// Tensors the trace refers to, kept alive so no identity is reused while it runs.
    private var kept: [Tensor<Scalar>] = []

    init(rows: Int, parameters: [Tensor<Scalar>]) {
        self.rows = rows
        self.parameters = parameters
    }

    /// Adds a value of the step that is not computed by an op (the input, a state).
    func addRegister(_ tensor: Tensor<Scalar>) {
        precondition(tensor.node != nil && tensor.rank == 2 && tensor.shape[0] == rows)
        define(tensor)
    }

    private func define(_ tensor: Tensor<Scalar>) {
        registerByNode[ObjectIdentifier(tensor.node!)] = widths.count
        registerStorages.insert(ObjectIdentifier(tensor.storage))
        widths.append(tensor.shape[1])
        kept.append(tensor)
    }

    /// The register holding `tensor`, or nil (with the failure set) if it is not one.
    func register(of tensor: Tensor<Scalar>, role: String) -> Int? {
        if case .register(let r)? = operand(tensor) { return r }
        fail("\(role) is not a value computed in the step from its input and state")
        return nil
    }

    /// What `tensor` is to the program, or nil if it is none of the operand kinds.
    func operand(_ tensor: Tensor<Scalar>) -> StepOperand<Scalar>? {
        if let node = tensor.node, let r = registerByNode[ObjectIdentifier(node)] {
            return tensor.shape == [rows, widths[r]] ? .register(r) : nil
        }
        let storage = ObjectIdentifier(tensor.storage)
        for (index, parameter) in parameters.enumerated()
        where ObjectIdentifier(parameter.storage) == storage && parameter.node === tensor.node && parameter.shape == tensor.shape {
            return .fixed(.parameter(index))
        }
        // A tensor with a node that is not a register was made by an op the trace did not
        // see from values of the step; one that shares a register's storage is a detached
        // or reshaped value of the step. Neither is a constant.
        guard tensor.node == nil, !registerStorages.contains(storage), tensor.storage.deferredTranspose == nil else { return nil }
        if tensor.rank == 0 { return .scalar(tensor.storage.base[0]) }
        kept.append(tensor)
        constants.append(tensor)
        return .fixed(.constant(constants.count - 1))
    }

    /// A fixed tensor of exactly `shape`, or nil (with the failure set).
    private func fixed(_ tensor: Tensor<Scalar>, shape: [Int], role: String) -> StepFixedTensor? {
        if case .fixed(let f)? = operand(tensor), tensor.shape == shape { return f }
        fail("\(role) must be a parameter or constant of shape \(shape), got \(tensor.shape)")
        return nil
    }

    func fail(_ reason: String) {
        if failure == nil { failure = reason }
    }

    /// Records one op (see `StepTracing.note`).
    func note(_ op: TracedOp<Scalar>, _ inputs: [Tensor<Scalar>], _ output: Tensor<Scalar>) {
        guard failure == nil else { return }
        // An op on fixed tensors only is itself a constant; it matters only if used.
        guard inputs.contains(where: { $0.node.map { registerByNode[ObjectIdentifier($0)] != nil } ?? false }) else { return }
        guard output.node != nil, output.rank == 2, output.shape[0] == rows else {
            return fail("an op's result \(output.shape) is not a [\(rows), width] value of the step")
        }
        let width = output.shape[1]
        let instruction: StepInstruction<Scalar>?
        switch op {
        case .linear:
            guard let x = register(of: inputs[0], role: "linear's input"),
                  let weight = fixed(inputs[1], shape: [width, widths[x]], role: "linear's weight") else { return }
            var bias: StepFixedTensor? = nil
            if inputs.count == 3 {
                guard let b = fixed(inputs[2], shape: [width], role: "linear's bias") else { return }
                bias = b
            }
            instruction = .linear(input: x, weight: weight, bias: bias)
        case .binary(let kind):
            guard let a = binaryOperand(inputs[0], width: width), let b = binaryOperand(inputs[1], width: width) else { return }
            instruction = .binary(kind, a, b)
        case .unary(let kind):
            guard let x = register(of: inputs[0], role: "an elementwise function's input") else { return }
            instruction = .unary(kind, input: x)
        case .scale(let factor):
            guard let x = register(of: inputs[0], role: "a scaled value") else { return }
            instruction = .scale(input: x, factor: factor)
        case .narrow(let axis, let start, _):
            guard axis == 1 else { return fail("narrow/chunk/split along dim \(axis); a step may only split features (dim 1)") }
            guard let x = register(of: inputs[0], role: "narrow's input") else { return }
            instruction = .narrow(input: x, start: start)
        case .concatenate(let axis):
            guard axis == 1 else { return fail("cat along dim \(axis); a step may only join features (dim 1)") }
            var parts: [Int] = []
            for input in inputs {
                guard let r = register(of: input, role: "an input of cat") else { return }
                parts.append(r)
            }
            instruction = .concatenate(parts)
        case .layerNorm(let epsilon, let hasWeight, let hasBias):
            guard let x = register(of: inputs[0], role: "layerNorm's input") else { return }
            var next = 1
            var weight: StepFixedTensor? = nil, bias: StepFixedTensor? = nil
            if hasWeight {
                guard let w = fixed(inputs[next], shape: [width], role: "layerNorm's weight") else { return }
                weight = w
                next += 1
            }
            if hasBias {
                guard let b = fixed(inputs[next], shape: [width], role: "layerNorm's bias") else { return }
                bias = b
            }
            instruction = .layerNorm(input: x, weight: weight, bias: bias, epsilon: epsilon)
        }
        guard let instruction else { return }
        instructions.append(instruction)
        define(output)
    }

    /// An operand of an elementwise op of result width `width`: a register of that width, a
    /// fixed `[width]` (or `[1, width]`) row, or a scalar.
    private func binaryOperand(_ tensor: Tensor<Scalar>, width: Int) -> StepOperand<Scalar>? {
        switch operand(tensor) {
        case .register(let r)? where widths[r] == width: return .register(r)
        case .scalar(let s)?: return .scalar(s)
        case .fixed(let f)? where tensor.shape == [width] || tensor.shape == [1, width]: return .fixed(f)
        case .fixed?: fail("an elementwise op broadcasts \(tensor.shape) over the rows; a step may only broadcast a [\(width)] row or a scalar")
        default: fail("an input of an elementwise op \(tensor.shape) is not a [\(rows), \(width)] value of the step, a [\(width)] row or a scalar")
        }
        return nil
    }
}
