import Foundation
import Synchronization
import Testing

/// The harness's process runner under concurrency, as the tests use it: short commands started beside
/// long-running ones (a `docker exec … ping` beside `docker exec … pidof ping`). Needs no root.
@Suite("End to end: the harness's process runner", .timeLimit(.minutes(1)))
struct CommandRunnerTests {
    @Test("short commands started beside long-running ones end when they end, not when the long ones do")
    func shortBesideLong() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weft-runner-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let tally = Tally()
        var failure: (any Error)?
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<8 {
                    group.addTask {
                        for round in 0..<30 {
                            // Every lane starts a 30 s sleeper every other round, between its short commands.
                            if round % 2 == 0 {
                                let sleeper = try HostProcess.start(
                                    label: "sleeper-\(lane)-\(round)", argv: [Tools.sleep, "30"],
                                    logFile: directory.appendingPathComponent("sleeper-\(lane)-\(round).log"))
                                tally.sleepers.withLock { $0.append(sleeper) }
                            }
                            let started = ContinuousClock.now
                            try await Command.run([Tools.sh, "-c", "exit 0"], timeout: .seconds(20)).check()
                            let elapsed = ContinuousClock.now - started
                            tally.slowest.withLock { $0 = max($0, elapsed) }
                        }
                    }
                }
                try await group.waitForAll()
            }
        } catch {
            failure = error
        }
        // Each sleeper holds its standard input, output and error and the one socket by which Foundation learns
        // that it exited: nothing of another child's.
        var foreign: [String] = []
        for sleeper in tally.sleepers.withLock({ $0 }) {
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(sleeper.pid)/fd")) ?? []
            let sockets = descriptors.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(sleeper.pid)/fd/\($0)") }
                .filter { $0.hasPrefix("socket:") }
            if sockets.count > 1 { foreign.append("sleeper \(sleeper.pid) holds \(sockets)") }
        }
        for sleeper in tally.sleepers.withLock({ $0 }) { await sleeper.kill() }
        try? FileManager.default.removeItem(at: directory)
        if let failure { throw failure }
        // A command that waited for a sleeper would take until it was killed (20 s) or it ended (30 s).
        let worst = tally.slowest.withLock { $0 }
        #expect(worst < .seconds(5), "the slowest of 240 short commands took \(worst)")
        #expect(foreign.isEmpty, "\(foreign)")
    }

    /// What the lanes share: the sleepers to kill at the end, and the slowest short command.
    final class Tally: Sendable {
        let sleepers = Mutex<[HostProcess]>([])
        let slowest = Mutex(Duration.zero)
    }
}
