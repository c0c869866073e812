/// A batch of variable-length sequences packed time step by time step, with PyTorch's
/// exact layout (`torch.nn.utils.rnn.PackedSequence`): sequences sorted by decreasing
/// length, `data` holding step 0 of every sequence, then step 1 of every sequence still
/// running, and so on.
public struct PackedSequence<Scalar: TensorScalar> {
    /// The packed steps, `[sum of lengths, features...]`.
    public var data: Tensor<Scalar>
    /// How many sequences are still running at each time step (non-increasing).
    public let batchSizes: [Int]
    /// `sortedIndices[k]` is the original batch position of the k-th longest sequence.
    public let sortedIndices: [Int]
    /// The inverse permutation: `unsortedIndices[b]` is where original sequence b sits in
    /// the sorted order.
    public let unsortedIndices: [Int]

    /// Each sequence's length, in the original batch order.
    public var lengths: [Int] {
        var result = [Int](repeating: 0, count: sortedIndices.count)
        for (rank, b) in sortedIndices.enumerated() {
            result[b] = batchSizes.reduce(0) { $0 + ($1 > rank ? 1 : 0) }
        }
        return result
    }
}

/// Packs a padded batch (PyTorch's `pack_padded_sequence` with `enforce_sorted=False`):
/// `x` is `[batch, time, *]` when `batchFirst`, else `[time, batch, *]`; lengths may come
/// in any order and may be zero (PyTorch rejects zero). Differentiable: gradients flow
/// from `data` back to `x`.
///
/// - Throws: `SequenceLengthError` if the lengths do not fit the batch.
public func packPaddedSequence<Scalar>(_ x: Tensor<Scalar>, lengths: [Int], batchFirst: Bool) throws -> PackedSequence<Scalar> {
    checkShape(x.rank >= 2, "packPaddedSequence: expects [batch, time, ...] or [time, batch, ...], got \(x.shape)")
    let batch = batchFirst ? x.shape[0] : x.shape[1], time = batchFirst ? x.shape[1] : x.shape[0]
    try SequenceLengthError.validate(lengths, batch: batch, time: time, in: "packPaddedSequence")
    return packValidated(x, lengths: lengths, batchFirst: batchFirst)
}

/// `packPaddedSequence` for lengths already known to fit the batch (one per sequence, each in
/// `0...time`).
func packValidated<Scalar>(_ x: Tensor<Scalar>, lengths: [Int], batchFirst: Bool) -> PackedSequence<Scalar> {
    // Packing's layout is the step schedule of the recurrent layers.
    PackedSequence(padded: x, plan: StepPlan(lengths: lengths), batchFirst: batchFirst)
}

extension PackedSequence {
    /// The packed rows `data` of a batch that `plan` schedules.
    init(data: Tensor<Scalar>, plan: StepPlan) {
        self.init(data: data, batchSizes: plan.batchSizes, sortedIndices: plan.order, unsortedIndices: plan.ranks)
    }

    /// The padded batch `x` (`[batch, time, ...]` when `batchFirst`, else `[time, batch, ...]`)
    /// packed as `plan`, the plan of its lengths, schedules it.
    init(padded x: Tensor<Scalar>, plan: StepPlan, batchFirst: Bool) {
        let time = batchFirst ? x.shape[1] : x.shape[0]
        let rows = plan.paddedRows(time: time, batchFirst: batchFirst, reversed: false)
        let flat = x.reshaped([plan.batch * time] + Array(x.shape.dropFirst(2)))
        self.init(data: flat.indexSelect(dim: 0, index: IntTensor(rows)), plan: plan)
    }
}

/// Unpacks to a padded batch (PyTorch's `pad_packed_sequence`): `[batch, time, *]` when
/// `batchFirst`, else `[time, batch, *]`, in the original batch order, with
/// `paddingValue` past each length; `time` is `totalLength` if given (at least the longest
/// length), else the longest length. Also returns the lengths. Differentiable.
public func padPackedSequence<Scalar>(_ packed: PackedSequence<Scalar>, batchFirst: Bool, paddingValue: Scalar = 0,
                                      totalLength: Int? = nil) -> (padded: Tensor<Scalar>, lengths: [Int]) {
    let lengths = packed.lengths
    let batch = lengths.count
    let longest = packed.batchSizes.count
    let time = totalLength ?? longest
    checkShape(time >= longest, "padPackedSequence: totalLength \(time) is shorter than the longest sequence (\(longest))")
    let features = Array(packed.data.shape.dropFirst())
    let featureCount = Shape.count(of: features)
    // Each padded position reads a row of `data`, or the extra padding row at the end.
    let paddingRow = packed.data.shape[0]
    var source = [Int](repeating: paddingRow, count: batch * time)
    var row = 0
    for (t, size) in packed.batchSizes.enumerated() {
        for rank in 0..<size {
            let b = packed.sortedIndices[rank]
            source[batchFirst ? b * time + t : t * batch + b] = row
            row += 1
        }
    }
    let fill = Tensor<Scalar>.full([1] + features, paddingValue)
    let rows = Tensor.cat([packed.data.reshaped([paddingRow, featureCount]), fill.reshaped([1, featureCount])], dim: 0)
    let padded = rows.indexSelect(dim: 0, index: IntTensor(source))
    return (padded.reshaped((batchFirst ? [batch, time] : [time, batch]) + features), lengths)
}
