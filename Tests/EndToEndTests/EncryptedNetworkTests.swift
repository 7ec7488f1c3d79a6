import Foundation
import TestSupport
import Testing

/// `-o encrypted` through real dockerds: options weft cannot honour are refused by name, and an encrypted
/// network carries its containers' traffic between hosts only inside WireGuard (userspace wireguard-go here),
/// while a plain network beside it still shows VXLAN on the underlay.
@Suite(
    "End to end: encrypted networks",
    .enabled(if: Privileges.canRunEndToEndTests, "needs root; WEFT_REQUIRE_ROOT_TESTS=1 makes it fail instead"),
    .timeLimit(.minutes(5))
)
struct EncryptedNetworkTests {
    static let hostCount = 3
    static let encryptedVNI = 4242
    static let plainVNI = 4343

    @Test("a non-boolean encrypted value and an unknown weft option are refused by name; encrypted=false is plain")
    func badOptionsRefused() async throws {
        try await Cluster.with(hosts: 1, beforeDockerd: { host in _ = try await host.startWeft() }) { cluster in
            let host = cluster["h1"]
            let create = ["network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.40.0.0/24"]

            let notBool = try await host.dockerResult(create + ["-o", "encrypted=notabool", "enc"])
            #expect(!notBool.succeeded)
            #expect(notBool.stderr.contains("option encrypted=notabool is invalid: expected true or false"), "\(notBool)")

            let unknown = try await host.dockerResult(create + ["-o", "weft.encrypt=true", "enc"])
            #expect(!unknown.succeeded)
            #expect(unknown.stderr.contains("option weft.encrypt is not supported"), "\(unknown)")

            #expect(try await host.docker("network", "ls", "--format", "{{.Name}}").split(separator: "\n").contains("enc") == false)
            let namespaces = try await host.weftNamespaces()
            #expect(namespaces.isEmpty, "weft made a namespace for a refused network: \(namespaces)")

            // encrypted=false is a plain network, as on Docker's overlay: no WireGuard interface.
            try await host.docker(create + ["-o", "encrypted=false", "plain"])
            #expect(try await host.docker("network", "inspect", "--format", "{{.Driver}}", "plain") == "weft")
            let wireGuard = try await host.run([Tools.ip, "link", "show", "weft-wg"])
            #expect(!wireGuard.succeeded)
        }
    }

    @Test("three hosts: containers on an encrypted network reach each other; the underlay sees WireGuard, never the marker nor the network's VXLAN; a plain network beside it shows VXLAN; nothing left")
    func encryptedAcrossHosts() async throws {
        try await Cluster.with(hosts: Self.hostCount, beforeDockerd: { host in
            _ = try await host.startWeft(arguments: ["--log-level", "debug"] + Cluster.joinArguments(for: host, hostCount: Self.hostCount))
        }) { cluster in
            let create = ["network", "create", "-d", "weft", "--ipam-driver", "weft"]
            for host in cluster.hosts {
                try await host.docker(create + ["--subnet", "10.70.0.0/24", "-o", "encrypted", "-o", "weft.vni=\(Self.encryptedVNI)", "enc"])
                try await host.docker(create + ["--subnet", "10.71.0.0/24", "-o", "weft.vni=\(Self.plainVNI)", "plain"])
                try await host.docker("run", "-d", "--name", "e\(host.index)", "--network", "enc", "--ip", "10.70.0.\(10 + host.index)",
                                      TestImage.reference, "sleep", "600")
                try await host.docker("run", "-d", "--name", "p\(host.index)", "--network", "plain", "--ip", "10.71.0.\(10 + host.index)",
                                      TestImage.reference, "sleep", "600")
                // MTU: underlay 1500 − 50 (VXLAN) − 60 (WireGuard over IPv4).
                #expect(try await host.docker("exec", "e\(host.index)", "cat", "/sys/class/net/eth0/mtu") == "1390")
                let wireGuard = try await host.run([Tools.ip, "-o", "address", "show", "dev", "weft-wg"]).check().output
                #expect(wireGuard.contains("inet 100.64.2.\(10 + host.index)/10"), "\(wireGuard)")
                let routes = try await host.run([Tools.ip, "route", "show"]).check().output
                #expect(routes.contains("blackhole 100.64.0.0/10"), "\(routes)")
            }
            for source in cluster.hosts {
                for target in cluster.hosts where target.index != source.index {
                    try await Poll.until("e\(source.index) to reach e\(target.index) on the encrypted network", timeout: .seconds(45), interval: .milliseconds(300)) {
                        try await source.dockerResult(["exec", "e\(source.index)", "ping", "-c", "1", "-W", "1", "10.70.0.\(10 + target.index)"])
                    }
                }
            }
            try await Poll.until("p1 to reach p2 on the plain network", timeout: .seconds(20), interval: .milliseconds(300)) {
                try await cluster["h1"].dockerResult(["exec", "p1", "ping", "-c", "1", "-W", "1", "10.71.0.12"])
            }
            // No FDB entry of the encrypted network points at an underlay address.
            for host in cluster.hosts {
                let tag = String(format: "%06x", Self.encryptedVNI)
                let fdb = try await host.run([Tools.sh, "-c", "nsenter --net=/run/weft/netns/\(tag) bridge fdb show dev wvx-\(tag)"]).check().output
                #expect(!fdb.contains("dst 192.0.2."), "\(host.name): \(fdb)")
                #expect(fdb.contains("dst 100.64."), "\(host.name): \(fdb)")
            }

            // Capture the underlay while a marker crosses each network (listeners in e2 and p2 keep the TCP
            // connection open, so the marker is sent in a data packet).
            for name in ["e2", "p2"] {
                try await cluster["h2"].docker("exec", "-d", name, "sh", "-c", "nc -l -p 9999 > /tmp/received")
                try await cluster["h2"].waitForTCPListener(in: name, port: 9999)
            }
            let capture = try await UnderlayCapture.start(cluster, seconds: 8, ascii: true)
            let sentEncrypted = try await cluster["h1"].dockerResult(["exec", "e1", "timeout", "2", "sh", "-c", "echo WEFTMARKER-ENC | nc 10.70.0.12 9999"])
            let sentPlain = try await cluster["h1"].dockerResult(["exec", "p1", "timeout", "2", "sh", "-c", "echo WEFTMARKER-PLAIN | nc 10.71.0.12 9999"])
            let captured = try await capture.output()
            // The markers arrived: the capture window covered real traffic on both networks.
            for (name, marker) in [("e2", "WEFTMARKER-ENC"), ("p2", "WEFTMARKER-PLAIN")] {
                try await Poll.until("\(name) to receive \(marker)", timeout: .seconds(10), interval: .milliseconds(200)) {
                    try await cluster["h2"].docker("exec", name, "cat", "/tmp/received").contains(marker)
                }
            }
            #expect(captured.contains("WEFTMARKER-PLAIN"), "the capture missed the plain network's marker: it proves nothing (\(sentEncrypted); \(sentPlain))")
            #expect(captured.contains("vni \(Self.plainVNI)"))
            #expect(!captured.contains("WEFTMARKER-ENC"), "the encrypted network's marker crossed the underlay in clear")
            #expect(!captured.contains("vni \(Self.encryptedVNI)"), "the encrypted network's VXLAN crossed the underlay")
            #expect(captured.contains(".51820: UDP"), "no WireGuard packet on the underlay")

            // A forged plaintext VXLAN frame for the encrypted VNI, sent from the underlay to h2's VXLAN port: the
            // filter drops it (counted), so e2 never hears the forger's ARP.
            let forger = [Tools.ip, "link", "add", "forger", "type", "vxlan", "id", "\(Self.encryptedVNI)", "remote", "192.0.2.12",
                          "local", "192.0.2.99", "dstport", "4789", "dev", "br0"]
            for step in [[Tools.ip, "address", "add", "192.0.2.99/24", "dev", "br0"], forger,
                         [Tools.ip, "address", "add", "10.70.0.99/24", "dev", "forger"], [Tools.ip, "link", "set", "forger", "up"]] {
                try await Command.output(cluster.underlayCommand(step))
            }
            _ = try await Command.run(cluster.underlayCommand([Tools.path("ping"), "-c", "3", "-i", "0.3", "-W", "1", "10.70.0.12"]))
            let filter = try await cluster["h2"].run([Tools.path("nft"), "list", "table", "inet", "weft_encrypted"]).check().output
            #expect(!filter.contains("counter packets 0 "), "the forged frames did not reach the filter: \(filter)")
            let heard = try await cluster["h2"].docker("exec", "e2", "arp", "-n")
            #expect(!heard.contains("10.70.0.99"), "a plaintext frame reached the encrypted network: \(heard)")

            for host in cluster.hosts {
                try await host.docker("rm", "-f", "e\(host.index)", "p\(host.index)")
                try await host.docker("network", "rm", "enc", "plain")
                #expect(try await SingleHostWeftTests.weftLeftovers(in: host) == [])
                try await Poll.until("\(host.name) to remove weft-wg", timeout: .seconds(10), interval: .milliseconds(200)) {
                    !(try await host.run([Tools.ip, "link", "show", "weft-wg"]).succeeded)
                }
                #expect(!(try await host.run([Tools.ip, "route", "show"]).check().output.contains("100.64.")), "\(host.name) kept a tunnel route")
                #expect(!(try await host.run([Tools.path("nft"), "list", "tables"]).check().output.contains("weft_encrypted")))
            }
        }
    }

    @Test("kill -9 of weft during a ping on an encrypted network: wireguard-go carries on, the restarted weft adopts weft-wg, at most one ping lost, and the underlay never carries the network's packets in clear")
    func killedDuringTraffic() async throws {
        try await Cluster.with(hosts: 2, beforeDockerd: { host in
            _ = try await host.startWeft(arguments: ["--log-level", "debug"] + Cluster.joinArguments(for: host, hostCount: 2))
        }) { cluster in
            let (h1, h2) = (cluster["h1"], cluster["h2"])
            for host in cluster.hosts {
                try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.70.0.0/24",
                                      "-o", "encrypted", "-o", "weft.vni=\(Self.encryptedVNI)", "enc")
            }
            let e1 = try await OverlayContainer.start(on: h1, name: "e1", network: "enc", address: "10.70.0.11")
            let e2 = try await OverlayContainer.start(on: h2, name: "e2", network: "enc", address: "10.70.0.12")
            try await OverlayContainer.waitForMatrix([e1, e2])

            let capture = try await UnderlayCapture.start(cluster, seconds: 20)
            let ping = try await RunningPing.start(from: e1, to: e2.address)
            let weft = try #require(h2.process(label: "weft"))
            let logBefore = weft.log()
            await weft.kill()
            #expect(!weft.isRunning)
            #expect(try await h2.run([Tools.ip, "link", "show", "weft-wg"]).succeeded, "weft-wg went with weft")
            let restarted = try await h2.startWeft(arguments: ["--log-level", "debug"] + Cluster.joinArguments(for: h2, hostCount: 2))
            try await Poll.until("h2's new weft to adopt weft-wg", timeout: .seconds(20), interval: .milliseconds(100)) {
                restarted.log().dropFirst(logBefore.count).contains("how=adopted")
            }
            try await Poll.until("h2's new weft to rejoin", timeout: .seconds(20), interval: .milliseconds(100)) {
                restarted.log().dropFirst(logBefore.count).contains("joined the cluster")
            }
            // The ping goes on across the restart: ten more echo requests reach e2 after it.
            let echoes = try await Self.echoRequests(received: e2)
            try await Poll.until("ten more pings to reach e2 after the restart", timeout: .seconds(15), interval: .milliseconds(200)) {
                try await Self.echoRequests(received: e2) >= echoes + 10
            }
            let summary = try await ping.stop()
            print("e2e encrypted kill -9: \(summary)")
            #expect(summary.lost <= 1, "e1 → e2 lost \(summary.lost) pings while weft restarted on h2")
            #expect(summary.transmitted >= 5)

            let captured = try await capture.output()
            #expect(!captured.contains("vni \(Self.encryptedVNI)"), "the encrypted network's VXLAN crossed the underlay")
            #expect(!captured.contains("10.70.0."), "a packet of the encrypted network crossed the underlay in clear")
            #expect(captured.contains(".51820: UDP"), "no WireGuard packet on the underlay")

            for container in [e1, e2] { try await container.remove() }
            for host in cluster.hosts {
                try await host.docker("network", "rm", "enc")
                #expect(try await SingleHostWeftTests.weftLeftovers(in: host) == [])
            }
        }
    }

    @Test("weft encryption rotate on one of three hosts during pings toward it: 0 lost, the peers drop the old key, the underlay shows no plaintext")
    func keyRotationDuringTraffic() async throws {
        try await Cluster.with(hosts: Self.hostCount, beforeDockerd: { host in
            _ = try await host.startWeft(arguments: ["--log-level", "debug"] + Cluster.joinArguments(for: host, hostCount: Self.hostCount))
        }) { cluster in
            let (h1, h2, h3) = (cluster["h1"], cluster["h2"], cluster["h3"])
            for host in cluster.hosts {
                try await host.docker("network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.70.0.0/24",
                                      "-o", "encrypted", "-o", "weft.vni=\(Self.encryptedVNI)", "enc")
            }
            let containers = [
                try await OverlayContainer.start(on: h1, name: "e1", network: "enc", address: "10.70.0.11"),
                try await OverlayContainer.start(on: h2, name: "e2", network: "enc", address: "10.70.0.12"),
                try await OverlayContainer.start(on: h3, name: "e3", network: "enc", address: "10.70.0.13"),
            ]
            try await OverlayContainer.waitForMatrix(containers)
            let wg = Tools.path("wg")
            let oldKey = try await h2.run([wg, "show", "weft-wg", "public-key"]).check().output
            for peer in [h1, h3] {
                #expect(try await peer.run([wg, "show", "weft-wg", "peers"]).check().output.contains(oldKey))
            }
            let logsBefore = [h1, h3].map { $0.process(label: "weft")?.log().count ?? 0 }

            let capture = try await UnderlayCapture.start(cluster, seconds: 15)
            let pings = [
                try await RunningPing.start(from: containers[0], to: containers[1].address),
                try await RunningPing.start(from: containers[2], to: containers[1].address),
            ]
            let echoes = try await Self.echoRequests(received: containers[1])
            try await Poll.until("five pings to reach e2 before the rotation", timeout: .seconds(10), interval: .milliseconds(100)) {
                try await Self.echoRequests(received: containers[1]) >= echoes + 5
            }
            let rotated = try await h2.run([PackagePaths.weftBinary, "encryption", "rotate"]).check().stdout
            print("e2e encrypted rotation: \(rotated)")
            let newKey = try await h2.run([wg, "show", "weft-wg", "public-key"]).check().output
            #expect(newKey != oldKey && rotated.contains(newKey), "\(rotated)")
            #expect(try await h2.run([Tools.sh, "-c", "\(wg) pubkey < \(h2.weftStateDirectory)/wireguard.key"]).check().output == newKey,
                    "h2's key file does not hold the key in use")
            for peer in [h1, h3] {
                try await Poll.until("\(peer.name) to replace h2's peer with its new key", timeout: .seconds(15), interval: .milliseconds(100)) {
                    let peers = try await peer.run([wg, "show", "weft-wg", "peers"]).check().output
                    return peers.contains(newKey) && !peers.contains(oldKey)
                }
            }
            // Ten more pings of each reach e2 after the rotation, then the pings stop.
            let afterRotation = try await Self.echoRequests(received: containers[1])
            try await Poll.until("twenty more pings to reach e2 after the rotation", timeout: .seconds(15), interval: .milliseconds(200)) {
                try await Self.echoRequests(received: containers[1]) >= afterRotation + 20
            }
            for ping in pings {
                let summary = try await ping.stop()
                print("e2e encrypted rotation: \(ping.source.name) -> e2 \(summary), slowest answer \(summary.maxMilliseconds.map { "\($0) ms" } ?? "none") (the gap)")
                #expect(summary.lost == 0, "\(ping.source.name) → e2 lost \(summary.lost) pings across h2's key rotation")
                #expect(summary.transmitted >= 10)
            }
            // The peers never left h2 without FDB entries: the new peer had handshaken within the pass that added
            // it, or the rotation's grace kept the entries while it did.
            for (peer, before) in zip([h1, h3], logsBefore) {
                let log = peer.process(label: "weft")?.log().dropFirst(before) ?? ""
                #expect(!log.contains("WireGuard peer has not handshaken yet") && !log.contains("WireGuard peer not configured yet"),
                        "\(peer.name) dropped h2's FDB entries during the rotation: \(log)")
                print("e2e encrypted rotation: \(peer.name) " + (log.contains("a host rotated its key")
                    ? "kept h2's FDB entries by the rotation's grace while the new peer handshook"
                    : "saw the new peer handshaken in the pass that added it"))
            }
            let handshakes = try await h1.run([wg, "show", "weft-wg", "latest-handshakes"]).check().output
            #expect(handshakes.contains(newKey), "\(handshakes)")

            let captured = try await capture.output()
            #expect(!captured.contains("vni \(Self.encryptedVNI)"), "the encrypted network's VXLAN crossed the underlay")
            #expect(!captured.contains("10.70.0."), "a packet of the encrypted network crossed the underlay in clear")
            #expect(captured.contains(".51820: UDP"), "no WireGuard packet on the underlay")

            for container in containers { try await container.remove() }
            for host in cluster.hosts {
                try await host.docker("network", "rm", "enc")
                #expect(try await SingleHostWeftTests.weftLeftovers(in: host) == [])
            }
        }
    }

    /// ICMP echo requests the container has received (`Icmp: InEchos` in /proc/net/snmp).
    static func echoRequests(received container: OverlayContainer) async throws -> Int {
        let snmp = try await container.host.docker("exec", container.name, "cat", "/proc/net/snmp")
        let icmp = snmp.split(separator: "\n").filter { $0.hasPrefix("Icmp:") }.map { $0.split(separator: " ") }
        guard icmp.count >= 2, let column = icmp[0].firstIndex(of: "InEchos"), let value = Int(icmp[1][column]) else {
            throw HarnessError("no Icmp InEchos in \(container)'s /proc/net/snmp")
        }
        return value
    }
}
