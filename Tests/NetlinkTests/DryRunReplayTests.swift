import Foundation
import Synchronization
import Testing
@testable import Netlink
import TestSupport

/// The scenario once through the kernel and once through the dry run; the printed commands, run by a shell
/// in fresh namespaces, must leave the kernel in the same state as the kernel run did.
@Suite(.enabled(if: Privileges.canRunKernelTests, "needs root for network namespaces"))
struct DryRunReplayTests {
    @Test func printedCommandsReproduceTheKernelRun() throws {
        let scenario = NetlinkScenario(endpoints: 3, remoteEndpoints: 50, deletions: 5)
        let names = (kernelHost: TestNamespaces.uniqueName("kh"), kernelNet: TestNamespaces.uniqueName("kn"),
                     replayHost: TestNamespaces.uniqueName("rh"), replayNet: TestNamespaces.uniqueName("rn"))
        defer {
            for name in [names.kernelHost, names.kernelNet, names.replayHost, names.replayNet] {
                _ = try? Shell.run(["ip", "netns", "del", name])
            }
        }

        let kernel = KernelBackend()
        let host = try kernel.createNamespace(.named(names.kernelHost))
        try scenario.run(on: kernel, host: host, network: .named(names.kernelNet))

        let printed = Mutex<[String]>([])
        let dryRun = DryRunBackend(seedFromCurrentNamespace: false) { line in printed.withLock { $0.append(line) } }
        let dryHost = try dryRun.createNamespace(.named(names.replayHost))
        try scenario.run(on: dryRun, host: dryHost, network: .named(names.replayNet))
        let script = printed.withLock { $0 }
        #expect(script.filter { $0.hasPrefix("bridge -n \(names.replayNet) fdb") }.count == 3 + 50 + 5 + 1)
        #expect(script.filter { $0.hasPrefix("ip -n \(names.replayNet) neigh") }.count == 50 + 5)
        #expect(!script.contains { $0.contains("would refuse") })

        try Shell.run(["sh", "-e"], input: script.joined(separator: "\n") + "\n")

        #expect(try Snapshot(names.kernelHost) == Snapshot(names.replayHost))
        let kernelNetwork = try Snapshot(names.kernelNet)
        let replayedNetwork = try Snapshot(names.replayNet)
        #expect(kernelNetwork == replayedNetwork)
        // The comparison is not vacuous: the scenario's state is there.
        #expect(kernelNetwork.fdb.filter { $0.contains("self permanent") && $0.contains(" dst ") }.count == 45 + 2)
        #expect(kernelNetwork.neighbours.filter { $0.hasSuffix("PERMANENT") }.count == 45)
        #expect(kernelNetwork.links.contains { $0.hasPrefix("wvx-00002a vxlan") })
    }

    /// A namespace's state as iproute2 reports it, with nothing that depends on interface indexes.
    struct Snapshot: Equatable, CustomStringConvertible {
        let links: [String]
        let fdb: [String]
        let neighbours: [String]

        init(_ namespace: String) throws {
            links = try IPRoute2.links(in: namespace).map { link in
                var fields = [link.ifname, link.kind ?? "-", "mtu \(link.mtu ?? 0)", link.address ?? "-"]
                fields.append("master \(link.master ?? "-")")
                fields.append(link.isUp ? "up" : "down")
                if let vxlan = link.linkinfo?.info_data, link.kind == "vxlan" {
                    fields.append(
                        "id \(vxlan.id ?? 0) port \(vxlan.port ?? 0) local \(vxlan.local ?? "-") learning \(vxlan.learning ?? true) proxy \(vxlan.proxy ?? false) l2miss \(vxlan.l2miss ?? false) l3miss \(vxlan.l3miss ?? false) csum \(vxlan.udp_csum ?? false) ttl \(vxlan.ttl ?? 0)"
                    )
                }
                if let port = link.linkinfo?.info_slave_data {
                    fields.append("port learning \(port.learning ?? true)")
                }
                return fields.joined(separator: " ")
            }.sorted()
            // Multicast entries (33:33:…, 01:00:5e:…) are the kernel's own, added as IPv6 and IGMP come up on
            // each link, at times that differ between two runs; everything weft programs is compared.
            fdb = try IPRoute2.fdb(in: namespace).filter { !Self.isMulticast($0.mac) }.map { row in
                "\(row.mac) dev \(row.ifname ?? "-") dst \(row.dst ?? "-") master \(row.master ?? "-") \((row.flags ?? []).joined(separator: ",")) \(row.state ?? "-")"
            }.sorted()
            neighbours = try IPRoute2.neighbours(in: namespace).filter { !Self.isMulticast($0.lladdr ?? "") }.map { row in
                "\(row.dst) dev \(row.dev ?? "-") lladdr \(row.lladdr ?? "-") \((row.state ?? []).joined(separator: ","))"
            }.sorted()
        }

        static func isMulticast(_ mac: String) -> Bool { mac.hasPrefix("33:33:") || mac.hasPrefix("01:00:5e:") }

        var description: String { (links + fdb + neighbours).joined(separator: "\n") }
    }
}
