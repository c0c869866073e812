import Foundation
import Testing
@testable import Loom

/// One fixture file to run: bundled with the tests, or from the folder named by
/// `LOOM_FIXTURES`.
struct ParityFixtureFile: CustomTestStringConvertible, Sendable {
    var url: URL
    /// Whether the file is one of the test bundle's own fixtures.
    var bundled: Bool
    /// An error reading the `LOOM_FIXTURES` folder itself, reported as one failed entry.
    var folderError: String?

    var testDescription: String { url.lastPathComponent + (bundled ? "" : " (LOOM_FIXTURES)") }

    /// Every bundled fixture, then every `*.json` in `LOOM_FIXTURES` when it is set.
    static let all: [ParityFixtureFile] = {
        var files = ((try? ParityRunner.bundledFixtureFiles()) ?? []).map { ParityFixtureFile(url: $0, bundled: true) }
        if let folder = ProcessInfo.processInfo.environment["LOOM_FIXTURES"], !folder.isEmpty {
            do {
                files += try ParityRunner.jsonFiles(in: URL(fileURLWithPath: folder)).map { ParityFixtureFile(url: $0, bundled: false) }
            } catch {
                files.append(ParityFixtureFile(url: URL(fileURLWithPath: folder), bundled: false,
                                               folderError: "LOOM_FIXTURES folder unreadable: \(error)"))
            }
        }
        return files
    }()
}

/// Runs each fixture once, whichever test asks first, so the per-fixture tests and the
/// summary share the work.
final class ParityResults: @unchecked Sendable {
    static let shared = ParityResults()
    private let lock = NSLock()
    private var reports: [URL: FixtureReport] = [:]

    func report(for file: ParityFixtureFile) -> FixtureReport {
        if let error = file.folderError {
            return FixtureReport(name: file.url.path, kind: "?", outcomes: [], status: .failed, reason: error)
        }
        lock.lock()
        defer { lock.unlock() }
        if let report = reports[file.url] { return report }
        let report = ParityRunner.run(file: file.url)
        reports[file.url] = report
        return report
    }
}

/// Runs every PyTorch parity fixture bundled with the tests, plus every `*.json` in the
/// folder named by `LOOM_FIXTURES` when that is set, in `Double` and in `Float`: one test per
/// fixture file, each printing its line, and a summary test closing with
/// `parity: N passed, N failed, N unsupported` (see `FixtureStatus` for how fixtures are
/// counted). A fixture fails its test if it failed, or if it is bundled, of a supported kind,
/// and did not pass; unsupported kinds are only reported.
@Suite struct ParityTests {
    @Test(arguments: ParityFixtureFile.all)
    func fixture(_ file: ParityFixtureFile) {
        let report = ParityResults.shared.report(for: file)
        print(report.line + (file.bundled ? "" : "  (LOOM_FIXTURES)"))
        #expect(report.status != .failed, "\(report.line)")
        if file.bundled && parityHandlers[report.kind] != nil {
            #expect(report.status == .passed, "bundled fixture \(report.line)")
        }
    }

    @Test func summary() {
        #expect(ParityFixtureFile.all.contains { $0.bundled }, "no bundled fixtures found")
        let reports = ParityFixtureFile.all.map { ParityResults.shared.report(for: $0) }
        let summary = ParityRunner.summary(reports)
        print(summary)
        #expect(!reports.contains { $0.status == .failed }, "\(summary)")
    }
}
