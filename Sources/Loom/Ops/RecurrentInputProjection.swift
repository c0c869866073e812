// The input projection of a recurrent layer done a chunk of steps at a time, just before
// those steps run, instead of one product over all rows up front: when the whole projection
// would not stay in cache until the steps read it. The fused recurrence (`StepProjection`,
// with its backward `RecurrentInputGradients`) and a captured step's hoisted values
// (`StepProgramRun.hoistedChunkRows`) follow the same rule (`StepwiseProjection`). Either
// way the products, and their bits, are those of the one `linear` op they stand for.

/// When the fused recurrence projects the input a chunk of steps at a time (see
/// `Recurrence.projectsStepwise`), and a captured step computes its hoisted values so (see
/// `StepProgramRun.hoistedChunkRows`), and how large a chunk may be; tests force either way
/// and small chunks to compare them.
enum StepwiseProjection {
    /// `automatic` chooses by size; `always` and `never` force a way.
    enum Policy { case automatic, always, never }

    /// The policy in effect for the current task.
    @TaskLocal static var policy: Policy = .automatic

    /// The most memory one chunk's projection takes (a chunk always holds at least one step);
    /// tests make it small to run many chunks.
    @TaskLocal static var chunkBytes = 256 << 10

    /// Whether input work of `bytes` over `rows` packed rows in `steps` steps, reading weights
    /// of at most `weightBytes`, runs a chunk of steps at a time under the current policy:
    /// automatically when it takes 1 MB or more (it would not stay in the L2 cache until the
    /// steps read it), if the steps have 48 rows or more on average or the weight takes 512 KB
    /// or less (a product of a few rows reads all of the weight, which costs little while the
    /// weight stays in cache between steps and much when it streams from memory).
    static func chunks(bytes: Int, rows: Int, steps: Int, weightBytes: Int) -> Bool {
        switch policy {
        case .always: return true
        case .never: return false
        case .automatic: return bytes >= 1 << 20 && (rows >= 48 * steps || weightBytes <= 512 << 10)
        }
    }

    /// The most packed rows of one chunk, when each row's input work takes `bytesPerRow`:
    /// `chunkBytes` of them, and never fewer than the first (largest) step's `firstStepRows`.
    static func chunkRows(bytesPerRow: Int, firstStepRows: Int) -> Int {
        Swift.max(firstStepRows, chunkBytes / Swift.max(bytesPerRow, 1))
    }
}

/// The backward of an input projection that the fused recurrence did itself
/// (`RecurrentDirectionInput.inputWeights`): from the gate gradients `g` (`[rows, G·H]`, in
/// the order of the projected rows), the same products `linear`'s backward runs on them,
/// `dW_ih = gᵀ · x`, `db_ih = Σ_rows g` and `dx = g · W_ih`, the last added into a zero
/// gradient of the whole input when the rows were picked from it (`inputRows`), as
/// `indexSelect`'s backward does. So the bits are those of the `linear` op it stands for.
struct RecurrentInputGradients<Scalar: TensorScalar> {
    /// The input the rows were read from, `[inputCount, I]`.
    let input: Tensor<Scalar>
    let inputRows: [Int]?
    let weight: Tensor<Scalar>
    let hasBias: Bool
    let needsWeight: Bool, needsBias: Bool

    init(input: Tensor<Scalar>, inputRows: [Int]?, weights: RecurrentInputWeights<Scalar>) {
        self.input = input
        self.inputRows = inputRows
        weight = weights.weight.detached()
        hasBias = weights.bias != nil
        needsWeight = weights.weight.requiresGrad
        needsBias = weights.bias?.requiresGrad ?? false
    }

    /// Whether `W_ih` or `b_ih` needs a gradient (which needs the gate gradients).
    var needsWeights: Bool { needsWeight || needsBias }

    /// The input rows in the order of the gate gradients, `[rows, I]` (gathered when the rows
    /// were picked from the input): the right operand of `dW_ih = gᵀ · x`.
    func rowsInGateOrder() -> Tensor<Scalar> {
        inputRows.map { input.indexSelect(dim: 0, index: IntTensor($0)) } ?? input
    }

    /// The gradients of the input, `W_ih` and `b_ih` (each `nil` when not needed) from the
    /// gate gradients `gates` (`nil` when nothing needs them). `parameters`, when given, are
    /// the gradients of `W_ih` and `b_ih` already computed with those of `W_hh` and `b_hh`.
    func gradients(gates: Tensor<Scalar>?, inputNeedsGradient: Bool,
                   parameters computed: (weight: Tensor<Scalar>?, bias: Tensor<Scalar>?)? = nil)
        -> (input: Tensor<Scalar>?, weight: Tensor<Scalar>?, bias: Tensor<Scalar>?) {
        guard let gates else { return (nil, nil, nil) }
        let rows = gates.shape[0], gateCount = weight.shape[0], inputSize = weight.shape[1]
        let g = UnsafePointer(gates.storage.base)
        var parameters: (weight: Tensor<Scalar>?, bias: Tensor<Scalar>?) = computed ?? (nil, nil)
        if needsWeights && computed == nil {
            let rowsOfX = rowsInGateOrder()
            parameters = withExtendedLifetime(rowsOfX) {
                linearParameterGradients(g, UnsafePointer(rowsOfX.storage.base), rows: rows, outFeatures: gateCount,
                                         inFeatures: inputSize, weight: needsWeight, bias: hasBias && needsBias)
            }
        }
        guard inputNeedsGradient else { return (nil, parameters.weight, parameters.bias) }
        let dxRows = linearInputGradient(g, weight: weight, rows: rows, shape: [rows, inputSize])
        guard let inputRows else { return (dxRows, parameters.weight, parameters.bias) }
        return (Tensor.indexSelectGradient(dxRows, inputShape: input.shape, axis: 0, picks: inputRows), parameters.weight,
                parameters.bias)
    }
}

/// The input projection done a chunk of steps at a time (`RecurrentDirectionInput.inputWeights`):
/// the packed `W_ihᵀ`, the bias, and the buffer of a chunk's `[rows, G·H]` projection. A chunk
/// is a run of consecutive steps projected by one product: bigger than one step's, so each
/// packed panel of `W_ihᵀ` serves more rows, and small enough to stay in cache until the steps
/// read it. Its input rows are read where they are when they lie evenly spaced in the input
/// (all packed rows do), else (`inputRows`) copied together first.
struct StepProjection<Scalar: TensorScalar> {
    let packedWeight: GemmPackedB<Scalar>
    let bias: UnsafePointer<Scalar>?
    let inputSize: Int
    /// The most rows a chunk of several steps may have.
    let rowBudget: Int
    let gates: UnsafeMutablePointer<Scalar>
    /// With `inputRows`: the chunk's input rows, copied together (`[rowBudget, I]`).
    let gathered: UnsafeMutablePointer<Scalar>?

    /// Packs `weights` (or takes the packed form the weight's storage keeps) and allocates the
    /// projection of a chunk: up to `StepwiseProjection.chunkBytes` of rows, and never less
    /// than the first (largest) step; `gathers` also allocates the chunk's input rows.
    init(weights: RecurrentInputWeights<Scalar>, plan: StepPlan, gathers: Bool) {
        let weight = weights.weight, gateCount = weight.shape[0]
        inputSize = weight.shape[1]
        packedWeight = weight.storage.packedRightOperand(transposed: true, k: inputSize, n: gateCount)
            ?? GemmPackedB(weight.storage.base, ldb: inputSize, transposed: true, k: inputSize, n: gateCount)
        bias = weights.bias.map { UnsafePointer($0.storage.base) }
        rowBudget = StepwiseProjection.chunkRows(bytesPerRow: gateCount * MemoryLayout<Scalar>.stride,
                                                 firstStepRows: plan.batchSizes.first ?? 0)
        gates = UnsafeMutablePointer.allocate(capacity: max(rowBudget * gateCount, 1))
        gathered = gathers ? UnsafeMutablePointer.allocate(capacity: max(rowBudget * inputSize, 1)) : nil
    }

    func deallocate() {
        gates.deallocate()
        gathered?.deallocate()
    }

    /// The step after the chunk that starts at step `t`: the steps from `t` on within
    /// `rowBudget` rows (at least step `t`) whose rows, unless they are copied together,
    /// continue one evenly spaced run of `d.projected`.
    func chunkEnd(from t: Int, _ d: RecurrentDirectionInput<Scalar>, plan: StepPlan) -> Int {
        let first = plan.offsets[t], firstRow = d.gateRow(first), stride = d.rowStride(step: t, plan: plan)
        var end = t + 1
        while end < plan.batchSizes.count {
            let size = plan.batchSizes[end], offset = plan.offsets[end]
            guard offset + size - first <= rowBudget, size > 0 else { break }
            if d.inputRows == nil {
                guard d.gateRow(offset) == firstRow + (offset - first) * stride,
                      size == 1 || d.rowStride(step: end, plan: plan) == stride else { break }
            }
            end += 1
        }
        return end
    }

    /// The first rows of `gates` = `x · W_ihᵀ + b_ih` for the packed rows of steps `t..<end`,
    /// whose input rows `d.projected` holds (as `linear` computes it).
    func project(steps t: Int, to end: Int, _ d: RecurrentDirectionInput<Scalar>, plan: StepPlan, threads: Int) {
        let first = plan.offsets[t], rows = plan.offsets[end - 1] + plan.batchSizes[end - 1] - first
        let input = UnsafePointer(d.projected.storage.base)
        let a: UnsafePointer<Scalar>, lda: Int
        if let inputRows = d.inputRows, let gathered {
            for r in 0..<rows { (gathered + r * inputSize).update(from: input + inputRows[first + r] * inputSize, count: inputSize) }
            (a, lda) = (UnsafePointer(gathered), inputSize)
        } else {
            (a, lda) = (input + d.gateRow(first) * inputSize, d.rowStride(step: t, plan: plan) * inputSize)
        }
        Kernels.gemmPrepacked(transposeA: false, m: rows, a, lda: lda, packedWeight, gates, ldc: packedWeight.n, accumulate: false,
                              bias: bias, threads: threads)
    }
}
