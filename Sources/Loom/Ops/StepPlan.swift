/// The time-step schedule of a variable-length batch, as packing lays it out: sequences
/// sorted by decreasing length (stable, so ties keep batch order), and at step `t` the
/// first `batchSizes[t]` of them active. Packed row `offsets[t] + r` holds step `t` of the
/// sequence of sorted rank `r`. Work done over packed rows is proportional to the sum of
/// the real lengths, never to `batch × maxLength`.
package struct StepPlan: Sendable, Equatable {
    /// The length of each sequence, in batch order.
    package let lengths: [Int]
    /// `order[r]` is the batch position of the sequence of sorted rank `r`.
    package let order: [Int]
    /// How many sequences are still running at each step (non-increasing).
    package let batchSizes: [Int]
    /// The first packed row of each step.
    package let offsets: [Int]
    /// The number of packed rows (the sum of the lengths).
    package let rowCount: Int

    /// The schedule for these lengths (any order; zeros allowed).
    package init(lengths: [Int]) {
        self.lengths = lengths
        order = lengths.indices.sorted { lengths[$0] > lengths[$1] || (lengths[$0] == lengths[$1] && $0 < $1) }
        let longest = lengths.max() ?? 0
        var sizes = [Int](repeating: 0, count: longest)
        for length in lengths where length > 0 {
            for t in 0..<length { sizes[t] += 1 }
        }
        batchSizes = sizes
        var running = 0
        offsets = sizes.map { size in defer { running += size }; return running }
        rowCount = running
    }

    /// The number of sequences.
    package var batch: Int { lengths.count }

    /// The inverse of `order`: the sorted rank of the sequence at each batch position.
    package var ranks: [Int] {
        var ranks = [Int](repeating: 0, count: batch)
        for (rank, b) in order.enumerated() { ranks[b] = rank }
        return ranks
    }

    /// For each packed row, the row of the padded input flattened to `[batch·time, ...]`
    /// (`batchFirst`) or `[time·batch, ...]` that it reads. With `reversed`, step `t` of a
    /// sequence of length `L` reads its position `L - 1 - t`, so a forward pass over the
    /// packed rows runs each sequence backward from its own last step.
    package func paddedRows(time: Int, batchFirst: Bool, reversed: Bool) -> [Int] {
        var rows = [Int](repeating: 0, count: rowCount)
        for (t, size) in batchSizes.enumerated() {
            for rank in 0..<size {
                let b = order[rank]
                let position = reversed ? lengths[b] - 1 - t : t
                rows[offsets[t] + rank] = paddedRow(sequence: b, position: position, time: time, batchFirst: batchFirst)
            }
        }
        return rows
    }

    /// The row of a padded batch flattened to `[batch·time, ...]` (`batchFirst`) or
    /// `[time·batch, ...]` that holds position `position` of sequence `b`.
    @inline(__always)
    package func paddedRow(sequence b: Int, position: Int, time: Int, batchFirst: Bool) -> Int {
        batchFirst ? b * time + position : position * batch + b
    }

    /// The inverse of `paddedRows`: for each padded position, its packed row, or
    /// `rowCount` (one past the last row) for padding.
    package func packedRows(time: Int, batchFirst: Bool, reversed: Bool) -> [Int] {
        var inverse = [Int](repeating: rowCount, count: batch * time)
        for (row, padded) in paddedRows(time: time, batchFirst: batchFirst, reversed: reversed).enumerated() {
            inverse[padded] = row
        }
        return inverse
    }

    /// For each packed row of the schedule run in reverse (step `t` of a sequence of length
    /// `L` is its position `L - 1 - t`), the packed row of the forward layout holding that
    /// position. Reading packed data through it runs each sequence backward from its own
    /// last step, and writing through it puts the reverse direction's outputs back in place.
    package func reversedPackedRows() -> [Int] {
        var rows = [Int](repeating: 0, count: rowCount)
        for (t, size) in batchSizes.enumerated() {
            for rank in 0..<size {
                rows[offsets[t] + rank] = offsets[lengths[order[rank]] - 1 - t] + rank
            }
        }
        return rows
    }
}

/// Where the rows of a variable-length batch live: a padded tensor flattened to
/// `[batch·time, ...]` (`batchFirst`) or `[time·batch, ...]`, or packed rows
/// `[sum of lengths, ...]` in `StepPlan` order (the layout of `PackedSequence.data`).
package enum SequenceLayout: Sendable, Equatable {
    case padded(time: Int, batchFirst: Bool)
    case packed

    /// The number of rows of the layout for `plan`'s batch.
    package func rowCount(_ plan: StepPlan) -> Int {
        switch self {
        case .padded(let time, _): return plan.batch * time
        case .packed: return plan.rowCount
        }
    }

    /// The shape of a tensor with `width` features per row in this layout.
    package func shape(_ plan: StepPlan, width: Int) -> [Int] {
        switch self {
        case .padded(let time, let batchFirst): return batchFirst ? [plan.batch, time, width] : [time, plan.batch, width]
        case .packed: return [plan.rowCount, width]
        }
    }

    /// For each packed row of `plan`'s schedule (run in reverse per sequence when
    /// `reversed`), the row of this layout it reads; `nil` when that is the identity (packed
    /// and forward).
    package func rows(_ plan: StepPlan, reversed: Bool) -> [Int]? {
        switch self {
        case .padded(let time, let batchFirst): return plan.paddedRows(time: time, batchFirst: batchFirst, reversed: reversed)
        case .packed: return reversed ? plan.reversedPackedRows() : nil
        }
    }
}
