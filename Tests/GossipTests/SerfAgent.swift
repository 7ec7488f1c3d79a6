import Foundation
import Synchronization
import TestSupport

/// One Debian `serf agent` process for interoperation tests, bound to loopback on its own ports (gossip on
/// 127.0.0.1 or `[::1]`, RPC on 127.0.0.1), logging to a file. ``stop()`` kills it; tests call it on every path
/// (``withSerfAgents(_:_:)``).
final class SerfAgent: @unchecked Sendable {
    let name: String
    let bind: String
    let rpc: String
    let logPath: String
    private let process: ChildProcess

    /// Whether a `serf` binary is installed (the interop tests skip without one).
    static var isInstalled: Bool { Executables.isInstalled("serf") }

    init(name: String, port: Int, rpcPort: Int, tags: [String: String] = [:], join: String? = nil,
         encrypt: String? = nil, extra: [String] = [], host: String = "127.0.0.1") throws {
        self.name = name
        self.bind = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        self.rpc = "127.0.0.1:\(rpcPort)"
        self.logPath = NSTemporaryDirectory() + "weft-serf-\(name)-\(port).log"
        var arguments = ["agent", "-node=\(name)", "-bind=\(bind)", "-rpc-addr=\(rpc)", "-log-level=debug"]
        for (key, value) in tags.sorted(by: { $0.key < $1.key }) { arguments += ["-tag", "\(key)=\(value)"] }
        if let join { arguments.append("-join=\(join)") }
        if let encrypt { arguments.append("-encrypt=\(encrypt)") }
        arguments += extra
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        process = try ChildProcess.start(
            label: "serf \(name)", argv: [Executables.path("serf")] + arguments, logFile: URL(fileURLWithPath: logPath))
    }

    /// The agent's process id (for SIGSTOP and the like).
    var pid: Int32 { process.pid }

    /// Kills the agent (SIGKILL) and waits for it.
    func stop() {
        process.killBlocking()
    }

    /// The agent's log so far.
    var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
    }

    /// Log lines at WARN or ERR level.
    var problems: [String] {
        log.split(separator: "\n").map(String.init).filter { $0.contains("[ERR]") || $0.contains("[WARN]") }
    }

    struct MemberRow: Decodable, Sendable {
        let name: String
        let addr: String
        let status: String
        let tags: [String: String]
    }

    /// `serf members -format=json` through this agent's RPC address; empty while the agent is not ready.
    func members() async -> [MemberRow] {
        struct Output: Decodable { let members: [MemberRow] }
        guard let data = try? await run(["members", "-rpc-addr=\(rpc)", "-format=json"]),
            let output = try? JSONDecoder().decode(Output.self, from: data)
        else { return [] }
        lastListing.withLock { $0 = output.members }
        return output.members
    }

    /// What the latest ``members()`` returned, for a failure message (which cannot await).
    var lastMembers: [MemberRow] {
        lastListing.withLock { $0 }
    }
    private let lastListing = Mutex<[MemberRow]>([])

    /// The member row for `name`, if the agent lists it.
    func member(_ name: String) async -> MemberRow? {
        await members().first { $0.name == name }
    }

    /// Sends a serf user event through this agent (`serf event`).
    func sendEvent(_ name: String, payload: String) async throws {
        _ = try await run(["event", "-rpc-addr=\(rpc)", name, payload])
    }

    /// Runs the serf CLI off the cooperative pool (`Command.run`): these queries are polled while in-process
    /// gossip nodes must answer serf's probes within 500 ms, and a blocking run would hold one of the pool's two
    /// threads for as long as the CLI takes under load.
    private func run(_ arguments: [String]) async throws -> Data {
        Data(try await Command.run([Executables.path("serf")] + arguments, timeout: .seconds(20)).stdout.utf8)
    }
}

/// The agents a test started; ``withSerfAgents(_:)`` kills them all at the end, on every path.
final class SerfAgents: @unchecked Sendable {
    private(set) var all: [SerfAgent] = []

    /// Starts an agent and registers it for cleanup.
    func start(
        _ name: String, port: Int, rpcPort: Int, tags: [String: String] = [:], join: String? = nil,
        encrypt: String? = nil, extra: [String] = [], host: String = "127.0.0.1"
    ) throws -> SerfAgent {
        let agent = try SerfAgent(
            name: name, port: port, rpcPort: rpcPort, tags: tags, join: join, encrypt: encrypt, extra: extra,
            host: host)
        all.append(agent)
        return agent
    }

    func stopAll() {
        for agent in all { agent.stop() }
    }
}

/// Runs `body` and kills every agent it started afterwards, whether it succeeds or throws.
func withSerfAgents<Result>(_ body: (SerfAgents) async throws -> Result) async throws -> Result {
    let agents = SerfAgents()
    do {
        let result = try await body(agents)
        agents.stopAll()
        return result
    } catch {
        agents.stopAll()
        throw error
    }
}
