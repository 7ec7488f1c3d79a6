import Foundation
import TestSupport
import Testing

/// Resilient paths across three hosts (issue 15): when the underlay between h1 and h3 drops their UDP (or only
/// VXLAN's port), their containers' traffic goes through h2 and comes back to the direct path once it heals; and
/// the per-peer data-path probe reports a host whose VXLAN port is blocked as down (issue 14).
@Suite(
    "End to end: resilient paths through a relay host",
    .serialized,
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(4))
)
struct ResilientPathTests {
    static let holdDown = 3.0

    struct Peer: Decodable {
        let name: String
        let isSelf: Bool
        let dataPath: String?
        let dataPathRttMs: Double?
        let path: String?
        let pathReason: String?
    }

    static func peers(on host: TestHost) async throws -> [Peer] {
        let result = try await host.run([PackagePaths.weftBinary, "status", "peers", "--json"]).check()
        return try JSONDecoder().decode([Peer].self, from: Data(result.stdout.utf8))
    }

    static func metrics(on host: TestHost) async throws -> String {
        try await host.run(["curl", "-sS", "--max-time", "3", "http://127.0.0.1:9479/metrics"]).check().stdout
    }

    /// The value of the metric line that starts with `prefix`, 0 when there is none.
    static func metric(_ text: String, _ prefix: String) -> Double {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { $0.split(separator: " ").last }.flatMap { Double($0) } ?? 0
    }

    /// The permanent FDB lines of every weft network's VXLAN port on `host` (`bridge fdb show`, text: it names
    /// the port of a relayed entry).
    static func fdbLines(on host: TestHost) async throws -> [String] {
        let script = """
            for n in /run/weft/netns/*; do
              b=${n##*/}; [ -e "$n" ] && [ ${#b} = 6 ] || continue
              nsenter --net="$n" bridge fdb show dev "wvx-$b" | grep permanent | grep self || true
            done
            """
        return try await host.run([Tools.sh, "-c", script]).check().stdout.split(separator: "\n").map(String.init)
    }

    /// What the relay saw and what the hosts hold, printed when a relayed path does not work.
    static func diagnose(_ cluster: Cluster) async throws {
        for host in cluster.hosts {
            let relay = try await Self.metrics(on: host).split(separator: "\n").filter { $0.hasPrefix("weft_relay") || $0.hasPrefix("weft_peer") }
            print("e2e paths: \(host.name) metrics:\n\(relay.joined(separator: "\n"))")
            print("e2e paths: \(host.name) FDB:\n\(try await Self.fdbLines(on: host).joined(separator: "\n"))")
            print("e2e paths: \(host.name) peers: \(try await host.run([PackagePaths.weftBinary, "status", "peers"]).check().stdout)")
        }
    }

    /// ebtables rules on the underlay bridge dropping UDP between two hosts, both directions (optionally only
    /// toward one destination port): a broken path in the network, not on a host.
    static func udpCut(_ a: TestHost, _ b: TestHost, port: Int? = nil) -> [[String]] {
        [(a, b), (b, a)].map { from, to in
            ["FORWARD", "-p", "IPv4", "--ip-src", from.underlayAddress, "--ip-dst", to.underlayAddress, "--ip-proto", "udp"]
                + (port.map { ["--ip-dport", "\($0)"] } ?? []) + ["-j", "DROP"]
        }
    }

    static func apply(_ rules: [[String]], _ action: String, in cluster: Cluster) async throws {
        for rule in rules { try await Command.output(cluster.underlayCommand([Tools.ebtables, action] + rule)) }
    }

    @Test("h1↔h3 UDP cut: c1→c3 resumes through h2 within 3 s, no DUP!, h1↔h2 and h2↔h3 unaffected; healed: direct within hold-down + 2 s; only 4789 blocked: relayed too; h3's 4789 blocked: both others report its data path down")
    func relayAroundABrokenPath() async throws {
        try await Cluster.with(hosts: 3, beforeDockerd: { host in
            _ = try await host.startWeft(
                arguments: ["--log-level", "debug", "--relay-hold-down", "\(Self.holdDown)"] + Cluster.joinArguments(for: host, hostCount: 3))
        }) { cluster in
            let (h1, h2, h3) = (cluster["h1"], cluster["h2"], cluster["h3"])
            try await OverlayFailureTests.network(on: cluster.hosts, subnet: "10.64.0.0/24")
            var containers: [OverlayContainer] = []
            for host in cluster.hosts {
                containers.append(try await .start(on: host, name: "c\(host.index)", network: "net1", address: "10.64.0.\(10 * host.index + 1)"))
            }
            let (c1, c2, c3) = (containers[0], containers[1], containers[2])
            try await OverlayContainer.waitForMatrix(containers)
            for host in cluster.hosts {
                try await Poll.until("\(host.name)'s data paths to both others up", timeout: .seconds(20), interval: .milliseconds(200)) {
                    try await Self.peers(on: host).filter { !$0.isSelf }.allSatisfy { $0.dataPath == "up" && $0.path == "direct" }
                }
            }
            let c3MAC = try await c3.mac(on: "net1").lowercased()
            let relayedEntry = "dst \(h2.underlayAddress) port 4790"
            let clock = ContinuousClock()

            // 1. All UDP between h1 and h3 dropped on the underlay.
            let ping = try await RunningPing.start(from: c1, to: c3.address, interval: "0.1")
            let cut = Self.udpCut(h1, h3)
            let cutAt = clock.now
            try await Self.apply(cut, "-A", in: cluster)
            var firstRelayed: Duration?
            do {
                try await Poll.until("c1 to reach c3 through h2 after the cut", timeout: .seconds(15), interval: .milliseconds(50)) {
                    let fdb = try await Self.fdbLines(on: h1)
                    guard fdb.contains(where: { $0.lowercased().hasPrefix(c3MAC) && $0.contains(relayedEntry) }) else { return false }
                    guard try await c1.ping(c3.address, wait: 1).succeeded else { return false }
                    firstRelayed = clock.now - cutAt
                    return true
                }
            } catch {
                try await Self.diagnose(cluster)
                throw error
            }
            let recovery = try #require(firstRelayed)
            // The exact figure is the continuous ping's outage (below); this one adds a `docker exec` and up to
            // the 1 s a ping launched just before the switch waits.
            print("e2e paths: c1→c3 answered through h2 \(recovery) after the cut, polled (RON: ~20 s)")
            #expect(recovery <= .seconds(5), "recovery took \(recovery)")
            #expect(try await c1.reaches(c2), "h1↔h2 broke")
            #expect(try await c2.reaches(c3), "h2↔h3 broke")
            let h3Fdb = try await Self.fdbLines(on: h3)
            let c1MAC = try await c1.mac(on: "net1").lowercased()
            #expect(h3Fdb.contains { $0.lowercased().hasPrefix(c1MAC) && $0.contains(relayedEntry) }, "h3 does not relay back: \(h3Fdb)")
            // The relay's counts reach the metrics at h2's next path tick (every probe interval): poll, bounded.
            var forwarded = 0.0
            _ = await Poll.succeeded(timeout: .seconds(5), interval: .milliseconds(200)) {
                guard let text = try? await Self.metrics(on: h2) else { return false }
                forwarded = Self.metric(text, #"weft_relay_packets_total{result="forwarded"}"#)
                return forwarded > 0
            }
            #expect(forwarded > 0, "h2 relayed nothing")
            let h1Peers = try await Self.peers(on: h1)
            let viaH2 = h1Peers.first { $0.name == h3.underlayAddress }
            #expect(viaH2?.path?.hasPrefix("via \(h2.underlayAddress)") == true && viaH2?.dataPath == "down", "\(String(describing: viaH2))")
            let status = try await h1.run([PackagePaths.weftBinary, "status"]).check().stdout
            #expect(status.contains("peer \(h3.underlayAddress): its VXLAN port does not answer the data-path probe: reached via \(h2.underlayAddress) "), "\(status)")
            let table = try await h1.run([PackagePaths.weftBinary, "status", "peers"]).check().stdout
            print("e2e paths: h1's weft status peers while relayed:\n\(table)")

            // 2. Healed: back to the direct path within the hold-down plus 2 s, nothing relayed left.
            let healAt = clock.now
            try await Self.apply(cut, "-D", in: cluster)
            try await Poll.until("h1 and h3 back on their direct path", timeout: .seconds(Self.holdDown + 2), interval: .milliseconds(100)) {
                let lines = try await Self.fdbLines(on: h1) + Self.fdbLines(on: h3)
                return !lines.contains { $0.contains("port 4790") }
            }
            print("e2e paths: back to direct \(clock.now - healAt) after the heal (hold-down \(Self.holdDown) s)")
            #expect(try await Self.fdbLines(on: h1).contains { $0.lowercased().hasPrefix(c3MAC) && $0.contains("dst \(h3.underlayAddress)") })
            let summary = try await ping.stop()
            let outage = Double(summary.longestGap) * 0.1
            print("e2e paths: continuous c1→c3 ping (every 0.1 s) through cut and heal: \(summary), \(summary.duplicates) duplicates, longest outage \(outage) s (\(summary.longestGap) requests unanswered)")
            #expect(summary.duplicates == 0)
            #expect(outage <= 3, "c1→c3 was out for \(outage) s")
            #expect(summary.lost <= summary.longestGap + 1, "pings were lost outside the cut (the heal must lose none): \(summary)")

            // 3. Only VXLAN's port blocked between h1 and h3 (gossip goes on): relayed too.
            let vxlanCut = Self.udpCut(h1, h3, port: 4789)
            try await Self.apply(vxlanCut, "-A", in: cluster)
            do {
                try await Poll.until("c1→c3 relayed with only 4789 blocked", timeout: .seconds(10), interval: .milliseconds(100)) {
                    let fdb = try await Self.fdbLines(on: h1)
                    guard fdb.contains(where: { $0.lowercased().hasPrefix(c3MAC) && $0.contains(relayedEntry) }) else { return false }
                    return try await c1.ping(c3.address, wait: 1).succeeded
                }
            } catch {
                try await Self.diagnose(cluster)
                throw error
            }
            try await Self.apply(vxlanCut, "-D", in: cluster)
            try await Poll.until("back to direct after the 4789 block", timeout: .seconds(Self.holdDown + 2), interval: .milliseconds(100)) {
                !(try await Self.fdbLines(on: h1)).contains { $0.contains("port 4790") }
            }

            // 4. h3's own firewall drops VXLAN (gossip works): both others report its data path down.
            let rule = ["INPUT", "-p", "udp", "--dport", "4789", "-j", "DROP"]
            try await h3.run([Tools.iptables, "-A"] + rule).check()
            for host in [h1, h2] {
                try await Poll.until("\(host.name) to report h3's data path down", timeout: .seconds(5), interval: .milliseconds(100)) {
                    try await Self.peers(on: host).first { $0.name == h3.underlayAddress }?.dataPath == "down"
                }
                let text = try await Self.metrics(on: host)
                #expect(Self.metric(text, #"weft_peer_datapath_up{peer="\#(h3.underlayAddress)"}"#) == 0, "\(host.name): \(text)")
                #expect(text.contains(#"weft_peer_datapath_up{peer="\#(h3.underlayAddress)"}"#))
            }
            try await h3.run([Tools.iptables, "-D"] + rule).check()
            try await Poll.until("h3's data path up again", timeout: .seconds(5), interval: .milliseconds(100)) {
                try await Self.peers(on: h1).first { $0.name == h3.underlayAddress }?.dataPath == "up"
            }

            // 5. weft stops on h1 while it relays: its relayed entries go back to direct and its probe namespace goes.
            try await Self.apply(cut, "-A", in: cluster)
            try await Poll.until("h1 relaying again", timeout: .seconds(10), interval: .milliseconds(100)) {
                try await Self.fdbLines(on: h1).contains { $0.contains(relayedEntry) }
            }
            let weft = try #require(h1.process(label: "weft"))
            #expect(await weft.terminate() == .exited(0))
            let left = try await Self.fdbLines(on: h1)
            #expect(!left.contains { $0.contains("port 4790") }, "relayed entries left after exit: \(left)")
            #expect(left.contains { $0.lowercased().hasPrefix(c3MAC) && $0.contains("dst \(h3.underlayAddress)") }, "\(left)")
            #expect(!(try await h1.allWeftNamespaces()).contains(TestHost.probeNamespace), "the probe namespace is left after exit")
            try await Self.apply(cut, "-D", in: cluster)
        }
    }

    @Test("4 hosts: h1↔h4 cut relays through h2 or h3; that relay cut off too: the pair moves to the other one; healed: direct, nothing relayed left")
    func relayThatFails() async throws {
        try await Cluster.with(hosts: 4, beforeDockerd: { host in
            _ = try await host.startWeft(
                arguments: ["--log-level", "debug", "--relay-hold-down", "\(Self.holdDown)"] + Cluster.joinArguments(for: host, hostCount: 4))
        }) { cluster in
            let (h1, h4) = (cluster["h1"], cluster["h4"])
            try await OverlayFailureTests.network(on: cluster.hosts, subnet: "10.66.0.0/24")
            var containers: [OverlayContainer] = []
            for host in cluster.hosts {
                containers.append(try await .start(on: host, name: "c\(host.index)", network: "net1", address: "10.66.0.\(10 * host.index + 1)"))
            }
            let (c1, c4) = (containers[0], containers[3])
            try await OverlayContainer.waitForMatrix([c1, c4])
            for host in [h1, h4] {
                try await Poll.until("\(host.name)'s data paths up", timeout: .seconds(20), interval: .milliseconds(200)) {
                    try await Self.peers(on: host).filter { !$0.isSelf }.allSatisfy { $0.dataPath == "up" }
                }
            }
            let c4MAC = try await c4.mac(on: "net1").lowercased()
            /// The relay h1 sends c4's frames to, if any.
            func relay() async throws -> TestHost? {
                let line = try await Self.fdbLines(on: h1).first { $0.lowercased().hasPrefix(c4MAC) && $0.contains("port 4790") }
                return cluster.hosts.first { host in line?.contains("dst \(host.underlayAddress) ") == true }
            }
            let cut = Self.udpCut(h1, h4)
            try await Self.apply(cut, "-A", in: cluster)
            var first: TestHost?
            try await Poll.until("c1→c4 through a relay", timeout: .seconds(10), interval: .milliseconds(100)) {
                first = try await relay()
                guard first != nil else { return false }
                return try await c1.ping(c4.address, wait: 1).succeeded
            }
            let failing = try #require(first)
            #expect(["h2", "h3"].contains(failing.name))
            let other = cluster[failing.name == "h2" ? "h3" : "h2"]
            print("e2e paths: h1↔h4 relayed through \(failing.name); cutting it off the underlay")
            let clock = ContinuousClock()
            let cutAt = clock.now
            try await cluster.cutOff(failing)
            try await Poll.until("c1→c4 through \(other.name) once \(failing.name) is gone", timeout: .seconds(10), interval: .milliseconds(100)) {
                guard try await relay()?.name == other.name else { return false }
                return try await c1.ping(c4.address, wait: 1).succeeded
            }
            print("e2e paths: c1→c4 answered through \(other.name) \(clock.now - cutAt) after \(failing.name) was cut off")
            try await cluster.reconnect(failing)
            try await Self.apply(cut, "-D", in: cluster)
            try await Poll.until("h1 and h4 back on their direct path", timeout: .seconds(Self.holdDown + 5), interval: .milliseconds(100)) {
                !(try await Self.fdbLines(on: h1) + Self.fdbLines(on: h4)).contains { $0.contains("port 4790") }
            }
            #expect(try await c1.reaches(c4))
        }
    }
}
