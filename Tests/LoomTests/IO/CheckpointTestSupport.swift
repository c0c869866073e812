import Foundation
@testable import Loom

// An independent, minimal safetensors writer and parser for the checkpoint tests, written
// from the format's description without any of Loom's IO code (the parser uses Foundation's
// JSONSerialization), so the tests check Loom against a second reading of the format.

/// One tensor as raw safetensors bytes.
struct RawSafeTensor {
    var name: String
    var dtype: String
    var shape: [Int]
    var bytes: [UInt8]
}

enum RawSafeTensors {
    /// Little-endian bytes of doubles.
    static func f64Bytes(_ values: [Double]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    }

    /// Little-endian bytes of floats.
    static func f32Bytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.bitPattern.littleEndian) { Array($0) } }
    }

    /// A safetensors file holding `tensors` in the given order (header and data), with an
    /// unpadded header unless `padTo8`.
    static func write(_ tensors: [RawSafeTensor], metadata: [String: String]? = nil, padTo8: Bool = false) -> Data {
        var entries: [String] = []
        if let metadata {
            let pairs = metadata.map { "\"\($0.key)\": \"\($0.value)\"" }.joined(separator: ", ")
            entries.append("\"__metadata__\": {\(pairs)}")
        }
        var offset = 0
        for tensor in tensors {
            let shape = tensor.shape.map(String.init).joined(separator: ", ")
            entries.append("\"\(tensor.name)\": {\"dtype\": \"\(tensor.dtype)\", \"shape\": [\(shape)], \"data_offsets\": [\(offset), \(offset + tensor.bytes.count)]}")
            offset += tensor.bytes.count
        }
        var header = Array(("{" + entries.joined(separator: ", ") + "}").utf8)
        if padTo8 { while header.count % 8 != 0 { header.append(0x20) } }
        var file: [UInt8] = []
        var length = UInt64(header.count)
        for _ in 0..<8 { file.append(UInt8(length & 0xFF)); length >>= 8 }
        file += header
        for tensor in tensors { file += tensor.bytes }
        return Data(file)
    }

    /// What `parse` found.
    struct Parsed {
        var headerLength: Int
        var headerText: String
        /// Tensor names in the order of the header's JSON text.
        var namesInHeaderOrder: [String]
        var metadata: [String: String]
        var tensors: [String: RawSafeTensor]
        /// Data offsets by name.
        var offsets: [String: [Int]]
    }

    /// Parses a safetensors file (assumed valid) without Loom's reader.
    static func parse(_ data: Data) throws -> Parsed {
        let bytes = [UInt8](data)
        var length = 0
        for i in (0..<8).reversed() { length = length << 8 | Int(bytes[i]) }
        let headerBytes = Array(bytes[8..<(8 + length)])
        let headerText = String(decoding: headerBytes, as: UTF8.self)
        guard let object = try JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any] else {
            throw ParityError("header is not an object")
        }
        var parsed = Parsed(headerLength: length, headerText: headerText, namesInHeaderOrder: [], metadata: [:], tensors: [:], offsets: [:])
        for (key, value) in object {
            if key == "__metadata__" {
                parsed.metadata = value as? [String: String] ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int] else {
                throw ParityError("bad entry \(key)")
            }
            let start = 8 + length
            parsed.tensors[key] = RawSafeTensor(name: key, dtype: dtype, shape: shape,
                                                bytes: Array(bytes[(start + offsets[0])..<(start + offsets[1])]))
            parsed.offsets[key] = offsets
        }
        // Key order as written in the text: position of each quoted name.
        parsed.namesInHeaderOrder = parsed.tensors.keys.sorted {
            headerText.range(of: "\"\($0)\"")!.lowerBound < headerText.range(of: "\"\($1)\"")!.lowerBound
        }
        return parsed
    }

    /// The doubles of an `F64` tensor's bytes.
    static func doubles(_ bytes: [UInt8]) -> [Double] {
        stride(from: 0, to: bytes.count, by: 8).map { start in
            var bits: UInt64 = 0
            for i in (0..<8).reversed() { bits = bits << 8 | UInt64(bytes[start + i]) }
            return Double(bitPattern: bits)
        }
    }

    /// The floats of an `F32` tensor's bytes.
    static func floats(_ bytes: [UInt8]) -> [Float] {
        stride(from: 0, to: bytes.count, by: 4).map { start in
            var bits: UInt32 = 0
            for i in (0..<4).reversed() { bits = bits << 8 | UInt32(bytes[start + i]) }
            return Float(bitPattern: bits)
        }
    }
}

/// A fresh empty directory for one test, removed by `cleanUp()`.
struct ScratchDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("loom-checkpoint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    /// The names of the files in the directory, sorted.
    func contents() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: url.path).sorted()
    }

    func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// A small model composing layers, to check dotted names.
struct CheckpointTestModel<Scalar: TensorScalar>: Module {
    var embedding: Embedding<Scalar>
    var lstm: LSTM<Scalar>
    var linear: Linear<Scalar>

    init(seed: UInt64, hidden: Int = 4) {
        var generator = RandomGenerator(seed: seed)
        embedding = Embedding(7, 3, paddingIndex: 0, using: &generator)
        lstm = LSTM(inputSize: 3, hiddenSize: hidden, bidirectional: true, using: &generator)
        linear = Linear(2 * hidden, 2, using: &generator)
    }

    mutating func visit(_ visitor: ModuleVisitor<Scalar>) {
        visitor.module("embedding", &embedding)
        visitor.module("lstm", &lstm)
        visitor.module("linear", &linear)
    }
}
