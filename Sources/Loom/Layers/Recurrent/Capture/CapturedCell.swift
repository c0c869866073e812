import Synchronization

/// A recurrent cell stepped by hand — a decoder loop calling it once per output step — whose
/// step runs as one op on the tape: the step is captured into a program of Loom's primitive
/// ops on the first call (and again whenever a parameter or the shapes change), then each
/// call replays it without a tensor or tape node per op.
///
/// The results equal calling the cell directly (forward bit for bit, gradients to rounding).
/// A step the capture cannot express (see `Recurrence.captureStatus()` for what it can) runs
/// op by op, as the cell itself would; `isCaptured` tells which.
///
/// ```swift
/// let decoder = CapturedCell(MyDecoderCell(...))
/// var state = decoder.cell.zeroState(batchSize: 64)
/// for t in 0..<steps {
///     let (output, next) = decoder(inputs[t], state: state)   // [64, outputSize]
///     state = next
/// }
/// ```
public final class CapturedCell<Cell: RecurrentCell>: @unchecked Sendable {
    /// The element type of the cell's tensors.
    public typealias Scalar = Cell.Scalar

    /// The cell. Replacing it (or any of its parameters) makes the next call capture again.
    public var cell: Cell {
        get { lock.withLock { _ in storedCell } }
        set { lock.withLock { cache in storedCell = newValue; cache = nil } }
    }

    private var storedCell: Cell
    /// The program and what it was captured for, or the reason the step cannot be captured.
    private let lock = Mutex<CapturedCellCache<Scalar>?>(nil)

    /// Wraps `cell`.
    public init(_ cell: Cell) {
        storedCell = cell
    }

    /// Whether the last call ran the captured program (false: op by op, or not called yet).
    public var isCaptured: Bool { lock.withLock { if case .program? = $0?.entry { return true } else { return false } } }

    /// One step for a batch: `input` `[batch, inputSize]` and the state (as the cell's
    /// `zeroState` shapes it) give the output `[batch, outputSize]` and the next state.
    public func callAsFunction(_ input: Tensor<Scalar>, state: [Tensor<Scalar>]) -> (output: Tensor<Scalar>, state: [Tensor<Scalar>]) {
        let cell = self.cell
        let parameters = cell.parameters()
        let key = CapturedCellKey(input: input, state: state, parameters: parameters)
        let cached = lock.withLock { cache -> StepCaptureEntry<Scalar>? in cache?.key == key ? cache?.entry : nil }
        let entry: StepCaptureEntry<Scalar>
        if let cached {
            entry = cached
        } else {
            switch StepProgram.capture(cell, parameters: parameters, input: input, state: state) {
            case .success(let program): entry = .program(program)
            case .failure(let failure):
                warnStepCaptureFallback(cell: Cell.self, reason: failure.reason)
                entry = .opByOp
            }
            lock.withLock { $0 = CapturedCellCache(key: key, entry: entry) }
        }
        guard case .program(let program) = entry, input.rank == 2, input.shape[0] > 0 else { return cell(input, state: state) }
        let batch = input.shape[0]
        let result = capturedSequence(program, parameters: parameters, data: input, batchSizes: [batch], batch: batch,
                                      reversed: false, start: state)
        return (result.output, result.states)
    }
}

/// What a `CapturedCell`'s program was captured for: the input and state widths and the
/// identity of every parameter (its storage and tape node), so a replaced or resized
/// parameter, or another layout of the state, captures again.
struct CapturedCellKey: Equatable {
    var widths: [Int]
    var parameters: [ObjectIdentifier?]

    init<Scalar>(input: Tensor<Scalar>, state: [Tensor<Scalar>], parameters: [Tensor<Scalar>]) {
        widths = ([input] + state).flatMap { [$0.rank] + $0.shape.dropFirst() }
        self.parameters = parameters.flatMap { [ObjectIdentifier($0.storage), $0.node.map { ObjectIdentifier($0) }] }
    }
}

enum StepCaptureEntry<Scalar: TensorScalar> {
    case program(StepProgram<Scalar>)
    case opByOp
}

struct CapturedCellCache<Scalar: TensorScalar> {
    var key: CapturedCellKey
    var entry: StepCaptureEntry<Scalar>
}
