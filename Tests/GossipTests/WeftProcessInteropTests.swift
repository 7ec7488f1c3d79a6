import Foundation
import Testing
import TestSupport

/// The `weft` executable (built next to this test bundle) against a serf agent: a real process that can be
/// stopped with SIGSTOP, resumed with SIGCONT and asked to leave with SIGTERM.
@Suite(
    "weft gossip process with serf", .serialized,
    .enabled(if: SerfAgent.isInstalled && Executables.weftIsBuilt, "needs serf and the weft executable (swift build)"))
struct WeftProcessInteropTests {
    @Test("SIGSTOP: serf marks weft failed; SIGCONT: weft refutes and is alive; SIGTERM: serf shows left",
          .timeLimit(.minutes(2)))
    func stopContinueTerminate() async throws {
        try await withSerfAgents { agents in
            let serf = try agents.start("serf-p", port: 28_046, rpcPort: 28_473, tags: ["role": "web"])
            #expect(await eventually(within: .seconds(10), every: .milliseconds(100)) { await !serf.members().isEmpty } != nil)
            let weft = try startWeft([
                "gossip", "run", "--name", "weft-p", "--bind", "127.0.0.4:28050", "--join", serf.bind,
                "--tag", "role=weft", "--log-level", "debug",
            ])
            defer {
                weft.killBlocking()
                try? FileManager.default.removeItem(at: weft.logFile)
            }
            let joined = await eventually(within: .seconds(10)) { await serf.member("weft-p")?.status == "alive" }
            #expect(joined != nil, "serf: \(serf.lastMembers); weft log: \(weft.log())")
            #expect(await serf.member("weft-p")?.tags == ["role": "weft"])

            // weft's own view, read with `weft gossip members` from the outside.
            let listing = try await weftOutput(["gossip", "members", "--peer", "127.0.0.4:28050"])
            #expect(listing.contains("serf-p") && listing.contains("role=web"), "\(listing)")

            weft.signal(SIGSTOP)
            let failed = await eventually(within: .seconds(30)) { await serf.member("weft-p")?.status == "failed" }
            #expect(failed != nil, "serf: \(serf.lastMembers)")
            weft.signal(SIGCONT)
            let back = await eventually(within: .seconds(45)) { await serf.member("weft-p")?.status == "alive" }
            #expect(back != nil, "serf: \(serf.lastMembers)")
            let view = try await weftOutput(["gossip", "members", "--peer", serf.bind, "--json"])
            #expect(view.contains("\"name\":\"weft-p\"") && view.contains("\"incarnation\":2"), "\(view)")

            weft.signal(SIGTERM)
            let left = await eventually(within: .seconds(15)) { await serf.member("weft-p")?.status == "left" }
            #expect(left != nil, "serf: \(serf.lastMembers)")
            #expect(await eventually(within: .seconds(10)) { !weft.isRunning } != nil)
            if let failed, let back {
                print("weft process: serf marked it failed \(failed) after SIGSTOP, alive \(back) after SIGCONT")
            }
            let problems = serf.problems.filter { !$0.contains("Failed fallback ping") }
            #expect(problems.isEmpty, "serf logged: \(problems)")
        }
    }
}

/// `weft` with `arguments` as a child of the test, its output in a temporary log file.
func startWeft(_ arguments: [String]) throws -> ChildProcess {
    try ChildProcess.start(
        label: "weft", argv: [Executables.weft] + arguments,
        logFile: URL(fileURLWithPath: NSTemporaryDirectory() + "weft-process-\(UUID().uuidString).log"))
}

/// Runs `weft` with `arguments` to completion, off the cooperative pool, and returns its standard output.
func weftOutput(_ arguments: [String]) async throws -> String {
    try await Command.run([Executables.weft] + arguments, timeout: .seconds(60)).stdout
}
