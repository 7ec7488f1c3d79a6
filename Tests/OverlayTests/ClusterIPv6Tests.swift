import Gossip
import Logging
import Netlink
import Overlay
import Testing

/// Dual-stack records: an endpoint's IPv6 address and a network's IPv6 subnet travel in the cluster tables, an
/// IPv4-only record encodes exactly as before IPv6 (so older peers keep decoding and verifying it), and IPv6
/// block claims name their pool by its IPv6 subnet.
struct ClusterIPv6Tests {
    static let vni = VNI(43)!
    static let a = SimulatedHost("a", vtep: "192.0.2.21")
    static let b = SimulatedHost("b", vtep: "192.0.2.22")

    static func endpoint(_ id: String, _ ip: String, _ ip6: String?, on host: SimulatedHost, mac: String) -> EndpointAnnouncement {
        EndpointAnnouncement(vni: vni, endpointID: id, address: address(ip), mac: MACAddress(mac)!, host: host.name, vtep: host.vtep,
                             address6: ip6.map { IPv6Address($0)! })
    }

    static func network(on host: SimulatedHost) -> NetworkAnnouncement {
        NetworkAnnouncement(vni: vni, subnet: subnet("10.43.0.0/24"), host: host.name, vtep: host.vtep,
                            subnet6: try? IPv6Subnet(parsing: "fd00:43::/64"))
    }

    @Test func codecCarriesIPv6AndLeavesIPv4RecordsAsTheyWere() throws {
        let b = Self.b
        let v6 = IPSubnet.v6(try IPv6Subnet(parsing: "fd00:43::/64"))
        let updates: [ClusterCodec.Update] = [
            b.signed(.endpoint(key: "43/e1/b", entry: ReplicatedEntry(version: EntryVersion(clock: 7, node: "b"), owner: "b",
                value: Self.endpoint("e1", "10.43.0.2", "fd00:43::2", on: b, mac: "02:00:00:00:00:01")))),
            .network(key: "43/b", entry: ReplicatedEntry(version: EntryVersion(clock: 9, node: "b"), owner: "b", value: Self.network(on: b))),
            .claim(key: "fd00:43::/64/281474976710655/b", entry: ReplicatedEntry(version: EntryVersion(clock: 10, node: "b"), owner: "b",
                value: BlockClaim(subnet: v6, block: (1 << 48) - 1, host: "b"))),
        ]
        #expect(try ClusterCodec.decode(ClusterCodec.encode(updates)) == updates)
        let tooFar = ClusterCodec.Update.claim(key: "fd00:43::/64/281474976710656/b", entry: ReplicatedEntry(
            version: EntryVersion(clock: 11, node: "b"), owner: "b", value: BlockClaim(subnet: v6, block: 1 << 48, host: "b")))
        #expect(throws: ClusterCodec.DecodingFailure.self) { _ = try ClusterCodec.decode(ClusterCodec.encode([tooFar])) }

        let v4Only = ClusterCodec.Update.endpoint(key: "43/e2/b", entry: ReplicatedEntry(version: EntryVersion(clock: 8, node: "b"),
            owner: "b", value: Self.endpoint("e2", "10.43.0.3", nil, on: b, mac: "02:00:00:00:00:02")))
        let fixstr = { (text: String) in [UInt8(0xA0 | text.utf8.count)] + Array(text.utf8) }
        let plain = ClusterCodec.encode([v4Only, .network(key: "43/b", entry: ReplicatedEntry(
            version: EntryVersion(clock: 9, node: "b"), owner: "b", value: NetworkAnnouncement(
                vni: Self.vni, subnet: subnet("10.43.0.0/24"), host: "b", vtep: b.vtep)))])
        #expect(!plain.contains(fixstr("a6")) && !plain.contains(fixstr("s6")), "an IPv4-only record gained a field")
        #expect(ClusterCodec.encode(updates).contains(fixstr("a6")))
    }

    @Test func remoteDualStackEndpointsGetANeighbourEntryPerAddress() async throws {
        let cluster = SimulatedCluster()
        let a = await cluster.add(Self.a)
        let b = await cluster.add(Self.b)
        await b.announce(Self.network(on: Self.b))
        await b.announce(Self.endpoint("e1", "10.43.0.2", "fd00:43::2", on: Self.b, mac: "02:00:00:00:00:01"))
        let mac = MACAddress("02:00:00:00:00:01")!
        #expect(await a.remoteEndpoints(vni: Self.vni) == [
            RemoteEndpoint(address: IPAddress("10.43.0.2")!, mac: mac, vtep: Self.b.vtep),
            RemoteEndpoint(address: IPAddress("fd00:43::2")!, mac: mac, vtep: Self.b.vtep),
        ])
        // Outside the network's IPv6 subnet, or its gateway: refused like an IPv4 address would be.
        await b.announce(Self.endpoint("e2", "10.43.0.3", "fd00:44::3", on: Self.b, mac: "02:00:00:00:00:02"))
        await b.announce(Self.endpoint("e3", "10.43.0.4", "fd00:43::1", on: Self.b, mac: "02:00:00:00:00:03"))
        #expect(await a.rejections[.outsideSubnet] == 1)
        #expect(await a.rejections[.reservedAddress] == 1)
        #expect(await a.remoteEndpoints(vni: Self.vni).count == 2)
        // Withdrawn: both entries go.
        await b.withdraw(endpoint: Self.endpoint("e1", "10.43.0.2", "fd00:43::2", on: Self.b, mac: "02:00:00:00:00:01").key)
        #expect(await a.remoteEndpoints(vni: Self.vni).isEmpty)
    }
}
