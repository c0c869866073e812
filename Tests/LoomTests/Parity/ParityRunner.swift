import Foundation
@testable import Loom

/// How one precision of one fixture came out.
enum PrecisionOutcome: Equatable {
    /// Every expected value was produced and within tolerance; `worst` is the largest error.
    case passed(worst: Double)
    /// A value was off or mis-shaped, or the handler threw.
    case failed(String)
    /// An expected value was not produced.
    case unsupported(String)

    var summary: String {
        switch self {
        case .passed(let worst): "pass \(formatError(worst))"
        case .failed(let reason): "FAIL \(reason)"
        case .unsupported(let reason): "unsupported (\(reason))"
        }
    }
}

/// The verdict on a whole fixture.
///
/// Counting: a fixture is *failed* if it cannot be decoded or either precision fails
/// (a wrong or mis-shaped value, or a thrown error); otherwise *unsupported* if its kind
/// has no handler or either precision lacks an expected value; otherwise *passed*, which
/// needs both `Double` and `Float` to pass.
enum FixtureStatus: String {
    case passed, failed, unsupported
}

/// The result of running one fixture file.
struct FixtureReport {
    var name: String
    var kind: String
    var outcomes: [(precision: String, outcome: PrecisionOutcome)]
    var status: FixtureStatus
    var reason: String?

    /// One printable line: status, name, kind and each precision's outcome.
    var line: String {
        let label: String
        switch status {
        case .passed: label = "PASS "
        case .failed: label = "FAIL "
        case .unsupported: label = "UNSUP"
        }
        var text = "\(label) \(name) [\(kind)]"
        if let reason { text += "  \(reason)" }
        for (precision, outcome) in outcomes { text += "  \(precision): \(outcome.summary)" }
        return text
    }
}

private func formatError(_ value: Double) -> String {
    value == 0 ? "0" : String(format: "%.2e", value)
}

/// Loads fixture files, runs them through the registered handlers in `Double` and `Float`
/// and compares the results with the expected values.
enum ParityRunner {
    /// The per-element error `|got - expected| / max(1, |expected|)`; infinite for a NaN or
    /// infinity that the other side does not have.
    static func elementError(got: Double, expected: Double) -> Double {
        if got == expected { return 0 }
        if got.isNaN || expected.isNaN || !got.isFinite || !expected.isFinite { return .infinity }
        return Swift.abs(got - expected) / Swift.max(1, Swift.abs(expected))
    }

    /// Whether a produced shape matches an expected one. Exact, except that a
    /// zero-dimensional result matches an expected `[1]`: PyTorch's scalar losses are
    /// stored with shape `[1]` in the fixtures.
    static func shapesMatch(_ got: [Int], _ expected: [Int]) -> Bool {
        if got == expected { return true }
        return (got.isEmpty && expected == [1]) || (got == [1] && expected.isEmpty)
    }

    /// Compares every `expected` and `expected_int` entry of `fixture` with `outputs`.
    static func compare(_ fixture: Fixture, _ outputs: ParityOutputs, tolerance: Double) -> PrecisionOutcome {
        var worst = 0.0
        var failures: [String] = []
        var missing: [String] = []
        func check(_ key: String, got: (shape: [Int], data: [Double])?, expected: (shape: [Int], data: [Double])) {
            guard let got else { missing.append(key); return }
            guard Shape.count(of: expected.shape) == expected.data.count else {
                failures.append("\(key): expected has \(expected.data.count) values for shape \(expected.shape)")
                return
            }
            guard shapesMatch(got.shape, expected.shape), got.data.count == expected.data.count else {
                failures.append("\(key): shape \(got.shape), expected \(expected.shape)")
                return
            }
            var keyWorst = 0.0, worstAt = 0
            for i in expected.data.indices {
                let error = elementError(got: got.data[i], expected: expected.data[i])
                if error > keyWorst || (error.isNaN && !keyWorst.isNaN) { keyWorst = error; worstAt = i }
            }
            worst = Swift.max(worst, keyWorst)
            if !(keyWorst <= tolerance) {
                failures.append("\(key): error \(formatError(keyWorst)) > \(formatError(tolerance)) at \(worstAt) (got \(got.data[worstAt]), expected \(expected.data[worstAt]))")
            }
        }
        for key in fixture.expected.keys.sorted() {
            let expected = fixture.expected[key]!
            check(key, got: outputs.values[key].map { ($0.shape, $0.data) }, expected: (expected.shape, expected.data))
        }
        for key in fixture.expectedInt.keys.sorted() {
            let expected = fixture.expectedInt[key]!
            check(key, got: outputs.ints[key].map { ($0.shape, $0.data.map(Double.init)) },
                  expected: (expected.shape, expected.data.map(Double.init)))
        }
        if !failures.isEmpty { return .failed(failures.joined(separator: "; ")) }
        if !missing.isEmpty { return .unsupported("not produced: " + missing.joined(separator: ", ")) }
        return .passed(worst: worst)
    }

    /// Runs `fixture` in `Scalar` with `handler` and compares the results.
    static func run<Scalar: TensorScalar>(_ fixture: Fixture, handler: any ParityHandler.Type, as _: Scalar.Type) -> PrecisionOutcome {
        do {
            let outputs = try handler.run(fixture, as: Scalar.self)
            return compare(fixture, outputs, tolerance: fixture.tolerance.value(for: Scalar.self))
        } catch {
            return .failed("threw: \(error)")
        }
    }

    /// Runs a decoded fixture in both precisions.
    static func run(_ fixture: Fixture, handlers: [String: any ParityHandler.Type] = parityHandlers) -> FixtureReport {
        guard fixture.format == "parity-1" else {
            return FixtureReport(name: fixture.name, kind: fixture.kind, outcomes: [], status: .failed,
                                 reason: "unknown format '\(fixture.format)'")
        }
        guard let handler = handlers[fixture.kind] else {
            return FixtureReport(name: fixture.name, kind: fixture.kind, outcomes: [], status: .unsupported,
                                 reason: "no handler for kind '\(fixture.kind)'")
        }
        let outcomes: [(String, PrecisionOutcome)] = [
            ("float64", run(fixture, handler: handler, as: Double.self)),
            ("float32", run(fixture, handler: handler, as: Float.self)),
        ]
        let status: FixtureStatus
        if outcomes.contains(where: { if case .failed = $0.1 { true } else { false } }) {
            status = .failed
        } else if outcomes.contains(where: { if case .unsupported = $0.1 { true } else { false } }) {
            status = .unsupported
        } else {
            status = .passed
        }
        return FixtureReport(name: fixture.name, kind: fixture.kind, outcomes: outcomes, status: status)
    }

    /// Reads, decodes and runs one fixture file; an unreadable file is a failure.
    static func run(file: URL) -> FixtureReport {
        do {
            return run(try Fixture.decode(try Data(contentsOf: file)))
        } catch {
            return FixtureReport(name: file.lastPathComponent, kind: "?", outcomes: [], status: .failed,
                                 reason: "cannot read: \(error)")
        }
    }

    /// The `*.json` files directly inside `folder`, sorted by name.
    static func jsonFiles(in folder: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "json" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// The bundled fixtures (Tests/LoomTests/Resources/fixtures).
    static func bundledFixtureFiles() throws -> [URL] {
        guard let folder = Bundle.module.url(forResource: "fixtures", withExtension: nil) else {
            throw ParityError("the test bundle has no fixtures folder")
        }
        return try jsonFiles(in: folder)
    }

    /// The line closing a run.
    static func summary(_ reports: [FixtureReport]) -> String {
        let count = { (status: FixtureStatus) in reports.filter { $0.status == status }.count }
        return "parity: \(count(.passed)) passed, \(count(.failed)) failed, \(count(.unsupported)) unsupported"
    }
}
