import Foundation
import TestSupport
import Testing

/// An encrypted swarm network on the managed plugin, created as Docker's overlay users write it (`docker network
/// create -d weft:latest --opt encrypted secure`, swarm's default IPAM): a service's tasks on different nodes
/// reach each other inside WireGuard (wireguard-go run by each node's plugin, from its rootfs), a marker sent
/// between them never crosses the underlay in clear, nor does the network's VXLAN; removed, nothing of it is left.
extension Swarm {
    static let encryptedNetwork = "secure"
    static let encryptedService = "sealed"

    /// `plain`: tasks of a plain weft network on every node, whose marker the same capture must show in clear, so
    /// that the capture is known to have seen the traffic between the nodes.
    static func checkEncrypted(in cluster: Cluster, plain: [ServiceTask]) async throws {
        let manager = cluster.hosts[0]
        let (h1, h2) = (cluster["h1"], cluster["h2"])
        let clock = ContinuousClock()
        let began = clock.now
        try await manager.docker("network", "create", "-d", ManagedPlugin.name, "--opt", "encrypted", encryptedNetwork)
        let converged = try await runService(encryptedService, replicas: 3, network: encryptedNetwork, in: cluster)
        let tasks = try await Self.tasks(of: encryptedService, network: encryptedNetwork, in: cluster)
        print("e2e swarm encrypted: every task of \(encryptedService) reached every other \(converged.milliseconds) ms after service create")

        let vni = try #require(Int(try await h2.docker(
            "network", "inspect", "--format", "{{index .Options \"weft.vni\"}}", encryptedNetwork)))
        let tag = String(format: "%06x", vni)
        for host in cluster.hosts {
            let wireGuard = try await host.run([Tools.ip, "-o", "address", "show", "dev", "weft-wg"]).check().output
            #expect(wireGuard.contains("inet 100.64."), "\(host.name)'s plugin made no weft-wg with a tunnel address: \(wireGuard)")
            let namespace = try await ManagedPlugin.namespaceDirectory(on: host) + "/\(tag)"
            let fdb = try await host.run([Tools.nsenter, "--net=\(namespace)", "bridge", "fdb", "show", "dev", "wvx-\(tag)"]).check().output
            #expect(fdb.contains("dst 100.64.") && !fdb.contains("dst 192.0.2."), "\(host.name): VNI \(vni)'s FDB: \(fdb)")
            // The plugin runs wireguard-go from its rootfs, as its child (in its cgroup), with the UAPI socket in
            // the rootfs's /run/wireguard, and its nftables filter of plaintext VXLAN in the host's namespace.
            let id = try await ManagedPlugin.id(on: host)
            let commands = HostCgroup(name: id).pids().compactMap {
                try? String(contentsOfFile: "/proc/\($0)/comm", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            #expect(commands.contains("wireguard-go"), "\(host.name): no wireguard-go in the plugin's cgroup: \(commands)")
            let socket = host.directory.appendingPathComponent("data/plugins/\(id)/rootfs/run/wireguard/weft-wg.sock").path
            #expect(FileManager.default.fileExists(atPath: socket), "\(host.name): no UAPI socket at \(socket)")
            #expect(try await host.run([Tools.path("nft"), "list", "table", "inet", "weft_encrypted"]).succeeded,
                    "\(host.name): no nftables filter of plaintext VXLAN")
        }
        for task in tasks {
            // Underlay 1500 − 50 (VXLAN) − 60 (WireGuard over IPv4), on the task's interface of the network.
            let mtu = try await task.host.docker(
                "exec", task.container, "sh", "-c",
                "cat /sys/class/net/$(ip -o -4 address | grep ' \(task.address)/' | awk '{print $2}')/mtu")
            #expect(mtu == "1390", "\(task): MTU \(mtu)")
        }

        // A marker across each network while the underlay is captured, from a task on h1 to one on h2 (TCP, so in
        // a data packet), sent again until it has arrived: a listener not up yet refuses a try, and once a plain
        // marker sent a single time never arrived. The listeners accept one connection after another.
        let source = try #require(tasks.first { $0.host === h1 })
        let target = try #require(tasks.first { $0.host === h2 })
        let plainSource = try #require(plain.first { $0.host === h1 })
        let plainTarget = try #require(plain.first { $0.host === h2 })
        for task in [target, plainTarget] {
            try await task.host.docker(
                "exec", "-d", task.container, "sh", "-c", "while true; do nc -l -p 9999 >> /tmp/received; done")
        }
        let capture = try await UnderlayCapture.start(cluster, seconds: 12, ascii: true)
        let pinging = Task {
            try await h1.dockerResult(["exec", source.container, "ping", "-c", "20", "-i", "0.2", "-W", "1", target.address], timeout: .seconds(30))
        }
        let marker = "WEFTMARKER-SWARM-ENC"
        let plainMarker = "WEFTMARKER-SWARM-PLAIN"
        var sends: [String] = []
        for (from, to, text) in [(source, target, marker), (plainSource, plainTarget, plainMarker)] {
            var attempts = 0
            try await Poll.until("\(to) to receive \(text) from \(from)", timeout: .seconds(5), interval: .milliseconds(200)) {
                attempts += 1
                _ = try await from.host.dockerResult(
                    ["exec", from.container, "timeout", "2", "sh", "-c", "echo \(text) | nc \(to.address) 9999"])
                return try await to.host.docker("exec", to.container, "sh", "-c", "cat /tmp/received 2>/dev/null; true").contains(text)
            }
            sends.append("\(text) in \(attempts) send(s)")
        }
        let pings = try PingSummary(try await pinging.value)
        let captured = try await capture.output()
        print("e2e swarm encrypted: \(source) → \(target): \(pings), slowest \(pings.maxMilliseconds.map { "\($0) ms" } ?? "none")")
        #expect(pings.lost == 0, "pings across the encrypted network lost \(pings.lost)")
        #expect(captured.contains(plainMarker), "the capture missed the plain network's marker: it proves nothing")
        #expect(!captured.contains(marker), "the encrypted network's marker crossed the underlay in clear")
        #expect(!captured.contains("vni \(vni)"), "the encrypted network's VXLAN (VNI \(vni)) crossed the underlay")
        let wireGuard = captured.split(separator: "\n").filter { $0.contains(".51820 > ") && $0.contains(".51820: UDP") }
        #expect(wireGuard.contains { $0.contains("\(h1.underlayAddress).51820 > \(h2.underlayAddress).51820") },
                "no WireGuard packet from h1 to h2 on the underlay")
        print("e2e swarm encrypted: \(sends.joined(separator: ", ")); the underlay carried \(wireGuard.count) WireGuard packets in 12 s, no VXLAN of VNI \(vni), not the marker")

        try await removeService(encryptedService, in: cluster)
        try await removeNetworks([encryptedNetwork], in: cluster)
        for host in cluster.hosts {
            try await Poll.until("\(host.name)'s plugin to remove weft-wg, its route and its filter", timeout: .seconds(30), interval: .milliseconds(250)) {
                try await ManagedPlugin.encryptionLeftovers(on: host).isEmpty
            }
        }
        print("e2e swarm encrypted: network create until every node had dropped weft-wg after network rm: \((clock.now - began).milliseconds) ms")
    }
}
