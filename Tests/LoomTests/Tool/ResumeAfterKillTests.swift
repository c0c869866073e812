import Foundation
import Testing
@testable import Loom

/// Training killed with SIGKILL at random moments and resumed from its last checkpoint ends
/// with the same weights as the uninterrupted run, for every task, with the thread count
/// changing from one resumed run to the next.
@Suite struct ResumeAfterKillTests {
    /// Options giving each task enough optimizer steps to be killed in the middle of.
    static let options: [ToolTask: [String]] = [
        .tagger: ["--epochs", "6", "--limit", "96", "--batch-size", "8", "--embedding-size", "8", "--hidden-size", "8"],
        .classifier: ["--epochs", "6", "--limit", "96", "--batch-size", "8", "--embedding-size", "8", "--hidden-size", "8"],
        .charlm: ["--epochs", "6", "--limit", "3300", "--batch-size", "4", "--embedding-size", "8", "--hidden-size", "8"],
        .forecast: ["--epochs", "40", "--batch-size", "16", "--hidden-size", "4"],
        .lemmatizer: ["--epochs", "6", "--batch-size", "8", "--embedding-size", "8", "--hidden-size", "8", "--beam", "2"]
            + LoomTool.lemmatizerFiles,
    ]

    /// Starts `loom` with `arguments`, output discarded.
    func start(_ arguments: [String]) throws -> Process {
        let process = Process()
        process.executableURL = try #require(LoomTool.executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// The checkpoint's modification date, nil while it does not exist.
    func modified(_ path: String) -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    @Test(arguments: ToolTask.allCases)
    func killedAndResumedRunEndsWithTheUninterruptedWeights(task: ToolTask) throws {
        let common = ["train", task.rawValue, "--seed", "3"] + Self.options[task]!
        let reference = try LoomTool.run(common + ["--threads", "1"])
        #expect(reference.status == 0, "\(reference.stderr)")
        let expected = try #require(reference.checksum)

        let checkpoint = LoomTool.temporaryPath(".safetensors")
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        var generator = RandomGenerator(seed: UInt64(task.rawValue.count))
        var killsMidRun = 0
        for attempt in 0..<3 {
            let resume = FileManager.default.fileExists(atPath: checkpoint) ? ["--resume", checkpoint] : []
            let threads = ["--threads", attempt % 2 == 0 ? "2" : "1"]
            let process = try start(common + threads + ["--save", checkpoint, "--checkpoint-every", "2"] + resume)
            // Wait for a new checkpoint (so the run has made progress), then a random moment
            // more: up to 15 ms, a few optimizer steps and checkpoint writes of these tiny models.
            let before = modified(checkpoint)
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning && modified(checkpoint) == before && Date() < deadline { usleep(500) }
            usleep(UInt32(generator.nextInt(below: 15_000)))
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                killsMidRun += 1
            }
            process.waitUntilExit()
            // Whatever the moment of the kill, the file on disk is a whole checkpoint.
            if FileManager.default.fileExists(atPath: checkpoint) {
                #expect(throws: Never.self) { _ = try SafeTensorsFile(contentsOf: URL(fileURLWithPath: checkpoint)) }
            }
        }
        #expect(killsMidRun > 0, "no run was still training when killed; the test would prove nothing")
        let resumed = try LoomTool.run(common + ["--threads", "2", "--save", checkpoint, "--checkpoint-every", "2", "--resume", checkpoint])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.checksum == expected, "resumed run: \(resumed.checksum ?? "no checksum"), uninterrupted: \(expected)")

        // The finished training checkpoint still evaluates and resumes to the same weights.
        let again = try LoomTool.run(common + ["--threads", "1", "--resume", checkpoint])
        #expect(again.checksum == expected)
    }

    @Test func resumingAnotherTasksCheckpointIsRefused() throws {
        let checkpoint = LoomTool.temporaryPath(".safetensors")
        defer { try? FileManager.default.removeItem(atPath: checkpoint) }
        let trained = try LoomTool.run(["train", "forecast", "--epochs", "2", "--hidden-size", "4", "--save", checkpoint,
                                        "--checkpoint-every", "1"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let wrongSize = try LoomTool.run(["train", "forecast", "--epochs", "2", "--hidden-size", "5", "--resume", checkpoint])
        #expect(wrongSize.status == 2)
        #expect(wrongSize.stderr.contains("written for another model"), "\(wrongSize.stderr)")
        let plain = LoomTool.temporaryPath(".safetensors")
        defer { try? FileManager.default.removeItem(atPath: plain) }
        _ = try LoomTool.run(["train", "forecast", "--epochs", "1", "--hidden-size", "4", "--save", plain])
        let notTraining = try LoomTool.run(["train", "forecast", "--epochs", "2", "--hidden-size", "4", "--resume", plain])
        #expect(notTraining.status == 2)
        #expect(notTraining.stderr.contains("not a training checkpoint"), "\(notTraining.stderr)")
        let noSave = try LoomTool.run(["train", "forecast", "--checkpoint-every", "3"])
        #expect(noSave.status == 2)
        #expect(noSave.stderr.contains("--checkpoint-every needs --save"), "\(noSave.stderr)")
    }
}
