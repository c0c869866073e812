import Foundation
import Testing
@testable import Loom

/// Reading and writing GloVe / word2vec text vectors: both layouts, the exact round trip,
/// and a clean `DataError` naming the line for every kind of malformed file.
@Suite struct WordVectorsTests {
    @Test func readsGloVeRows() throws {
        let vectors = try WordVectors.parse("the 0.1 -2 3e-2\ncat 1 2 3\r\n\n", source: "g.txt")
        #expect(vectors.words == ["the", "cat"])
        #expect(vectors.dimension == 3)
        #expect(vectors.vector(for: "the").map(Array.init) == [0.1, -2, 0.03])
        #expect(vectors.vector(for: "dog") == nil)
    }

    @Test func readsAWord2VecHeader() throws {
        let vectors = try WordVectors.parse("2 2\nein 1 2\nzwei\t3 4\n")
        #expect(vectors.words == ["ein", "zwei"] && vectors.values == [1, 2, 3, 4])
    }

    @Test func roundTripsEveryFloatExactly() throws {
        var generator = RandomGenerator(seed: 4)
        let values = Tensor<Float>.randn([3, 5], using: &generator).scalars + [Float.leastNonzeroMagnitude, -Float.greatestFiniteMagnitude, 1e-7, -0.0, 123456.79]
        let vectors = WordVectors(words: ["a", "b", "c", "d"], dimension: 5, values: values)
        let read = try WordVectors.parse(vectors.text)
        #expect(read == vectors)
        #expect(zip(read.values, values).allSatisfy { $0.bitPattern == $1.bitPattern })

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("loom-vectors-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try vectors.write(to: path)
        #expect(try WordVectors.read(path: path) == vectors)
    }

    /// The error `text` gives, as `file:line[:column]: message`.
    func error(_ text: String) -> String {
        do {
            _ = try WordVectors.parse(text, source: "v.txt")
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func malformedFilesNameTheLine() {
        #expect(error("") == "v.txt: no word vectors in the file")
        #expect(error("\n  \n") == "v.txt: no word vectors in the file")
        #expect(error("a 1 2\nb 1 2 3\n") == "v.txt:2: expected 2 numbers after the word (as on the first row), found 3")
        #expect(error("3 2\na 1 2\nb 1\n") == "v.txt:3: expected 2 numbers after the word (as the header says), found 1")
        #expect(error("a 1 2\nb 1 x\n") == "v.txt:2:3: \"x\" is not a finite number")
        #expect(error("a 1 nan\n") == "v.txt:1:3: \"nan\" is not a finite number")
        #expect(error("a 1 2\nb 3 4\na 5 6\n") == "v.txt:3: the word \"a\" is listed twice (first on line 1)")
        #expect(error("a\n") == "v.txt:1: the word \"a\" has no numbers after it")
        #expect(error("3 2\na 1 2\n") == "v.txt:1: the header promises 3 vectors, the file has 1")
    }

    @Test func missingFileIsADataError() {
        #expect(throws: DataError.self) { try WordVectors.read(path: "/nonexistent/vectors.txt") }
    }
}
