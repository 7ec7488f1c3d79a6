import Foundation
import Synchronization
import TestSupport
import Testing

/// The process runner (TestSupport's `Command` and `ChildProcess`) as the tests use it: short commands started
/// beside long-running ones (a `docker exec … ping` beside `docker exec … pidof ping`), time limits, output
/// bounds, input, exit statuses, and stopping a child that ignores SIGTERM. Needs no root.
@Suite("End to end: the harness's process runner", .timeLimit(.minutes(2)))
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
        // Each sleeper holds its standard input, output and error, and at most one socket of its own (Foundation's
        // `Process` leaves one end of the child's own socket pair open in it): no pipe, and no socket another
        // child holds too, which is how a start beside another one leaks into it.
        var foreign: [String] = []
        var socketHolders: [String: [pid_t]] = [:]
        for sleeper in tally.sleepers.withLock({ $0 }) {
            let descriptors = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(sleeper.pid)/fd")) ?? []
            var sockets: [String] = []
            var others: [String] = []
            for descriptor in descriptors where !["0", "1", "2"].contains(descriptor) {
                let target =
                    (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(sleeper.pid)/fd/\(descriptor)"))
                    ?? "?"
                if target.hasPrefix("socket:") {
                    sockets.append("\(descriptor) → \(target)")
                    socketHolders[target, default: []].append(sleeper.pid)
                } else {
                    others.append("\(descriptor) → \(target)")
                }
            }
            if sockets.count > 1 || !others.isEmpty { foreign.append("sleeper \(sleeper.pid) holds \(sockets + others)") }
        }
        for (socket, holders) in socketHolders where holders.count > 1 {
            foreign.append("\(socket) is held by sleepers \(holders)")
        }
        for sleeper in tally.sleepers.withLock({ $0 }) { await sleeper.kill() }
        try? FileManager.default.removeItem(at: directory)
        if let failure { throw failure }
        // A command that waited for a sleeper would take until it was killed (20 s) or it ended (30 s).
        let worst = tally.slowest.withLock { $0 }
        #expect(worst < .seconds(5), "the slowest of 240 short commands took \(worst)")
        #expect(foreign.isEmpty, "\(foreign)")
    }

    @Test("synchronous callers (Shell) from more tasks at once than the cooperative pool has threads")
    func synchronousCallers() async throws {
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: String.self) { group in
            for lane in 0..<8 { group.addTask { try Shell.run([Tools.sh, "-c", "echo \(lane)"]) } }
            var outputs: [String] = []
            for try await output in group { outputs.append(output) }
            #expect(outputs.count == 8)
        }
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test("a command past its time limit is killed and says so, even when a grandchild keeps its pipe open")
    func timeLimit() async throws {
        let started = ContinuousClock.now
        let result = try await Command.run([Tools.sh, "-c", "sleep 5; echo late"], timeout: .milliseconds(500))
        let elapsed = ContinuousClock.now - started
        #expect(result.timedOut && !result.succeeded && result.signal == SIGKILL, "\(result)")
        #expect(elapsed < .seconds(4), "returned after \(elapsed)")
        #expect("\(result)".contains("timed out (killed)"))
    }

    @Test("output beyond the bound is read and dropped: the child is never blocked on a full pipe")
    func outputBound() async throws {
        let result = try await Command.run(
            [Tools.sh, "-c", "head -c 3000000 /dev/zero | tr '\\0' a; echo done >&2"], timeout: .seconds(20),
            outputLimit: 1000)
        #expect(result.succeeded && !result.timedOut, "\(result.status) \(result.stderr)")
        #expect(result.stdout.utf8.count == 1000 && result.stdout.allSatisfy { $0 == "a" })
        #expect(result.truncated && result.stderr == "done\n")
    }

    @Test("a given environment reaches the child exactly, variable by variable; none given inherits the test's")
    func environment() async throws {
        // Values of every length: an entry not terminated where the runner hands it on picks up the bytes after it.
        var given: [String: String] = [:]
        for length in 0..<40 { given["WEFT_RUNNER_\(length)"] = String(repeating: "v", count: length) }
        given["DOCKER_HOST"] = "unix:///run/weft-test/docker.sock"
        for _ in 0..<5 {
            let printed = try await Command.run([Tools.path("env")], environment: given).check().stdout
            let lines = printed.split(separator: "\n").map(String.init)
            #expect(Set(lines) == Set(given.map { "\($0.key)=\($0.value)" }), "env printed \(lines)")
        }
        let inherited = try await Command.run([Tools.path("env")]).check().stdout
        #expect(inherited.split(separator: "\n").contains { $0.hasPrefix("PATH=") })
    }

    @Test("standard input from text or a file; exit status and the ending signal")
    func inputAndStatus() async throws {
        #expect(try await Command.run([Tools.path("cat")], input: .text("over stdin")).stdout == "over stdin")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("weft-runner-input-\(getpid())")
        try Data("from a file".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try await Command.run([Tools.path("cat")], input: .file(file.path)).stdout == "from a file")
        #expect(try await Command.run([Tools.path("cat")]).stdout == "")
        let three = try await Command.run([Tools.sh, "-c", "echo out; echo err >&2; exit 3"])
        #expect(three.status == 3 && three.signal == nil && three.output == "out" && three.stderr == "err\n")
        #expect(throws: CommandFailure.self) { try three.check() }
        let terminated = try await Command.run([Tools.sh, "-c", "kill -TERM $$"])
        #expect(terminated.signal == SIGTERM && terminated.status == 128 + SIGTERM && !terminated.succeeded)
        await #expect(throws: CommandFailure.self) { try await Command.run(["/nonexistent/weft-test-tool"]) }
    }

    @Test("a long-running child: its log, its exit status, SIGTERM then SIGKILL after the grace when it ignores SIGTERM")
    func longRunning() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weft-child-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let quick = try HostProcess.start(
            label: "quick", argv: [Tools.sh, "-c", "echo hello; exit 7"], logFile: directory.appendingPathComponent("quick.log"))
        #expect(await quick.waitForExit(timeout: .seconds(10)))
        #expect(quick.exitStatus == 7 && !quick.isRunning && quick.log() == "hello\n")
        #expect(!quick.signal(SIGTERM))

        let polite = try HostProcess.start(
            label: "polite", argv: [Tools.sleep, "30"], logFile: directory.appendingPathComponent("polite.log"))
        #expect(polite.isRunning)
        #expect(await polite.terminate(grace: .seconds(10)) == .exited(128 + SIGTERM))

        let stubborn = try HostProcess.start(
            label: "stubborn", argv: [Tools.sh, "-c", "trap '' TERM; echo ready; while :; do sleep 0.1; done"],
            logFile: directory.appendingPathComponent("stubborn.log"))
        try await Poll.until("the stubborn child to start", timeout: .seconds(10)) { stubborn.log() == "ready\n" }
        let started = ContinuousClock.now
        #expect(await stubborn.terminate(grace: .milliseconds(500)) == .killed)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(!stubborn.isRunning && stubborn.exitStatus == 128 + SIGKILL)

        #expect(throws: HostProcess.StartFailure.self) {
            try HostProcess.start(
                label: "missing", argv: ["/nonexistent/weft-test-tool"], logFile: directory.appendingPathComponent("missing.log"))
        }
    }

    @Test("a bounded wait reports what it waited for and the last try")
    func waitReportsLastTry() async throws {
        do {
            try await Poll.until("a command that always fails", timeout: .milliseconds(100)) {
                try await Command.run([Tools.sh, "-c", "echo nope >&2; exit 1"])
            }
            Issue.record("the wait did not time out")
        } catch let error as WaitTimedOut {
            #expect("\(error)".contains("waiting for a command that always fails") && "\(error)".contains("nope"), "\(error)")
        }
    }

    /// What the lanes share: the sleepers to kill at the end, and the slowest short command.
    final class Tally: Sendable {
        let sleepers = Mutex<[HostProcess]>([])
        let slowest = Mutex(Duration.zero)
    }
}
