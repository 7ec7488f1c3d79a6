import Foundation
import TestSupport
import Testing

/// The cluster's gossip key rotated on running daemons with `weft key install`, `use` and `remove`, host by host
/// for each step, as an operator does it: nobody is marked failed, the tables keep flowing under the new key,
/// container traffic never stops, and the old key is refused afterwards.
@Suite(
    "End to end: gossip key rotation",
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(4))
)
struct GossipKeyRotationTests {
    static let hostCount = 2

    /// `weft key ARGS` against `host`'s daemon; its output lines.
    static func key(_ host: TestHost, _ arguments: [String]) async throws -> [String] {
        let result = try await host.run([PackagePaths.weftBinary, "key"] + arguments + ["--socket", TestHost.pluginSocket]).check()
        return result.output.split(separator: "\n").map(String.init)
    }

    @Test("install, use, remove on every host during a ping: none lost (but the one in flight at the stop), nobody failed, a container started after it is reached, the old key refused; SIGHUP takes the key file again")
    func rotateUnderTraffic() async throws {
        try await Cluster.with(hosts: Self.hostCount, beforeDockerd: { host in
            _ = try await host.startWeft(arguments: ["--log-level", "debug"] + Cluster.joinArguments(for: host, hostCount: Self.hostCount))
        }) { cluster in
            let (h1, h2) = (cluster["h1"], cluster["h2"])
            let oldKeyFile = cluster.directory.appendingPathComponent("old.key").path
            let newKeyFile = cluster.directory.appendingPathComponent("new.key").path
            try FileManager.default.copyItem(atPath: h1.weftStateDirectory + "/gossip.key", toPath: oldKeyFile)
            let newKey = try await h1.run([PackagePaths.weftBinary, "key", "generate"]).check().output
            #expect(FileManager.default.createFile(atPath: newKeyFile, contents: Data((newKey + "\n").utf8), attributes: [.posixPermissions: 0o600]))

            for host in cluster.hosts {
                try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.95.0.0/24", "net1")
            }
            let c1 = try await OverlayContainer.start(on: h1, name: "c1", network: "net1", address: "10.95.0.11")
            let c2 = try await OverlayContainer.start(on: h2, name: "c2", network: "net1", address: "10.95.0.12")
            try await OverlayContainer.waitForMatrix([c1, c2])
            let ping = try await RunningPing.start(from: c1, to: c2.address)
            func weftLog(_ host: TestHost) -> String {
                (try? String(contentsOf: host.directory.appendingPathComponent("weft.log"), encoding: .utf8)) ?? ""
            }
            let logOffsets = cluster.hosts.map { weftLog($0).count }

            var oldFingerprint = ""
            var newFingerprint = ""
            for host in cluster.hosts {
                let keys = try await Self.key(host, ["install", newKeyFile])
                #expect(keys.count == 2, "\(host.name): \(keys)")
                oldFingerprint = String(keys.first { $0.hasSuffix("primary") }?.split(separator: " ").first ?? "")
                newFingerprint = keys.first { !$0.hasSuffix("primary") } ?? ""
            }
            for host in cluster.hosts {
                let keys = try await Self.key(host, ["use", newFingerprint])
                #expect(keys.first == "\(newFingerprint)  primary", "\(host.name): \(keys)")
            }
            for host in cluster.hosts {
                let keys = try await Self.key(host, ["remove", oldFingerprint])
                #expect(keys == ["\(newFingerprint)  primary"], "\(host.name): \(keys)")
            }

            // The tables still flow, under the new key: a container started now is reached from the other host.
            let c3 = try await OverlayContainer.start(on: h2, name: "c3", network: "net1", address: "10.95.0.13")
            try await OverlayContainer.waitForMatrix([c1], to: [c3])
            let summary = try await ping.stop()
            // The request in flight when SIGINT stops busybox's ping counts as lost in its summary (RunningPing), so
            // one "lost" is the measurement's, as in the other ping tests; a rotation that dropped traffic loses more.
            #expect(summary.lost <= 1 && summary.transmitted > 0, "ping across the rotation: \(summary)")
            print("gossip key rotation on \(Self.hostCount) hosts: ping c1 → c2 across it \(summary)")

            for host in cluster.hosts {
                #expect(try await host.aliveGossipMembers(keyFile: newKeyFile) == Self.hostCount, "\(host.name) with the new key")
                #expect(try await host.aliveGossipMembers(keyFile: oldKeyFile) == nil, "\(host.name) still answers the old key")
                // The rotation is saved: a restart keeps the new key.
                let saved = try String(contentsOfFile: host.weftStateDirectory + "/gossip.key", encoding: .utf8)
                let oldKey = try String(contentsOfFile: oldKeyFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(saved.contains(newKey) && !saved.contains(oldKey), "\(host.name)'s saved key file")
            }
            // SIGHUP: h1 takes its key file again. A file with a third key first: that key becomes h1's primary,
            // the new key stays installed (so h1 still reads h2), nothing else.
            let third = try await h1.run([PackagePaths.weftBinary, "key", "generate"]).check().output
            let keyFile = h1.weftStateDirectory + "/gossip.key"
            #expect(FileManager.default.createFile(
                atPath: keyFile, contents: Data("\(third)\n\(newKey)\n".utf8), attributes: [.posixPermissions: 0o600]))
            let weft = try #require(h1.process(label: "weft"))
            kill(weft.pid, SIGHUP)
            var reloaded: [String] = []
            try await Poll.until("h1's weft to take its key file again on SIGHUP", timeout: .seconds(10), interval: .milliseconds(100)) {
                reloaded = try await Self.key(h1, ["list"])
                return reloaded.count == 2 && !reloaded[0].hasPrefix(newFingerprint)
            }
            #expect(reloaded[1] == newFingerprint, "after SIGHUP: \(reloaded)")
            try await OverlayContainer.waitForMatrix([c1], to: [c2, c3])

            for (host, offset) in zip(cluster.hosts, logOffsets) {
                // A peer declared failed shows as a membership change of the overlay (its entries withdrawn).
                let log = String(weftLog(host).dropFirst(offset))
                #expect(!log.contains("membership changed the overlay"), "\(host.name) saw a peer fail during the rotation:\n\(log)")
            }
            for container in [c1, c2, c3] { try await container.remove() }
            for host in cluster.hosts { try await host.docker("network", "rm", "net1") }
        }
    }
}
