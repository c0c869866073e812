/// Contiguous streams for a character-level language model trained with truncated BPTT:
/// the text's ids are cut into `streamCount` equal consecutive parts (one per batch row),
/// then read in chunks of `chunkLength` steps, each input chunk paired with the same chunk
/// shifted by one (the next characters) as targets.
public struct CharacterStreams: Equatable, Sendable {
    /// The streams, shape [streamCount, streamLength]; the tail of the text that does not
    /// fill a whole row is dropped (fewer than `streamCount` ids).
    public let streams: IntTensor
    /// The number of steps per chunk.
    public let chunkLength: Int

    /// Streams of `ids` for `streamCount` rows and chunks of `chunkLength` steps (both
    /// positive). Fewer than `streamCount * 2` ids give streams too short for any chunk.
    public init(ids: [Int], streamCount: Int, chunkLength: Int) {
        precondition(streamCount > 0 && chunkLength > 0,
                     "CharacterStreams: streamCount and chunkLength must be positive, got \(streamCount), \(chunkLength)")
        let length = ids.count / streamCount
        streams = IntTensor(shape: [streamCount, length], scalars: Array(ids[0..<(length * streamCount)]))
        self.chunkLength = chunkLength
    }

    /// The number of chunks: every step but the last of a stream is an input once.
    public var chunkCount: Int {
        let inputs = max(0, streams.shape[1] - 1)
        return (inputs + chunkLength - 1) / chunkLength
    }

    /// Chunk `index` (0-based): inputs and targets, both [streamCount, T] with
    /// T = `chunkLength`, or less for the last chunk. The targets are the inputs shifted
    /// one step along each stream.
    public func chunk(_ index: Int) -> (inputs: IntTensor, targets: IntTensor) {
        precondition(index >= 0 && index < chunkCount, "CharacterStreams: chunk \(index) out of 0..<\(chunkCount)")
        let rows = streams.shape[0], length = streams.shape[1]
        let start = index * chunkLength
        let steps = min(chunkLength, length - 1 - start)
        var inputs = [Int](), targets = [Int]()
        inputs.reserveCapacity(rows * steps)
        targets.reserveCapacity(rows * steps)
        for row in 0..<rows {
            let base = row * length + start
            inputs.append(contentsOf: streams.scalars[base..<(base + steps)])
            targets.append(contentsOf: streams.scalars[(base + 1)..<(base + 1 + steps)])
        }
        return (IntTensor(shape: [rows, steps], scalars: inputs), IntTensor(shape: [rows, steps], scalars: targets))
    }
}
