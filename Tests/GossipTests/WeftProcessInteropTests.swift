import Foundation
import Testing
import TestSupport

/// The `weft` executable (built next to this test bundle) against a serf agent: a real process that can be
/// stopped with SIGSTOP, resumed with SIGCONT and asked to leave with SIGTERM.
@Suite(
    "weft gossip process with serf", .serialized,
    .enabled(if: SerfAgent.isInstalled && WeftProcess.isBuilt, "needs serf and the weft executable (swift build)"))
struct WeftProcessInteropTests {
    @Test("SIGSTOP: serf marks weft failed; SIGCONT: weft refutes and is alive; SIGTERM: serf shows left",
          .timeLimit(.minutes(2)))
    func stopContinueTerminate() async throws {
        try await withSerfAgents { agents in
            let serf = try agents.start("serf-p", port: 28_046, rpcPort: 28_473, tags: ["role": "web"])
            #expect(await eventually(within: .seconds(10), every: .milliseconds(100)) { !serf.members().isEmpty } != nil)
            let weft = try WeftProcess([
                "gossip", "run", "--name", "weft-p", "--bind", "127.0.0.4:28050", "--join", serf.bind,
                "--tag", "role=weft", "--log-level", "debug",
            ])
            defer { weft.kill() }
            let joined = await eventually(within: .seconds(10)) { serf.member("weft-p")?.status == "alive" }
            #expect(joined != nil, "serf: \(serf.members()); weft log: \(weft.log)")
            #expect(serf.member("weft-p")?.tags == ["role": "weft"])

            // weft's own view, read with `weft gossip members` from the outside.
            let listing = try WeftProcess.output(["gossip", "members", "--peer", "127.0.0.4:28050"])
            #expect(listing.contains("serf-p") && listing.contains("role=web"), "\(listing)")

            weft.signal(SIGSTOP)
            let failed = await eventually(within: .seconds(30)) { serf.member("weft-p")?.status == "failed" }
            #expect(failed != nil, "serf: \(serf.members())")
            weft.signal(SIGCONT)
            let back = await eventually(within: .seconds(45)) { serf.member("weft-p")?.status == "alive" }
            #expect(back != nil, "serf: \(serf.members())")
            let view = try WeftProcess.output(["gossip", "members", "--peer", serf.bind, "--json"])
            #expect(view.contains("\"name\":\"weft-p\"") && view.contains("\"incarnation\":2"), "\(view)")

            weft.signal(SIGTERM)
            let left = await eventually(within: .seconds(15)) { serf.member("weft-p")?.status == "left" }
            #expect(left != nil, "serf: \(serf.members())")
            #expect(await eventually(within: .seconds(10)) { !weft.isRunning } != nil)
            if let failed, let back {
                print("weft process: serf marked it failed \(failed) after SIGSTOP, alive \(back) after SIGCONT")
            }
            let problems = serf.problems.filter { !$0.contains("Failed fallback ping") }
            #expect(problems.isEmpty, "serf logged: \(problems)")
        }
    }
}

/// A `weft` child process whose output goes to a temporary file.
final class WeftProcess: @unchecked Sendable {
    static var executable: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("weft")
    }

    static var isBuilt: Bool { FileManager.default.isExecutableFile(atPath: executable.path) }

    private let process = Process()
    private let logPath = NSTemporaryDirectory() + "weft-process-\(UUID().uuidString).log"

    init(_ arguments: [String]) throws {
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.executableURL = Self.executable
        process.arguments = arguments
        process.standardOutput = log
        process.standardError = log
        try ProcessLauncher.start(process)
    }

    var isRunning: Bool { process.isRunning }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) {
        if process.isRunning { Foundation.kill(process.processIdentifier, number) }
    }

    /// Kills the process (also when stopped) and waits for it.
    func kill() {
        if process.isRunning {
            Foundation.kill(process.processIdentifier, SIGCONT)
            Foundation.kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: logPath)
    }

    /// Runs `weft` with `arguments` to completion and returns its standard output.
    static func output(_ arguments: [String]) throws -> String {
        try Shell.outcome([executable.path] + arguments).standardOutput
    }
}
