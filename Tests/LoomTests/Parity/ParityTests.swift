import Foundation
import Testing
@testable import Loom

/// Runs every PyTorch parity fixture bundled with the tests, plus every `*.json` in the
/// folder named by `LOOM_FIXTURES` when that is set, in `Double` and in `Float`. Prints one
/// line per fixture and closes with `parity: N passed, N failed, N unsupported` (see
/// `FixtureStatus` for how fixtures are counted). Fails if any fixture failed, or if a
/// bundled fixture of a supported kind did not pass; unsupported kinds are only reported.
@Suite struct ParityTests {
    @Test func parity() throws {
        var reports: [FixtureReport] = []
        let bundled = try ParityRunner.bundledFixtureFiles()
        #expect(!bundled.isEmpty, "no bundled fixtures found")
        for file in bundled {
            let report = ParityRunner.run(file: file)
            reports.append(report)
            print(report.line)
            if parityHandlers[report.kind] != nil {
                #expect(report.status == .passed, "bundled fixture \(report.line)")
            }
        }
        if let folder = ProcessInfo.processInfo.environment["LOOM_FIXTURES"], !folder.isEmpty {
            do {
                for file in try ParityRunner.jsonFiles(in: URL(fileURLWithPath: folder)) {
                    let report = ParityRunner.run(file: file)
                    reports.append(report)
                    print(report.line + "  (\(folder))")
                }
            } catch {
                let report = FixtureReport(name: folder, kind: "?", outcomes: [], status: .failed,
                                           reason: "LOOM_FIXTURES folder unreadable: \(error)")
                reports.append(report)
                print(report.line)
            }
        }
        let summary = ParityRunner.summary(reports)
        print(summary)
        let failed = reports.filter { $0.status == .failed }
        #expect(failed.isEmpty, "\(summary)\n\(failed.map(\.line).joined(separator: "\n"))")
    }
}
