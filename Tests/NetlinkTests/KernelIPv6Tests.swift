import Foundation
import Testing
@testable import Netlink
import TestSupport

/// IPv6 neighbour, FDB and address messages against the running kernel with iproute2's JSON as the oracle, and
/// the two kernel behaviours weft's IPv6 rests on: the VXLAN device's `proxy` answers neighbour solicitations
/// from its permanent entries (as it answers ARP), and an unsolicited neighbour advertisement moves a
/// container's cached entry to a new MAC (as a gratuitous ARP does).
@Suite(.enabled(if: Privileges.canRunKernelTests, "needs root for network namespaces"))
struct KernelIPv6Tests {
    let backend = KernelBackend()
    let mac = MACAddress("02:aa:00:00:00:61")!

    @Test func ipv6NeighbourFDBAndAddressMatchIPRoute2() throws {
        try TestNamespaces.with("v6t") { namespaces in
            let name = namespaces[0].ipNetnsName!
            let session = try backend.session(in: namespaces[0])
            let vxlan4 = "wvx-00002a"
            let vxlan6 = "wvx-00002b"
            try session.perform([
                .createLink(LinkSpec(name: vxlan4, kind: .vxlan(VXLANConfig(vni: VNI(42)!, local: IPAddress("192.0.2.1"))))),
                .createLink(LinkSpec(name: vxlan6, kind: .vxlan(VXLANConfig(vni: VNI(43)!, local: IPAddress("2001:db8::1"))))),
                .createLink(LinkSpec(name: "br0", kind: .bridge)),
                .setLink(.name(vxlan4), LinkChanges(up: true)),
                .setLink(.name(vxlan6), LinkChanges(up: true)),
                .setLink("br0", LinkChanges(up: true)),
                .writeNeighbour(NeighbourEntry(address: IPAddress("fd00:43::3")!, mac: mac, device: .name(vxlan4)), .replace),
                .writeFDB(.vtep(mac, via: IPAddress("2001:db8::2")!, on: .name(vxlan6)), .replace),
                .writeFDB(.vtep(.zero, via: IPAddress("2001:db8::3")!, on: .name(vxlan6)), .append),
                .addAddress(InterfaceAddress("fd00:43::1/64")!, device: "br0"),
            ])
            let neighbour = try #require(try IPRoute2.neighbours(in: name, device: vxlan4).first { $0.dst == "fd00:43::3" })
            #expect(neighbour.lladdr == mac.description)
            #expect(neighbour.state == ["PERMANENT"])
            let fdb = try IPRoute2.fdb(in: name, device: vxlan6)
            #expect(fdb.first { $0.mac == mac.description }?.dst == "2001:db8::2")
            #expect(fdb.first { $0.mac == "00:00:00:00:00:00" }?.dst == "2001:db8::3")
            let addresses = try IPRoute2.addresses(in: name, device: "br0").flatMap(\.addr_info)
            #expect(addresses.contains { $0.local == "fd00:43::1" && $0.prefixlen == 64 })

            // The parser's view of the same tables.
            let permanent = try session.neighbours(device: .name(vxlan4)).filter { $0.state == .permanent }
            #expect(permanent.map(\.address) == [IPAddress("fd00:43::3")!])
            let index6 = try session.index(of: .name(vxlan6))
            #expect(try session.forwardingDatabase(device: .name(vxlan6)).contains(.vtep(mac, via: IPAddress("2001:db8::2")!, on: .index(index6))))
            let bridge = try session.index(of: "br0")
            #expect(try session.addresses().contains(AssignedAddress(device: bridge, address: InterfaceAddress("fd00:43::1/64")!)))

            try session.perform([
                .deleteNeighbour(NeighbourEntry(address: IPAddress("fd00:43::3")!, mac: nil, device: .name(vxlan4))),
                .deleteFDB(.vtep(mac, via: IPAddress("2001:db8::2")!, on: .name(vxlan6))),
                .deleteAddress(InterfaceAddress("fd00:43::1/64")!, device: "br0"),
            ])
            #expect(try IPRoute2.neighbours(in: name, device: vxlan4).allSatisfy { $0.dst != "fd00:43::3" })
            #expect(try IPRoute2.fdb(in: name, device: vxlan6).allSatisfy { $0.mac != mac.description })
        }
    }

    /// A network namespace (bridge, VXLAN port with `proxy`) and a container namespace on a veth: the container's
    /// neighbour solicitation for a remote address is answered from the VXLAN device's permanent entry, one for
    /// an address without an entry is not; then an unsolicited advertisement from the bridge moves the
    /// container's entry to another MAC.
    @Test(.timeLimit(.minutes(1))) func vxlanProxyAnswersNeighbourSolicitationsAndAdvertisementsMoveEntries() async throws {
        try await withNamespaces { network, container in
            let session = try backend.session(in: network)
            let vxlan = "wvx-00002c"
            try session.perform([
                .createLink(LinkSpec(name: "br0", kind: .bridge)),
                .createLink(LinkSpec(name: vxlan, kind: .vxlan(VXLANConfig(vni: VNI(44)!, local: IPAddress("192.0.2.1"))))),
                .setLink(.name(vxlan), LinkChanges(up: true, master: .bridge("br0"))),
                .createLink(LinkSpec(name: "wvp0", kind: .veth(peer: VethPeer(name: "eth0", namespaceFD: container.fd)))),
                .setLink("wvp0", LinkChanges(up: true, master: .bridge("br0"))),
                .setLink("br0", LinkChanges(up: true)),
                .writeNeighbour(NeighbourEntry(address: IPAddress("fd00:44::9")!, mac: mac, device: .name(vxlan)), .replace),
            ])
            let inside = container.ipNetnsName!
            try Shell.run(["ip", "-n", inside, "link", "set", "eth0", "up"])
            try Shell.run(["ip", "-n", inside, "addr", "add", "fd00:44::2/64", "dev", "eth0", "nodad"])

            func cached(_ address: String) throws -> IPRoute2.NeighbourRow? {
                try IPRoute2.neighbours(in: inside, device: "eth0").first { $0.dst == address }
            }
            func solicit(_ address: String) throws {
                _ = try Shell.outcome(["ip", "netns", "exec", inside, "ping", "-6", "-c", "1", "-W", "1", address])
            }
            let answered = await eventually(within: .seconds(10)) {
                try? solicit("fd00:44::9")
                return (try? cached("fd00:44::9"))??.lladdr == mac.description
            }
            #expect(answered != nil, "the VXLAN device did not answer the neighbour solicitation")
            try? solicit("fd00:44::10")
            #expect(try cached("fd00:44::10")?.lladdr == nil, "an address without an entry was answered")

            let moved = MACAddress("02:aa:00:00:00:62")!
            let bridge = try session.index(of: "br0")
            let movedAt = await eventually(within: .seconds(5)) {
                try? backend.send(GratuitousARP(address: IPAddress("fd00:44::9")!, mac: moved, device: bridge), in: network)
                return (try? cached("fd00:44::9"))??.lladdr == moved.description
            }
            #expect(movedAt != nil, "the unsolicited neighbour advertisement did not move the container's entry")
        }
    }

    private func withNamespaces(_ body: (NetworkNamespace, NetworkNamespace) async throws -> Void) async throws {
        var created: [NetworkNamespace] = []
        defer { for namespace in created { try? backend.deleteNamespace(namespace.reference) } }
        created.append(try backend.createNamespace(.named(TestNamespaces.uniqueName("v6n"))))
        created.append(try backend.createNamespace(.named(TestNamespaces.uniqueName("v6c"))))
        try await body(created[0], created[1])
    }
}

/// The unsolicited neighbour advertisement weft sends when an IPv6 address moves.
struct NeighbourAdvertisementTests {
    @Test func frameIsAnUnsolicitedOverrideAdvertisementToAllNodes() {
        let advertisement = GratuitousARP(address: IPAddress("fd00:43::7")!, mac: MACAddress("02:aa:bb:cc:dd:ee")!, device: 3)
        let expected = hex("""
            333300000001 02aabbccddee 86dd                 // Ethernet: all-nodes multicast, from the MAC, IPv6
            60000000 0020 3a ff                            // IPv6: payload 32, ICMPv6, hop limit 255
            fd000043000000000000000000000007               // source: the address
            ff020000000000000000000000000001               // destination: ff02::1
            88 00 bfa4 20000000                            // ICMPv6 NA, checksum, flags: override
            fd000043000000000000000000000007               // target: the address
            0201 02aabbccddee                              // option: target link-layer address
            """)
        #expect(hexString(advertisement.frame) == hexString(expected))
        #expect(NeighbourAdvertisement.checksum(source: Array(expected[22..<38]), destination: Array(expected[38..<54]),
                                                icmp: Array(expected[54...])) == 0, "a correct checksum sums to zero")
    }
}
