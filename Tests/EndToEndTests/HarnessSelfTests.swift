import Foundation
import Synchronization
import TestSupport
import Testing

/// The harness proves itself: engines, image, a Docker bridge network, the underlay, and a teardown that
/// leaves nothing behind (also when the test body fails).
@Suite(
    "End to end: harness self-test",
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(3))
)
struct HarnessSelfTests {
    @Test("two hosts: engines answer, the image runs, containers and hosts reach each other, nothing is left")
    func twoHosts() async throws {
        let identity = try await Cluster.with(hosts: 2) { cluster in
            var engineIDs: [String] = []
            for host in cluster.hosts {
                engineIDs.append(try await host.docker("info", "--format", "{{.ID}}"))
                let greeting = try await host.docker("run", "--rm", TestImage.reference, "echo", "hello from \(host.name)")
                #expect(greeting == "hello from \(host.name)")
            }
            // Each engine has an identity of its own (its key.json lives in the host's private /etc/docker).
            #expect(Set(engineIDs).count == 2, "engine IDs: \(engineIDs)")
            #expect(Set(cluster.hosts.flatMap(\.namespaceIDs)).count == 4)

            // Two containers on a Docker bridge network on one host. They stay running: teardown must end them.
            let h1 = cluster["h1"]
            try await h1.docker("network", "create", "--driver", "bridge", "--subnet", "10.10.0.0/24", "selftest")
            for name in ["c1", "c2"] {
                try await h1.docker("run", "--detach", "--name", name, "--network", "selftest", TestImage.reference, "sleep", "600")
            }
            let c2Address = try await h1.docker(
                "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "c2")
            #expect(c2Address.hasPrefix("10.10.0."))
            try await h1.docker("exec", "c1", "ping", "-c", "1", "-W", "3", c2Address)

            // dockerd's firewall (FORWARD DROP) is the host's own, as on a real machine.
            let forward = try await h1.run([Tools.path("iptables"), "-S", "FORWARD"]).check().output
            #expect(forward.contains("-P FORWARD DROP"), "\(forward)")

            // The hosts reach each other over the underlay, in both directions.
            for (from, to) in [(cluster["h1"], cluster["h2"]), (cluster["h2"], cluster["h1"])] {
                let ping = try await from.run([Tools.busybox, "ping", "-c", "1", "-W", "3", to.underlayAddress])
                #expect(ping.succeeded, "\(from.name) → \(to.name): \(ping)")
            }
            return cluster.identity
        }
        #expect(Leftovers.scan(identity) == [])
    }

    struct DeliberateFailure: Error {}

    @Test("a body that throws half way still gets a full teardown")
    func teardownAfterFailure() async throws {
        let captured = IdentityBox()
        await #expect(throws: DeliberateFailure.self) {
            try await Cluster.with(hosts: 1, options: .init(printLogsOnFailure: false)) { cluster in
                captured.set(cluster.identity)
                try await cluster["h1"].docker(
                    "run", "--detach", "--name", "left-running", TestImage.reference, "sleep", "600")
                throw DeliberateFailure()
            }
        }
        let identity = try #require(captured.get())
        #expect(Leftovers.scan(identity) == [])
    }
}

/// Carries a cluster's identity out of a body that throws.
final class IdentityBox: Sendable {
    private let value = Mutex<ClusterIdentity?>(nil)
    func set(_ identity: ClusterIdentity) { value.withLock { $0 = identity } }
    func get() -> ClusterIdentity? { value.withLock { $0 } }
}

/// Processes started in a host (weft's way in): they run in the host's namespaces and cgroup, their plugin
/// socket is the host's own, and the handle stops them with SIGTERM or SIGKILL.
@Suite(
    "End to end: processes in a host",
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(2))
)
struct HostProcessTests {
    @Test("weft daemon in h1: h1's namespaces and socket only; SIGTERM ends it cleanly, SIGKILL ends it, a restart takes over")
    func weftProcessHandle() async throws {
        try await Cluster.with(hosts: 2, options: .init(startDockerd: false)) { cluster in
            let h1 = cluster["h1"]
            let h2 = cluster["h2"]
            let serve = try await h1.startWeft()
            let ids = [
                try TestHost.namespaceID(pid: serve.pid, kind: "net"), try TestHost.namespaceID(pid: serve.pid, kind: "mnt"),
            ]
            #expect(ids == h1.namespaceIDs)
            #expect(h1.cgroup.pids().contains(serve.pid))
            #expect(UnixSocket.isListening(try h1.pathInHost(TestHost.pluginSocket)))
            #expect(!FileManager.default.fileExists(atPath: try h2.pathInHost(TestHost.pluginSocket)))

            #expect(await serve.terminate(grace: .seconds(10)) == .exited(0))
            #expect(!UnixSocket.isListening(try h1.pathInHost(TestHost.pluginSocket)))

            let killed = try await h1.startWeft()
            await killed.kill()
            #expect(!killed.isRunning)
            #expect(!UnixSocket.isListening(try h1.pathInHost(TestHost.pluginSocket)))

            // Left running on purpose: the teardown stops it.
            let restarted = try await h1.startWeft()
            #expect(restarted.isRunning)
        }
    }
}

/// Restarting a host's engine, as weft's restart tests will: the engine keeps its data root, so networks,
/// images and stopped containers survive, and the host's namespaces stay as they were.
@Suite(
    "End to end: engine restart",
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(2))
)
struct EngineRestartTests {
    @Test("dockerd stops on SIGTERM and starts again with its networks, image and containers")
    func dockerdRestart() async throws {
        try await Cluster.with(hosts: 1) { cluster in
            let host = cluster["h1"]
            try await host.docker("network", "create", "--driver", "bridge", "--subnet", "10.11.0.0/24", "kept")
            try await host.docker("create", "--name", "kept-container", "--network", "kept", TestImage.reference, "true")
            let first = try #require(host.dockerd)
            #expect(await host.stopDockerd() == .exited(0))
            #expect(!first.isRunning)
            #expect(try await host.dockerResult(["info"], timeout: .seconds(10)).succeeded == false)

            let second = try await host.startDockerd()
            #expect(second.pid != first.pid)
            #expect(try await host.docker("network", "ls", "--filter", "name=^kept$", "--format", "{{.Name}}") == "kept")
            #expect(try await host.docker("ps", "-a", "--filter", "name=kept-container", "--format", "{{.Names}}") == "kept-container")
            try await host.docker("start", "--attach", "kept-container")
            #expect(try await host.docker("run", "--rm", TestImage.reference, "echo", "again") == "again")
        }
    }
}
