import Foundation
import Testing
@testable import Loom

/// Weights in PyTorch's layout and names, written as safetensors by an independent writer,
/// load into Loom and reproduce PyTorch's outputs; Loom's checkpoints read back with an
/// independent parser.
@Suite struct CheckpointPyTorchTests {
    static func fixture() throws -> Fixture {
        guard let folder = Bundle.module.url(forResource: "fixtures", withExtension: nil) else {
            throw ParityError("no fixtures folder in the test bundle")
        }
        return try Fixture.decode(Data(contentsOf: folder.appendingPathComponent("lstm_2layer_bidir_packed.json")))
    }

    /// `nn.LSTM(3, 4, num_layers=2, bidirectional=True).state_dict()` names, in its order.
    static let stateDictNames: [String] = (0..<2).flatMap { layer in
        ["", "_reverse"].flatMap { suffix in
            ["weight_ih", "weight_hh", "bias_ih", "bias_hh"].map { "\($0)_l\(layer)\(suffix)" }
        }
    }

    /// The fixture's parameters as a safetensors file written like PyTorch would (state-dict
    /// order, `format: pt` metadata, unpadded header), in `F64` or `F32`.
    static func pytorchStyleFile(_ fixture: Fixture, float32: Bool) throws -> Data {
        let tensors = try stateDictNames.map { name in
            guard let stored = fixture.tensors["param." + name] else { throw ParityError("fixture lacks param.\(name)") }
            return RawSafeTensor(name: name, dtype: float32 ? "F32" : "F64", shape: stored.shape,
                                 bytes: float32 ? RawSafeTensors.f32Bytes(stored.data.map { Float($0) })
                                                : RawSafeTensors.f64Bytes(stored.data))
        }
        return RawSafeTensors.write(tensors, metadata: ["format": "pt"])
    }

    /// Loads the file into a fresh LSTM and checks output, h_n and c_n against the fixture.
    func reproduce<Scalar: TensorScalar>(_: Scalar.Type, fileFloat32: Bool) throws {
        let fixture = try Self.fixture()
        let directory = try ScratchDirectory()
        defer { directory.cleanUp() }
        let url = directory.file("lstm.safetensors")
        try Self.pytorchStyleFile(fixture, float32: fileFloat32).write(to: url)

        var generator = RandomGenerator(seed: 0)
        var lstm = LSTM<Scalar>(inputSize: 3, hiddenSize: 4, numLayers: 2, batchFirst: true, bidirectional: true,
                                using: &generator)
        let before = lstm.namedParameters().map(\.tensor.scalars)
        try loadCheckpoint(into: &lstm, from: url)
        #expect(lstm.namedParameters().map(\.tensor.scalars) != before)

        let result = try lstm.forward(try fixture.tensor("x", as: Scalar.self), lengths: try fixture.intTensor("lengths").scalars,
                                      initialState: (h: try fixture.tensor("h0", as: Scalar.self), c: try fixture.tensor("c0", as: Scalar.self)),
                                      using: &generator)
        let tolerance = fixture.tolerance.value(for: Scalar.self)
        for (name, produced) in [("output", result.output), ("h_n", result.hN), ("c_n", result.cN)] {
            let expected = try #require(fixture.expected[name])
            #expect(produced.shape == expected.shape, "\(name)")
            let error = zip(produced.scalars, expected.data).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(error <= tolerance, "\(name): max error \(error) > \(tolerance)")
        }
    }

    @Test func pytorchWeightsReproduceOutputsInDouble() throws { try reproduce(Double.self, fileFloat32: false) }
    @Test func pytorchWeightsReproduceOutputsInFloat() throws { try reproduce(Float.self, fileFloat32: true) }

    @Test func loomCheckpointReadsBackIndependently() throws {
        let fixture = try Self.fixture()
        let directory = try ScratchDirectory()
        defer { directory.cleanUp() }
        let source = directory.file("pytorch.safetensors")
        try Self.pytorchStyleFile(fixture, float32: false).write(to: source)
        var generator = RandomGenerator(seed: 0)
        var lstm = LSTM<Double>(inputSize: 3, hiddenSize: 4, numLayers: 2, batchFirst: true, bidirectional: true,
                                using: &generator)
        try loadCheckpoint(into: &lstm, from: source)

        let saved = directory.file("loom.safetensors")
        try saveCheckpoint(lstm, to: saved, metadata: ["epoch": "1"])
        let parsed = try RawSafeTensors.parse(Data(contentsOf: saved))
        #expect(parsed.metadata == ["format": "pt", "epoch": "1"])
        #expect(parsed.namesInHeaderOrder == Self.stateDictNames.sorted())
        for name in Self.stateDictNames {
            let stored = try #require(fixture.tensors["param." + name])
            let tensor = try #require(parsed.tensors[name], "\(name) missing")
            #expect(tensor.dtype == "F64")
            #expect(tensor.shape == stored.shape)
            #expect(RawSafeTensors.doubles(tensor.bytes).map(\.bitPattern) == stored.data.map(\.bitPattern), "\(name)")
        }
    }

    /// Real interoperability with PyTorch, run only when `LOOM_TORCH_INTEROP` names a folder
    /// prepared by `Docs/interop/safetensors_interop.py prepare FOLDER`: loads the LSTM
    /// PyTorch saved, checks PyTorch's outputs, and saves a Loom checkpoint there for the
    /// script's `verify` step.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["LOOM_TORCH_INTEROP"] != nil))
    func interopWithRealPyTorch() throws {
        let folder = URL(fileURLWithPath: ProcessInfo.processInfo.environment["LOOM_TORCH_INTEROP"]!)
        let io = try SafeTensorsFile(contentsOf: folder.appendingPathComponent("io.safetensors"))
        var generator = RandomGenerator(seed: 0)
        var lstm = LSTM<Double>(inputSize: 5, hiddenSize: 6, numLayers: 2, batchFirst: true, bidirectional: true,
                                using: &generator)
        try loadCheckpoint(into: &lstm, from: folder.appendingPathComponent("torch_lstm.safetensors"))
        let lengths = try io.tensor("lengths", as: Double.self).scalars.map { Int($0) }
        let result = try lstm.forward(try io.tensor("x"), lengths: lengths,
                                      initialState: (h: try io.tensor("h0"), c: try io.tensor("c0")), using: &generator)
        for (name, produced) in [("output", result.output), ("h_n", result.hN), ("c_n", result.cN)] {
            let expected: Tensor<Double> = try io.tensor(name)
            #expect(produced.shape == expected.shape, "\(name)")
            let error = zip(produced.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? .infinity
            #expect(error <= 1e-9, "\(name): max error \(error)")
        }
        var generator2 = RandomGenerator(seed: 42)
        let fresh = LSTM<Float>(inputSize: 5, hiddenSize: 6, numLayers: 2, batchFirst: true, bidirectional: true,
                                using: &generator2)
        try saveCheckpoint(fresh, to: folder.appendingPathComponent("loom_lstm.safetensors"))
        try SafeTensorsFile.write(fresh.stateDict(), to: folder.appendingPathComponent("loom_lstm_copy.safetensors"))
    }
}
