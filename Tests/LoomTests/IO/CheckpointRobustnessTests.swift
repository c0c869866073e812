import Foundation
import Testing
@testable import Loom

/// Bad checkpoint files are user input: each is refused with a `CheckpointError` naming the
/// file and the problem, never a crash.
@Suite struct CheckpointRobustnessTests {
    /// A valid two-tensor file.
    static let valid = RawSafeTensors.write([
        RawSafeTensor(name: "a", dtype: "F32", shape: [2], bytes: RawSafeTensors.f32Bytes([1, 2])),
        RawSafeTensor(name: "b", dtype: "F64", shape: [1, 1], bytes: RawSafeTensors.f64Bytes([3])),
    ], metadata: ["format": "pt"])

    /// A file with `header` (as given) and `buffer`.
    func file(header: String, buffer: [UInt8] = []) -> Data {
        let headerBytes = Array(header.utf8)
        var length = UInt64(headerBytes.count)
        var bytes: [UInt8] = []
        for _ in 0..<8 { bytes.append(UInt8(length & 0xFF)); length >>= 8 }
        return Data(bytes + headerBytes + buffer)
    }

    /// Expects `data` to be refused with a message containing every one of `parts`.
    func expectRefused(_ data: Data, _ parts: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let file = try SafeTensorsFile(data: data, source: "bad.safetensors")
            Issue.record("accepted a bad file with tensors \(file.names)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.file == "bad.safetensors", sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix("checkpoint bad.safetensors: "), sourceLocation: sourceLocation)
            for part in parts {
                #expect(error.reason.contains(part), "\(error) lacks '\(part)'", sourceLocation: sourceLocation)
            }
        }
    }

    @Test func validFileIsAccepted() throws {
        let opened = try SafeTensorsFile(data: Self.valid)
        #expect(opened.names == ["a", "b"])
        #expect(opened.metadata == ["format": "pt"])
        #expect(try opened.tensor("b", as: Double.self).scalars == [3])
        // Padding spaces after the JSON are allowed.
        let padded = file(header: "{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}      ",
                          buffer: RawSafeTensors.f32Bytes([7]))
        #expect(try SafeTensorsFile(data: padded).tensor("x", as: Float.self).scalars == [7])
    }

    @Test func shortEmptyAndOversizedFilesAreRefused() {
        expectRefused(Data(), "empty")
        expectRefused(Data([1, 2, 3]), "3 bytes", "too short")
        // Header length beyond the file.
        var beyond = Self.valid
        beyond[0] = 0xFF; beyond[1] = 0x00; beyond[2] = 0x01
        expectRefused(beyond, "header length", "truncated")
        // Header length beyond the sane limit.
        var huge = Data(Self.valid)
        for i in 0..<8 { huge[i] = 0xFF }
        expectRefused(huge, "exceeds the limit of 100000000 bytes")
        expectRefused(file(header: ""), "not valid JSON")
    }

    @Test func truncatedFileIsRefused() {
        expectRefused(Self.valid.dropLast(1), "\"b\"", "past the end", "truncated")
        expectRefused(Self.valid.dropLast(12), "truncated")
        // Every truncation is refused.
        for length in 0..<Self.valid.count {
            #expect(throws: CheckpointError.self) { try SafeTensorsFile(data: Self.valid.prefix(length)) }
        }
    }

    @Test func foreignFilesAreRefused() {
        expectRefused(Data("This is plain text, not a checkpoint at all.\n".utf8), "header length")
        expectRefused(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + [UInt8](repeating: 0, count: 40)), "header length")
        // A small length pointing at garbage.
        expectRefused(Data([4, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE, 0x00, 0x41]), "not valid JSON")
        // Valid JSON of the wrong kind.
        expectRefused(file(header: "[1, 2, 3]"), "an array, not a JSON object")
        expectRefused(file(header: "{\"a\": 5}"), "tensor \"a\" is a number, not an object")
    }

    @Test func invalidJSONIsRefused() {
        expectRefused(file(header: "{\"a\": {\"dtype\": \"F32\", "), "not valid JSON", "unexpected end")
        expectRefused(file(header: "{'a': 1}"), "not valid JSON")
        expectRefused(file(header: "{\"a\": {}} trailing"), "not valid JSON", "after the JSON value")
        expectRefused(file(header: "{\"a\\q\": {}}"), "invalid escape")
        expectRefused(file(header: String(repeating: "[", count: 10_000)), "nesting deeper")
        let duplicate = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"
        expectRefused(file(header: duplicate, buffer: [UInt8](repeating: 0, count: 8)), "duplicate key \"a\"")
        var invalidUTF8 = Array("{\"".utf8) + [0xC3, 0x28] + Array("\": 1}".utf8)
        var length = UInt64(invalidUTF8.count)
        var prefix: [UInt8] = []
        for _ in 0..<8 { prefix.append(UInt8(length & 0xFF)); length >>= 8 }
        invalidUTF8 = prefix + invalidUTF8
        expectRefused(Data(invalidUTF8), "UTF-8")
    }

    @Test func badEntriesAreRefused() {
        func entry(_ body: String) -> String { "{\"w\": {\(body)}}" }
        let four = [UInt8](repeating: 0, count: 4)
        expectRefused(file(header: entry("\"dtype\": \"Q7\", \"shape\": [1], \"data_offsets\": [0, 4]"), buffer: four),
                      "\"w\"", "dtype \"Q7\"", "cannot read")
        expectRefused(file(header: entry("\"shape\": [1], \"data_offsets\": [0, 4]"), buffer: four), "\"w\" has no \"dtype\"")
        expectRefused(file(header: entry("\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]"), buffer: four),
                      "shape holds -1")
        expectRefused(file(header: entry("\"dtype\": \"F32\", \"shape\": [1.5], \"data_offsets\": [0, 4]"), buffer: four),
                      "shape holds 1.5")
        expectRefused(file(header: entry("\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 4]"), buffer: four),
                      "span 4 bytes", "F32 [2] needs 8")
        expectRefused(file(header: entry("\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 0]"), buffer: four),
                      "begin <= end")
        expectRefused(file(header: entry("\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0]"), buffer: four),
                      "data_offsets [0]")
        expectRefused(file(header: entry("\"dtype\": \"F32\", \"shape\": [4611686018427387904, 4], \"data_offsets\": [0, 4]"), buffer: four),
                      "too many elements")
        expectRefused(file(header: entry("\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 99999999999999999999]"), buffer: four),
                      "not a non-negative integer")
        expectRefused(file(header: "{\"__metadata__\": {\"format\": 1}}"), "__metadata__", "not a string")
        expectRefused(file(header: "{\"__metadata__\": [\"x\"]}"), "__metadata__ is an array")
    }

    @Test func badOffsetsAreRefused() {
        let twelve = [UInt8](repeating: 0, count: 12)
        let overlapping = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}"
        expectRefused(file(header: overlapping, buffer: twelve), "\"b\"", "overlap", "\"a\"")
        let gap = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}"
        expectRefused(file(header: gap, buffer: twelve), "gap before \"b\"")
        let notAtZero = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"
        expectRefused(file(header: notAtZero, buffer: [UInt8](repeating: 0, count: 8)), "belong to no tensor")
        let trailing = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"
        expectRefused(file(header: trailing, buffer: twelve), "12 bytes", "cover 4", "trailing")
        let outOfRange = "{\"a\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]}}"
        expectRefused(file(header: outOfRange, buffer: twelve), "past the end of the 12-byte data buffer")
    }

    @Test func missingFileIsRefusedWithItsPath() throws {
        let directory = try ScratchDirectory()
        defer { directory.cleanUp() }
        let url = directory.file("nothing-here.safetensors")
        var model = CheckpointTestModel<Float>(seed: 1)
        do {
            try loadCheckpoint(into: &model, from: url)
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.file == url.path && error.reason.contains("cannot read"), "\(error)")
        }
        // A foreign file on disk is refused the same way as bytes in memory.
        try Data("not a checkpoint".utf8).write(to: url)
        do {
            try loadCheckpoint(into: &model, from: url)
            Issue.record("loaded a foreign file")
        } catch {
            #expect(error.description.hasPrefix("checkpoint \(url.path): header length"), "\(error)")
        }
    }

    /// Opens `data`; on success reads every tensor and loads it (not strictly) into a model.
    /// Returns whether it was accepted. Any other outcome than a result or a
    /// `CheckpointError` (a trap) fails the whole test run.
    @discardableResult
    func exercise(_ data: Data) -> Bool {
        guard let file = try? SafeTensorsFile(data: data) else { return false }
        for info in file.tensors {
            let tensor = try? file.tensor(info.name, as: Float.self)
            #expect(tensor?.shape == info.shape)
        }
        var generator = RandomGenerator(seed: 0)
        var model = Linear<Float>(1, 2, using: &generator)
        _ = try? loadCheckpoint(into: &model, from: file, strict: false)
        return true
    }

    @Test func fuzzRandomBytes() {
        var generator = RandomGenerator(seed: 2024)
        var accepted = 0
        for _ in 0..<3000 {
            let count = generator.nextInt(below: 200)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            // Half the time, a plausible header length so the JSON parser gets exercised.
            if count >= 8 && generator.nextInt(below: 2) == 0 {
                let length = UInt64(generator.nextInt(below: count - 7))
                for i in 0..<8 { bytes[i] = UInt8(truncatingIfNeeded: length >> (8 * UInt64(i))) }
            }
            if exercise(Data(bytes)) { accepted += 1 }
        }
        #expect(accepted < 3000)
    }

    @Test func fuzzMutationsOfAValidFile() {
        let original = [UInt8](Self.valid)
        #expect(exercise(Self.valid))
        var generator = RandomGenerator(seed: 7)
        let jsonBytes = Array("{}[]\":,0123456789-eE. \\tuFIBD".utf8)
        var refused = 0
        for round in 0..<4000 {
            var bytes = original
            for _ in 0..<(1 + generator.nextInt(below: 4)) {
                let position = generator.nextInt(below: bytes.count)
                switch round % 3 {
                case 0: bytes[position] ^= UInt8(1 << generator.nextInt(below: 8))
                case 1: bytes[position] = UInt8(truncatingIfNeeded: generator.next())
                default:
                    // Mutate inside the header with characters that matter to JSON.
                    let headerPosition = 8 + generator.nextInt(below: bytes.count - 8)
                    bytes[min(headerPosition, bytes.count - 1)] = jsonBytes[generator.nextInt(below: jsonBytes.count)]
                }
            }
            if generator.nextInt(below: 4) == 0 {
                bytes.removeLast(generator.nextInt(below: bytes.count))
            }
            if !exercise(Data(bytes)) { refused += 1 }
        }
        #expect(refused > 0)
        // Every truncation of the valid file, and every single-byte deletion.
        for length in 0..<original.count { #expect(!exercise(Data(original.prefix(length)))) }
        for position in original.indices {
            var bytes = original
            bytes.remove(at: position)
            exercise(Data(bytes))
        }
    }
}
