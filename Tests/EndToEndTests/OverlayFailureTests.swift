import Foundation
import TestSupport
import Testing

/// weft across three Docker hosts when a part fails: weft killed on one host, a host cut off from the underlay.
/// Serialized: the two tests measure timings (lost pings, failure detection) and each runs three engines.
@Suite(
    "End to end: weft across three hosts, failures",
    .serialized,
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(4))
)
struct OverlayFailureTests {
    static let hostCount = 3

    static let startJoinedWeft: @Sendable (TestHost) async throws -> Void = { host in
        _ = try await host.startWeft(arguments: ["--log-level", "debug"] + Cluster.joinArguments(for: host, hostCount: hostCount))
    }

    /// How long the two other hosts may take to remove a cut-off host's entries, with weft's default (memberlist
    /// LAN) timings in a 3-host cluster: each peer is probed at least every 2 s (round robin over 2 peers, 1 s
    /// probe interval); a probe unanswered after 0.5 s and through the third host makes the prober suspect it;
    /// the suspicion ends after 4 s (4 × max(1, log10 3) × 1 s) once the other host's own suspicion confirms
    /// it; then one reconcile pass. About 7 s expected: twice that, since Lifeguard stretches probe timeouts
    /// on a loaded machine (24 s is the suspicion's ceiling without any confirmation).
    static let failureBound: Duration = .seconds(15)

    static func network(on hosts: [TestHost], subnet: String) async throws {
        for host in hosts {
            try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", subnet, "net1")
        }
    }

    /// The entries `host` must hold for `remotes`: per container a neighbour entry (its IP → its MAC) and an
    /// FDB entry (its MAC → its host), per other host a flooding entry.
    static func expectedEntries(on host: TestHost, for remotes: [OverlayContainer], namespace: String) async throws
        -> VXLANEntries
    {
        var expected = VXLANEntries()
        for remote in remotes where remote.host.name != host.name {
            let mac = try await remote.mac(on: "net1")
            expected.neighbours.insert(.init(namespace: namespace, address: remote.address, mac: mac))
            expected.fdb.insert(.init(namespace: namespace, mac: mac, destination: remote.host.underlayAddress))
            expected.fdb.insert(.init(namespace: namespace, mac: VXLANEntries.zeroMAC, destination: remote.host.underlayAddress))
        }
        return expected
    }

    @Test("kill -9 of weft on one host while containers on three hosts ping each other: at most one ping lost; weft restarts from its state, catches up with what changed meanwhile, and a new container there reaches the others")
    func weftKilledOnOneHost() async throws {
        try await Cluster.with(hosts: Self.hostCount, beforeDockerd: Self.startJoinedWeft) { cluster in
            try await Self.network(on: cluster.hosts, subnet: "10.61.0.0/24")
            var containers: [OverlayContainer] = []
            for host in cluster.hosts {
                containers.append(try await .start(on: host, name: "c\(host.index)", network: "net1", address: "10.61.0.\(10 * host.index + 1)"))
            }
            // One more on h3, removed while h2's weft is down.
            let doomed = try await OverlayContainer.start(on: cluster["h3"], name: "c3b", network: "net1", address: "10.61.0.32")
            try await OverlayContainer.waitForMatrix(containers + [doomed])
            let (h1, h2, h3) = (cluster["h1"], cluster["h2"], cluster["h3"])
            let namespace = try #require(try await h2.weftNamespaces().first)
            let before = try await h2.vxlanEntries()
            #expect(before == (try await Self.expectedEntries(on: h2, for: containers + [doomed], namespace: namespace)), "\(before)")

            // Pings across hosts every 0.2 s; two of the three go to or from h2.
            let pings = [
                try await RunningPing.start(from: containers[0], to: containers[1].address),
                try await RunningPing.start(from: containers[1], to: containers[2].address),
                try await RunningPing.start(from: containers[2], to: containers[0].address),
            ]
            let weft = try #require(h2.process(label: "weft"))
            let logBefore = weft.log()
            let clock = ContinuousClock()
            let killedAt = clock.now
            await weft.kill()
            #expect(!weft.isRunning)

            // While it is down (briefly: a few seconds more and the others would declare h2 dead), a container
            // goes on h3 and one comes on h1. h2 hears of neither until it rejoins.
            async let removed: Void = doomed.remove()
            async let started = OverlayContainer.start(on: h1, name: "c1b", network: "net1", address: "10.61.0.12")
            let newcomer = try await started
            try await removed

            let restarted = try await h2.startWeft(arguments: ["--log-level", "debug"] + Cluster.joinArguments(for: h2, hostCount: Self.hostCount))
            try await Poll.until("h2's new weft to rejoin", timeout: .seconds(20), interval: .milliseconds(50)) {
                restarted.log().dropFirst(logBefore.count).contains("joined the cluster")
            }
            let rejoined = clock.now - killedAt
            let expected = try await Self.expectedEntries(on: h2, for: containers + [newcomer], namespace: namespace)
            try await Poll.until("h2's entries to hold c1b and not c3b", timeout: .seconds(20), interval: .milliseconds(50)) {
                try await h2.vxlanEntries() == expected
            }
            let caughtUp = clock.now - killedAt
            print("e2e kill -9: weft on h2 down and back in the cluster after \(rejoined.milliseconds) ms; its kernel entries caught up after \(caughtUp.milliseconds) ms")

            // A new container on h2 reaches the others and they reach it.
            let late = try await OverlayContainer.start(on: h2, name: "c2b", network: "net1", address: "10.61.0.22")
            try await OverlayContainer.waitForMatrix([late], to: containers + [newcomer])
            try await OverlayContainer.waitForMatrix(containers + [newcomer], to: [late])

            for ping in pings {
                let summary = try await ping.stop()
                print("e2e kill -9: \(ping.source) → \(ping.target) every \(ping.interval) s: \(summary)")
                #expect(summary.lost <= 1, "\(ping.source) → \(ping.target) lost \(summary.lost) pings while weft restarted on h2")
                #expect(summary.transmitted >= 5)
            }
            let restartLog = String(restarted.log().dropFirst(logBefore.count))
            #expect(!restartLog.contains("corrected kernel state"), "the restart changed local kernel state:\n\(restartLog)")

            for container in containers + [newcomer, late] { try await container.remove() }
            for host in [h1, h2, h3] {
                try await host.docker("network", "rm", "net1")
                #expect(try await SingleHostWeftTests.weftLeftovers(in: host) == [])
            }
        }
    }

    @Test("a host cut off from the underlay: the other two remove its entries within the failure bound and keep reaching each other; reconnected, every container reaches every other again")
    func hostCutOff() async throws {
        try await Cluster.with(hosts: Self.hostCount, beforeDockerd: Self.startJoinedWeft) { cluster in
            try await Self.network(on: cluster.hosts, subnet: "10.62.0.0/24")
            var containers: [OverlayContainer] = []
            for host in cluster.hosts {
                containers.append(try await .start(on: host, name: "c\(host.index)", network: "net1", address: "10.62.0.\(10 * host.index + 1)"))
            }
            try await OverlayContainer.waitForMatrix(containers)
            let (h1, h2, h3) = (cluster["h1"], cluster["h2"], cluster["h3"])
            let c3 = containers[2]
            var full: [String: VXLANEntries] = [:]
            full[h3.name] = try await h3.vxlanEntries()
            for host in [h1, h2] {
                let entries = try await host.vxlanEntries()
                #expect(entries.fdb(to: h3.underlayAddress).count == 2, "\(host.name):\n\(entries)")
                #expect(entries.neighbours(of: c3.address).count == 1, "\(host.name):\n\(entries)")
                full[host.name] = entries
            }

            let ping = try await RunningPing.start(from: containers[0], to: containers[1].address)
            let clock = ContinuousClock()
            let cutAt = clock.now
            try await cluster.cutOff(h3)
            let removal = try await withThrowingTaskGroup(of: (String, Duration).self) { group in
                for host in [h1, h2] {
                    group.addTask {
                        try await Poll.until("\(host.name) to remove h3's entries", timeout: Self.failureBound + .seconds(15), interval: .milliseconds(50)) {
                            let entries = try await host.vxlanEntries()
                            return entries.fdb(to: h3.underlayAddress).isEmpty && entries.neighbours(of: c3.address).isEmpty
                        }
                        return (host.name, clock.now - cutAt)
                    }
                }
                return try await group.reduce(into: [String: Duration]()) { $0[$1.0] = $1.1 }
            }
            let times = removal.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.milliseconds) ms" }.joined(separator: ", ")
            print("e2e cut-off: h3's entries removed after \(times) (bound \(Self.failureBound))")
            for (name, elapsed) in removal {
                #expect(elapsed <= Self.failureBound, "\(name) took \(elapsed) to remove the entries of a cut-off host")
            }
            // h1 and h2 still reach each other, and kept doing so all along.
            try await OverlayContainer.waitForMatrix(Array(containers[0...1]), timeout: .seconds(5))
            let summary = try await ping.stop()
            print("e2e cut-off: c1@h1 → c2@h2 while h3 was cut off and removed: \(summary)")
            #expect(summary.lost <= 1, "h1 → h2 lost \(summary.lost) pings while h3 was cut off")
            for host in [h1, h2] {
                let entries = try await host.vxlanEntries()
                let others = full[host.name]!.fdb.filter { $0.destination != h3.underlayAddress }
                #expect(entries.fdb == others, "\(host.name) lost more than h3's entries:\n\(entries)")
            }

            let reconnectAt = clock.now
            try await cluster.reconnect(h3)
            for host in [h1, h2] {
                try await Poll.until("\(host.name) to restore h3's entries", timeout: .seconds(60), interval: .milliseconds(50)) {
                    try await host.vxlanEntries() == full[host.name]!
                }
            }
            let restored = clock.now - reconnectAt
            // h3, alone meanwhile, had removed the others' entries: they come back too.
            try await Poll.until("h3 to restore h1's and h2's entries", timeout: .seconds(60), interval: .milliseconds(50)) {
                try await h3.vxlanEntries() == full[h3.name]!
            }
            let restoredOnH3 = clock.now - reconnectAt
            try await OverlayContainer.waitForMatrix(containers, timeout: .seconds(30))
            print("e2e cut-off: reconnected; h3's entries back on h1 and h2 after \(restored.milliseconds) ms, theirs on h3 after \(restoredOnH3.milliseconds) ms, every container reaches every other after \((clock.now - reconnectAt).milliseconds) ms")

            for container in containers { try await container.remove() }
            for host in cluster.hosts {
                try await host.docker("network", "rm", "net1")
                #expect(try await SingleHostWeftTests.weftLeftovers(in: host) == [])
            }
        }
    }
}
