import Foundation

/// A safetensors file read into memory and validated: its tensors' names, dtypes, shapes and
/// data, and its string metadata.
///
/// The format: 8 bytes holding the header length N (unsigned, little-endian), N bytes of a
/// UTF-8 JSON object (possibly padded with trailing spaces) mapping each tensor name to
/// `{"dtype": "F32", "shape": [16, 3], "data_offsets": [begin, end]}` plus an optional
/// `"__metadata__"` object of strings, then the data buffer. Offsets count from the start of the
/// buffer; data is row-major and little-endian; the tensors cover the buffer exactly, with no
/// gaps or overlaps.
///
/// Opening checks all of that and throws a `CheckpointError` naming the file and the problem
/// for a truncated, foreign or corrupt file; it never traps.
public struct SafeTensorsFile: @unchecked Sendable {
    /// One tensor's entry in the header.
    public struct TensorInfo: Equatable, Sendable {
        /// The tensor's name (a PyTorch `state_dict` name for checkpoints).
        public var name: String
        /// The element type stored in the file.
        public var dtype: SafeTensorsDType
        /// The tensor's shape (`[]` for a scalar).
        public var shape: [Int]
        /// The tensor's bytes, relative to the start of the data buffer.
        public var byteRange: Range<Int>
    }

    /// The largest header accepted, in bytes (the same limit as the reference implementation).
    public static let maximumHeaderSize = 100_000_000

    /// Where the bytes came from (the path, or `<memory>`), used in error messages.
    public let source: String
    /// The header's `__metadata__` strings (empty when absent).
    public let metadata: [String: String]
    /// Every tensor's entry, in the order of their data in the file.
    public let tensors: [TensorInfo]

    private let bytes: Data
    private let bufferStart: Int
    private let indexByName: [String: Int]

    /// The tensor names, in the order of their data in the file.
    public var names: [String] { tensors.map(\.name) }

    /// The entry of tensor `name`, or `nil` if the file has none.
    public func info(_ name: String) -> TensorInfo? {
        indexByName[name].map { tensors[$0] }
    }

    /// Reads and validates the safetensors file at `url` (memory-mapped when possible).
    public init(contentsOf url: URL) throws(CheckpointError) {
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw CheckpointError(file: url.path, reason: "cannot read the file: \(error.localizedDescription)")
        }
        try self.init(data: data, source: url.path)
    }

    /// Validates the safetensors bytes `data`; errors name `source`.
    public init(data: Data, source: String = "<memory>") throws(CheckpointError) {
        func fail(_ reason: String) -> CheckpointError { CheckpointError(file: source, reason: reason) }
        self.source = source
        self.bytes = data
        let fileSize = data.count
        guard fileSize > 0 else { throw fail("the file is empty, not a safetensors checkpoint") }
        guard fileSize >= 8 else {
            throw fail("the file has \(fileSize) bytes, too short for a safetensors checkpoint (at least 8)")
        }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(SafeTensorsFile.maximumHeaderSize) else {
            throw fail("header length \(headerLength) exceeds the limit of \(SafeTensorsFile.maximumHeaderSize) bytes (not a safetensors checkpoint?)")
        }
        guard headerLength <= UInt64(fileSize - 8) else {
            throw fail("header length \(headerLength) exceeds the \(fileSize - 8) bytes after the length field: the file is truncated or not a safetensors checkpoint")
        }
        let headerEnd = 8 + Int(headerLength)
        bufferStart = headerEnd
        let bufferSize = fileSize - headerEnd

        let parsed = data.withUnsafeBytes { raw in
            Result { () throws(HeaderJSON.SyntaxError) -> HeaderJSON in
                try HeaderJSON.parse(UnsafeRawBufferPointer(rebasing: raw[8..<headerEnd]))
            }
        }
        let header: HeaderJSON
        switch parsed {
        case .success(let value): header = value
        case .failure(let error):
            throw fail("the header is not valid JSON (byte \(8 + error.offset) of the file: \(error.message)); not a safetensors checkpoint?")
        }
        guard case .object(let members) = header else {
            throw fail("the header is \(header.kindName), not a JSON object")
        }

        var metadata: [String: String] = [:]
        var entries: [TensorInfo] = []
        for (name, value) in members {
            if name == "__metadata__" {
                guard case .object(let pairs) = value else { throw fail("__metadata__ is \(value.kindName), not an object of strings") }
                for (key, item) in pairs {
                    guard case .string(let text) = item else {
                        throw fail("__metadata__ entry \(HeaderJSON.encodeString(key)) is \(item.kindName), not a string")
                    }
                    metadata[key] = text
                }
                continue
            }
            entries.append(try SafeTensorsFile.parseEntry(name: name, value: value, fail: fail))
        }

        // The data of all tensors must tile the buffer: sorted by offset, each starts where
        // the previous ended, the first at 0, the last at the end.
        entries.sort { ($0.byteRange.lowerBound, $0.byteRange.upperBound) < ($1.byteRange.lowerBound, $1.byteRange.upperBound) }
        var expectedStart = 0
        var previousName: String? = nil
        for entry in entries {
            let range = entry.byteRange
            guard range.upperBound <= bufferSize else {
                throw fail("tensor \(HeaderJSON.encodeString(entry.name)) data_offsets [\(range.lowerBound), \(range.upperBound)] extend past the end of the \(bufferSize)-byte data buffer: the file is truncated")
            }
            if range.lowerBound < expectedStart {
                throw fail("tensor \(HeaderJSON.encodeString(entry.name)) data_offsets [\(range.lowerBound), \(range.upperBound)] overlap those of \(HeaderJSON.encodeString(previousName ?? ""))")
            }
            if range.lowerBound > expectedStart {
                throw fail("bytes \(expectedStart)..<\(range.lowerBound) of the data buffer belong to no tensor (a gap before \(HeaderJSON.encodeString(entry.name)))")
            }
            expectedStart = range.upperBound
            previousName = entry.name
        }
        guard expectedStart == bufferSize else {
            throw fail("the data buffer has \(bufferSize) bytes but the tensors cover \(expectedStart): trailing bytes belong to no tensor")
        }

        self.metadata = metadata
        self.tensors = entries
        var index: [String: Int] = [:]
        for (i, entry) in entries.enumerated() { index[entry.name] = i }
        self.indexByName = index
    }

    /// Validates one tensor entry of the header.
    private static func parseEntry(name: String, value: HeaderJSON,
                                   fail: (String) -> CheckpointError) throws(CheckpointError) -> TensorInfo {
        let quoted = HeaderJSON.encodeString(name)
        guard case .object(let fields) = value else { throw fail("tensor \(quoted) is \(value.kindName), not an object") }
        func field(_ key: String) throws(CheckpointError) -> HeaderJSON {
            guard let found = fields.first(where: { $0.key == key }) else { throw fail("tensor \(quoted) has no \"\(key)\"") }
            return found.value
        }
        func integers(_ key: String) throws(CheckpointError) -> [Int] {
            let value = try field(key)
            guard case .array(let items) = value else { throw fail("tensor \(quoted) \(key) is \(value.kindName), not an array") }
            var result: [Int] = []
            for item in items {
                guard case .integer(let number) = item, number >= 0 else {
                    throw fail("tensor \(quoted) \(key) holds \(item.shortDescription), not a non-negative integer")
                }
                result.append(number)
            }
            return result
        }

        let dtypeValue = try field("dtype")
        guard case .string(let dtypeName) = dtypeValue else { throw fail("tensor \(quoted) dtype is \(dtypeValue.kindName), not a string") }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail("tensor \(quoted) has dtype \(HeaderJSON.encodeString(dtypeName)), which Loom cannot read (it reads \(known))")
        }
        let shape = try integers("shape")
        let offsets = try integers("data_offsets")
        guard offsets.count == 2, offsets[0] <= offsets[1] else {
            throw fail("tensor \(quoted) data_offsets \(offsets) are not [begin, end] with begin <= end")
        }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw fail("tensor \(quoted) shape \(shape) has too many elements") }
            count = product
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, byteCount == offsets[1] - offsets[0] else {
            throw fail("tensor \(quoted) data_offsets [\(offsets[0]), \(offsets[1])] span \(offsets[1] - offsets[0]) bytes, but \(dtype.rawValue) \(shape) needs \(overflow ? "more than \(Int.max)" : String(byteCount))")
        }
        return TensorInfo(name: name, dtype: dtype, shape: shape, byteRange: offsets[0]..<offsets[1])
    }

    /// Tensor `name` converted to `Scalar` (from any dtype the file holds).
    ///
    /// Throws a `CheckpointError` if the file has no tensor of that name.
    public func tensor<Scalar: TensorScalar>(_ name: String, as _: Scalar.Type = Scalar.self) throws(CheckpointError) -> Tensor<Scalar> {
        guard let info = info(name) else {
            throw CheckpointError(file: source, reason: "no tensor named \(HeaderJSON.encodeString(name))")
        }
        return tensor(info)
    }

    /// The tensor described by `info` (one of `tensors`), converted to `Scalar`.
    func tensor<Scalar: TensorScalar>(_ info: TensorInfo) -> Tensor<Scalar> {
        let start = bufferStart + info.byteRange.lowerBound
        return Tensor<Scalar>(shape: info.shape) { destination in
            bytes.withUnsafeBytes { raw in
                info.dtype.convert(raw.baseAddress! + start, count: destination.count, into: destination)
            }
        }
    }

    /// Every tensor converted to `Scalar`, in the order of their data in the file.
    public func allTensors<Scalar: TensorScalar>(as _: Scalar.Type = Scalar.self) -> [(name: String, tensor: Tensor<Scalar>)] {
        tensors.map { ($0.name, tensor($0)) }
    }
}
