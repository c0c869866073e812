import Foundation
import Testing
@testable import Loom

@Suite struct CheckpointTests {
    /// The bit patterns of every parameter, by name.
    func bits<M: Module>(_ model: M) -> [String: [UInt64]] {
        var result: [String: [UInt64]] = [:]
        for (name, tensor) in model.namedParameters() {
            result[name] = tensor.scalars.map { value in
                MemoryLayout<M.Scalar>.size == 4 ? UInt64(Float(value).bitPattern) : Double(value).bitPattern
            }
        }
        return result
    }

    func roundTrip<Scalar: TensorScalar>(_: Scalar.Type) throws {
        let directory = try ScratchDirectory()
        defer { directory.cleanUp() }
        let source = CheckpointTestModel<Scalar>(seed: 1)
        var target = CheckpointTestModel<Scalar>(seed: 2)
        #expect(bits(source) != bits(target))
        let url = directory.file("model.safetensors")
        try saveCheckpoint(source, to: url)
        let mismatch = try loadCheckpoint(into: &target, from: url)
        #expect(mismatch.isEmpty)
        #expect(bits(target) == bits(source))
        for (name, parameter) in target.namedParameters() {
            #expect(parameter.requiresGrad && parameter.isLeaf, "\(name) must be a leaf requiring grad")
        }
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.tensors.allSatisfy { $0.dtype == SafeTensorsDType.native(for: Scalar.self) })
        #expect(try directory.contents() == ["model.safetensors"])
    }

    @Test func roundTripFloatIsBitwise() throws { try roundTrip(Float.self) }
    @Test func roundTripDoubleIsBitwise() throws { try roundTrip(Double.self) }

    @Test func loadedParametersTrain() throws {
        let directory = try ScratchDirectory()
        defer { directory.cleanUp() }
        let url = directory.file("m.safetensors")
        var generator = RandomGenerator(seed: 4)
        try saveCheckpoint(Linear<Double>(3, 2, using: &generator), to: url)
        var layer = Linear<Double>(3, 2, using: &generator)
        try loadCheckpoint(into: &layer, from: url)
        layer(Tensor<Double>.ones([5, 3])).sum().backward()
        #expect(layer.weight.grad?.shape == [2, 3])
        #expect(layer.bias?.grad?.scalars == [5, 5])
    }

    @Test func namesAreSortedAndHeaderIsAligned() throws {
        let directory = try ScratchDirectory()
        defer { directory.cleanUp() }
        let model = CheckpointTestModel<Float>(seed: 5)
        let url = directory.file("model.safetensors")
        try saveCheckpoint(model, to: url, metadata: ["epoch": "3", "note": "quote \" and \\ backslash"])
        let bytes = try Data(contentsOf: url)
        let parsed = try RawSafeTensors.parse(bytes)
        let expectedNames = [
            "embedding.weight", "linear.bias", "linear.weight",
            "lstm.bias_hh_l0", "lstm.bias_hh_l0_reverse", "lstm.bias_ih_l0", "lstm.bias_ih_l0_reverse",
            "lstm.weight_hh_l0", "lstm.weight_hh_l0_reverse", "lstm.weight_ih_l0", "lstm.weight_ih_l0_reverse",
        ]
        #expect(parsed.namesInHeaderOrder == expectedNames)
        #expect(Set(model.namedParameters().map(\.name)) == Set(expectedNames))
        #expect(parsed.headerLength % 8 == 0)
        #expect(parsed.metadata == ["format": "pt", "epoch": "3", "note": "quote \" and \\ backslash"])
        // Data in name order, contiguous from 0.
        var offset = 0
        for name in expectedNames {
            #expect(parsed.offsets[name]?.first == offset, "\(name)")
            offset = parsed.offsets[name]![1]
        }
        #expect(8 + parsed.headerLength + offset == bytes.count)
        for (name, tensor) in model.namedParameters() {
            #expect(parsed.tensors[name]?.dtype == "F32")
            #expect(parsed.tensors[name]?.shape == tensor.shape)
            #expect(RawSafeTensors.floats(parsed.tensors[name]!.bytes) == tensor.scalars, "\(name)")
        }
        // Loom's reader agrees, and saving again gives identical bytes.
        let file = try SafeTensorsFile(contentsOf: url)
        #expect(file.names == expectedNames)
        #expect(file.metadata["epoch"] == "3")
        let again = directory.file("again.safetensors")
        try saveCheckpoint(model, to: again, metadata: ["note": "quote \" and \\ backslash", "epoch": "3"])
        #expect(try Data(contentsOf: again) == bytes)
    }

    @Test func failedSaveKeepsPreviousCheckpointAndRemovesTemporaryFile() throws {
        let directory = try ScratchDirectory()
        defer { directory.cleanUp() }
        let url = directory.file("model.safetensors")
        try saveCheckpoint(CheckpointTestModel<Float>(seed: 6), to: url)
        let before = try Data(contentsOf: url)

        struct SimulatedCrash: Error {}
        let newer = try SafeTensorsFile.encode(CheckpointTestModel<Float>(seed: 7).stateDict())
        #expect(newer != before)
        #expect(throws: CheckpointError.self) {
            try writeFileAtomically(newer, to: url, beforeRename: { throw SimulatedCrash() })
        }
        #expect(try Data(contentsOf: url) == before)
        #expect(try directory.contents() == ["model.safetensors"])

        // A real failure: the rename cannot replace a directory.
        let occupied = directory.file("occupied")
        try FileManager.default.createDirectory(at: occupied.appendingPathComponent("inner"), withIntermediateDirectories: true)
        do {
            try saveCheckpoint(CheckpointTestModel<Float>(seed: 7), to: occupied)
            Issue.record("saving over a non-empty directory should fail")
        } catch {
            #expect(error.file == occupied.path)
            #expect(error.description.contains("cannot move the temporary file into place"), "\(error)")
        }
        #expect(try directory.contents() == ["model.safetensors", "occupied"])

        // A missing directory.
        let nowhere = directory.file("missing/model.safetensors")
        do {
            try saveCheckpoint(CheckpointTestModel<Float>(seed: 7), to: nowhere)
            Issue.record("saving into a missing directory should fail")
        } catch {
            #expect(error.description.contains(nowhere.path) && error.description.contains("temporary file"), "\(error)")
        }
        // A successful save does replace the file.
        try saveCheckpoint(CheckpointTestModel<Float>(seed: 7), to: url)
        #expect(try Data(contentsOf: url) != before)
        #expect(try directory.contents() == ["model.safetensors", "occupied"])
    }

    /// A file of `model`'s state dict without `linear.bias`, with an extra tensor, and with the
    /// LSTM's `weight_hh_l0` replaced by one of another shape.
    func alteredCheckpoint(at url: URL) throws -> CheckpointTestModel<Double> {
        let source = CheckpointTestModel<Double>(seed: 8)
        var tensors = source.stateDict().filter { $0.name != "linear.bias" }
        tensors.append(("extra.weight", Tensor<Double>.ones([2, 2])))
        let index = tensors.firstIndex { $0.name == "lstm.weight_hh_l0" }!
        tensors[index].tensor = Tensor<Double>.ones([16, 5])
        try SafeTensorsFile.write(tensors, to: url)
        return source
    }

    @Test func strictLoadListsEveryDifferenceAndChangesNothing() throws {
        let directory = try ScratchDirectory()
        defer { directory.cleanUp() }
        let url = directory.file("altered.safetensors")
        _ = try alteredCheckpoint(at: url)
        var model = CheckpointTestModel<Double>(seed: 9)
        let original = bits(model)
        do {
            try loadCheckpoint(into: &model, from: url)
            Issue.record("a strict load of a mismatched checkpoint should fail")
        } catch {
            #expect(error.mismatch.missing == ["linear.bias"])
            #expect(error.mismatch.unexpected == ["extra.weight"])
            #expect(error.mismatch.misShaped == [.init(name: "lstm.weight_hh_l0", storedShape: [16, 5], modelShape: [16, 4])])
            let message = error.description
            for part in [url.path, "missing: linear.bias", "unexpected: extra.weight",
                         "lstm.weight_hh_l0 (checkpoint [16, 5], model [16, 4])"] {
                #expect(message.contains(part), "\(message) lacks \(part)")
            }
        }
        #expect(bits(model) == original)

        // A model of another size: every LSTM tensor is mis-shaped, all listed.
        var wider = CheckpointTestModel<Double>(seed: 9, hidden: 5)
        let good = directory.file("good.safetensors")
        try saveCheckpoint(CheckpointTestModel<Double>(seed: 10), to: good)
        do {
            try loadCheckpoint(into: &wider, from: good)
            Issue.record("loading into a wider model should fail")
        } catch {
            #expect(error.mismatch.misShaped.count == 9)  // 8 LSTM tensors + linear.weight
            #expect(error.mismatch.missing.isEmpty && error.mismatch.unexpected.isEmpty)
        }
    }

    @Test func nonStrictLoadLoadsWhatMatches() throws {
        let directory = try ScratchDirectory()
        defer { directory.cleanUp() }
        let url = directory.file("altered.safetensors")
        let source = try alteredCheckpoint(at: url)
        var model = CheckpointTestModel<Double>(seed: 9)
        let original = bits(model)
        let mismatch = try loadCheckpoint(into: &model, from: url, strict: false)
        #expect(mismatch.missing == ["linear.bias"])
        #expect(mismatch.unexpected == ["extra.weight"])
        #expect(mismatch.misShaped.map(\.name) == ["lstm.weight_hh_l0"])
        let loaded = bits(model), expected = bits(source)
        for name in loaded.keys {
            if name == "linear.bias" || name == "lstm.weight_hh_l0" {
                #expect(loaded[name] == original[name], "\(name) should be untouched")
            } else {
                #expect(loaded[name] == expected[name], "\(name) should be loaded")
            }
        }
    }

    @Test func stateDictLoadsInMemory() throws {
        let source = CheckpointTestModel<Float>(seed: 11)
        var target = CheckpointTestModel<Float>(seed: 12)
        var tensors = Dictionary(uniqueKeysWithValues: source.stateDict().map { ($0.name, $0.tensor) })
        try target.loadStateDict(tensors)
        #expect(bits(target) == bits(source))
        tensors["linear.bias"] = nil
        #expect(throws: CheckpointError.self) { try target.loadStateDict(tensors) }
        #expect(try target.loadStateDict(tensors, strict: false).missing == ["linear.bias"])
    }

    @Test func doubleCheckpointLoadsIntoFloatModel() throws {
        let directory = try ScratchDirectory()
        defer { directory.cleanUp() }
        let url = directory.file("double.safetensors")
        let source = CheckpointTestModel<Double>(seed: 13)
        try saveCheckpoint(source, to: url)
        var target = CheckpointTestModel<Float>(seed: 14)
        try loadCheckpoint(into: &target, from: url)
        let expected = Dictionary(uniqueKeysWithValues: source.namedParameters().map { ($0.name, $0.tensor.scalars.map { Float($0) }) })
        for (name, tensor) in target.namedParameters() {
            #expect(tensor.scalars == expected[name], "\(name)")
        }
    }

    @Test func readsHalfBFloatAndIntegerTensors() throws {
        func le16(_ values: [UInt16]) -> [UInt8] { values.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] } }
        let data = RawSafeTensors.write([
            RawSafeTensor(name: "half", dtype: "F16", shape: [2, 4],
                          bytes: le16([0x3C00, 0xC000, 0x3800, 0x0001, 0x7BFF, 0x7C00, 0xFC00, 0x8000])),
            RawSafeTensor(name: "brain", dtype: "BF16", shape: [3], bytes: le16([0x3F80, 0xC060, 0x0000])),
            RawSafeTensor(name: "long", dtype: "I64", shape: [2],
                          bytes: withUnsafeBytes(of: Int64(-3).littleEndian) { Array($0) } + withUnsafeBytes(of: Int64(5).littleEndian) { Array($0) }),
            RawSafeTensor(name: "int", dtype: "I32", shape: [1], bytes: withUnsafeBytes(of: Int32(-70000).littleEndian) { Array($0) }),
            RawSafeTensor(name: "byte", dtype: "U8", shape: [2], bytes: [0, 255]),
            RawSafeTensor(name: "flag", dtype: "BOOL", shape: [2], bytes: [1, 0]),
            RawSafeTensor(name: "scalar", dtype: "F64", shape: [], bytes: RawSafeTensors.f64Bytes([2.5])),
            RawSafeTensor(name: "empty", dtype: "F32", shape: [0, 3], bytes: []),
        ])
        let file = try SafeTensorsFile(data: data)
        let half = try file.tensor("half", as: Float.self)
        #expect(half.shape == [2, 4])
        #expect(half.scalars == [1, -2, 0.5, 0x1p-24, 65504, .infinity, -.infinity, 0])
        #expect(half.scalars[7].sign == .minus)
        #expect(try file.tensor("brain", as: Double.self).scalars == [1, -3.5, 0])
        #expect(try file.tensor("long", as: Double.self).scalars == [-3, 5])
        #expect(try file.tensor("int", as: Float.self).scalars == [-70000])
        #expect(try file.tensor("byte", as: Float.self).scalars == [0, 255])
        #expect(try file.tensor("flag", as: Float.self).scalars == [1, 0])
        let scalar = try file.tensor("scalar", as: Double.self)
        #expect(scalar.shape == [] && scalar.scalars == [2.5])
        #expect(try file.tensor("empty", as: Float.self).shape == [0, 3])
        #expect(file.info("half")?.dtype == .float16 && file.info("brain")?.dtype == .bfloat16)
        #expect(throws: CheckpointError.self) { try file.tensor("absent", as: Float.self) }
        // NaN half.
        let nan = try SafeTensorsFile(data: RawSafeTensors.write([RawSafeTensor(name: "n", dtype: "F16", shape: [1], bytes: le16([0x7E00]))]))
        #expect(try nan.tensor("n", as: Float.self).scalars[0].isNaN)
    }

    @Test func writerRefusesDuplicateAndReservedNames() {
        let one = Tensor<Float>([1])
        #expect(throws: CheckpointError.self) { try SafeTensorsFile.encode([("a", one), ("a", one)]) }
        #expect(throws: CheckpointError.self) { try SafeTensorsFile.encode([("__metadata__", one)]) }
    }
}
