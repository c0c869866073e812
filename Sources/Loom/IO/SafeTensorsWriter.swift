import Foundation

extension SafeTensorsFile {
    /// The safetensors bytes of `tensors` (`F32` for `Float`, `F64` for `Double`) with the
    /// string `metadata`.
    ///
    /// The output is deterministic: tensors (and metadata keys) sorted by name in byte order,
    /// as PyTorch's safetensors writes them, data in that order, and the header padded with
    /// spaces to a multiple of 8 bytes so the data buffer is 8-byte aligned.
    /// Throws a `CheckpointError` (about `source`) for a duplicate name or the reserved name
    /// `__metadata__`.
    public static func encode<Scalar: TensorScalar>(_ tensors: [(name: String, tensor: Tensor<Scalar>)],
                                                    metadata: [String: String] = [:],
                                                    source: String = "<memory>") throws(CheckpointError) -> Data {
        func precedes(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
        let sorted = tensors.sorted { precedes($0.name, $1.name) }
        for (previous, next) in zip(sorted, sorted.dropFirst()) where previous.name == next.name {
            throw CheckpointError(file: source, reason: "two tensors are named \(HeaderJSON.encodeString(next.name))")
        }
        if sorted.contains(where: { $0.name == "__metadata__" }) {
            throw CheckpointError(file: source, reason: "a tensor may not be named \"__metadata__\" (reserved for metadata)")
        }

        let dtype = SafeTensorsDType.native(for: Scalar.self)
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { precedes($0.key, $1.key) }
                .map { HeaderJSON.encodeString($0.key) + ":" + HeaderJSON.encodeString($0.value) }
            entries.append("\"__metadata__\":{" + pairs.joined(separator: ",") + "}")
        }
        var offset = 0
        for (name, tensor) in sorted {
            let byteCount = tensor.count * dtype.byteSize
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            entries.append(HeaderJSON.encodeString(name)
                           + ":{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + byteCount)]}")
            offset += byteCount
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))

        let headerEnd = 8 + header.count
        var data = Data(count: headerEnd + offset)
        data.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) in
            raw.storeBytes(of: UInt64(header.count).littleEndian, toByteOffset: 0, as: UInt64.self)
            raw.baseAddress!.advanced(by: 8).copyMemory(from: header, byteCount: header.count)
            var position = headerEnd
            for (_, tensor) in sorted {
                tensor.withUnsafeBufferPointer { buffer in
                    if dtype == .float32 {
                        for value in buffer {
                            raw.storeBytes(of: Float(value).bitPattern.littleEndian, toByteOffset: position, as: UInt32.self)
                            position += 4
                        }
                    } else {
                        for value in buffer {
                            raw.storeBytes(of: Double(value).bitPattern.littleEndian, toByteOffset: position, as: UInt64.self)
                            position += 8
                        }
                    }
                }
            }
        }
        return data
    }

    /// Writes `tensors` and `metadata` as a safetensors file at `url`, atomically: the bytes go
    /// to a temporary file in the same directory, which then replaces `url` in one rename, so
    /// a failure or crash mid-write leaves any previous file at `url` intact.
    public static func write<Scalar: TensorScalar>(_ tensors: [(name: String, tensor: Tensor<Scalar>)],
                                                   metadata: [String: String] = [:],
                                                   to url: URL) throws(CheckpointError) {
        let data = try encode(tensors, metadata: metadata, source: url.path)
        try writeFileAtomically(data, to: url)
    }
}
