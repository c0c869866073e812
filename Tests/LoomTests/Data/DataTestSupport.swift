import Foundation
@testable import Loom

/// Helpers for the data tests: temporary files and capturing the thrown `DataError`.
enum DataTestSupport {
    /// Writes `bytes` to a fresh temporary file and returns its path.
    static func temporaryFile(_ bytes: [UInt8], suffix: String) throws -> String {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("loom-data-test-\(UUID().uuidString)\(suffix)")
        try Data(bytes).write(to: url)
        return url.path
    }

    /// Writes `text` to a fresh temporary file and returns its path.
    static func temporaryFile(_ text: String, suffix: String) throws -> String {
        try temporaryFile(Array(text.utf8), suffix: suffix)
    }

    /// The `DataError` thrown by `body`, or nil if it returned or threw something else.
    static func dataError<T>(_ body: () throws -> T) -> DataError? {
        do {
            _ = try body()
            return nil
        } catch let error as DataError {
            return error
        } catch {
            return nil
        }
    }

    /// Random bytes biased towards the characters the parsers care about.
    static func fuzzBytes(_ g: inout RandomGenerator, maxLength: Int = 300) -> [UInt8] {
        let interesting: [UInt8] = Array("\t\n\r,\"#-.0123456789 _abcXYZ".utf8)
        let length = g.nextInt(below: maxLength + 1)
        return (0..<length).map { _ in
            switch g.nextInt(below: 4) {
            case 0: return UInt8(truncatingIfNeeded: g.next())
            default: return interesting[g.nextInt(below: interesting.count)]
            }
        }
    }

    /// Fuzz input that is mostly well-formed lines of a format with random damage.
    static func damagedText(_ valid: String, _ g: inout RandomGenerator) -> [UInt8] {
        var bytes = Array(valid.utf8)
        let edits = 1 + g.nextInt(below: 6)
        for _ in 0..<edits where !bytes.isEmpty {
            let position = g.nextInt(below: bytes.count)
            switch g.nextInt(below: 3) {
            case 0: bytes.remove(at: position)
            case 1: bytes.insert(fuzzBytes(&g, maxLength: 3).first ?? 0x09, at: position)
            default: bytes[position] = UInt8(truncatingIfNeeded: g.next())
            }
        }
        return bytes
    }
}
