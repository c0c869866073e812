import Foundation
import Testing
@testable import Loom

/// Checks the parity runner itself: it must never count a case it did not verify as passed.
@Suite struct FixtureRunnerTests {
    /// A tiny gather fixture: x = [1, 2], index = [1], y = [2], grad.x = [0, 3] for dloss.y = [3].
    func fixture(kind: String = "gather", expected: String = #""y": {"shape": [1], "data": [2]}, "grad.x": {"shape": [2], "data": [0, 3]}"#,
                 config: String = #"{"dim": 0}"#) throws -> Fixture {
        let json = """
        {"format": "parity-1", "name": "tiny", "kind": "\(kind)", "config": \(config), "note": null,
         "tensors": {"x": {"shape": [2], "data": [1, 2]}, "dloss.y": {"shape": [1], "data": [3]}},
         "int_tensors": {"index": {"shape": [1], "data": [1]}},
         "expected": {\(expected)},
         "tolerance": {"float64": 1e-12, "float32": 1e-6}}
        """
        return try Fixture.decode(Data(json.utf8))
    }

    @Test func exactResultsPass() throws {
        let report = ParityRunner.run(try fixture())
        #expect(report.status == .passed, "\(report.line)")
        #expect(report.outcomes.count == 2)
    }

    @Test func unknownKindIsUnsupported() throws {
        let report = ParityRunner.run(try fixture(kind: "no_such_kind"))
        #expect(report.status == .unsupported)
    }

    @Test func missingProducedValueIsUnsupportedNotPassed() throws {
        let report = ParityRunner.run(try fixture(expected: #""y": {"shape": [1], "data": [2]}, "grad.index": {"shape": [1], "data": [0]}"#))
        #expect(report.status == .unsupported, "\(report.line)")
    }

    @Test func wrongValueOrShapeFails() throws {
        let wrong = ParityRunner.run(try fixture(expected: #""y": {"shape": [1], "data": [2.001]}"#))
        #expect(wrong.status == .failed)
        let misShaped = ParityRunner.run(try fixture(expected: #""y": {"shape": [1, 1], "data": [2]}"#))
        #expect(misShaped.status == .failed)
        let thrown = ParityRunner.run(try fixture(config: #"{"dim": null}"#))
        #expect(thrown.status == .failed, "a missing config value must fail: \(thrown.line)")
    }

    @Test func errorIsRelativeAboveOneAndAbsoluteBelow() {
        #expect(ParityRunner.elementError(got: 101, expected: 100) == 0.01)
        #expect(ParityRunner.elementError(got: 0.5, expected: 0.25) == 0.25)
        #expect(ParityRunner.elementError(got: .nan, expected: 1) == .infinity)
        #expect(ParityRunner.elementError(got: -.infinity, expected: -.infinity) == 0)
        #expect(ParityRunner.shapesMatch([], [1]) && !ParityRunner.shapesMatch([2], [1, 2]))
    }

    @Test func summaryLineCountsEachStatus() throws {
        let reports = [ParityRunner.run(try fixture()), ParityRunner.run(try fixture(kind: "no_such_kind")),
                       ParityRunner.run(try fixture(expected: #""y": {"shape": [1], "data": [5]}"#))]
        #expect(ParityRunner.summary(reports) == "parity: 1 passed, 1 failed, 1 unsupported")
    }
}
