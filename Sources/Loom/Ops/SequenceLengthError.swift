/// A thrown error for sequence lengths that do not fit the batch: lengths are data, so a
/// bad one is reported, not trapped. Recurrent layers, `packPaddedSequence`,
/// `maskedSoftmax` and attention all report it the same way.
public struct SequenceLengthError: Error, CustomStringConvertible, Equatable {
    /// What is wrong, naming the operation and the offending length.
    public let description: String

    /// An error with this message.
    public init(description: String) {
        self.description = description
    }

    /// Throws unless there is one length per sequence of `batch` and each is in `0...time`.
    ///
    /// - Parameters:
    ///   - lengths: the real length of each sequence, in batch order.
    ///   - batch: the number of sequences.
    ///   - time: the size of the time axis.
    ///   - operation: the name the message starts with (a layer's signature or an op).
    public static func validate(_ lengths: [Int], batch: Int, time: Int, in operation: String) throws {
        guard lengths.count == batch else {
            throw SequenceLengthError(description: "\(operation): got \(lengths.count) lengths for a batch of \(batch)")
        }
        if let bad = lengths.firstIndex(where: { $0 < 0 || $0 > time }) {
            throw SequenceLengthError(description: "\(operation): lengths[\(bad)] = \(lengths[bad]) is outside 0...\(time) (the time axis)")
        }
    }
}
