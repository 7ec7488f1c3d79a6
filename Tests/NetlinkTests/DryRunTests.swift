import Synchronization
import Testing
@testable import Netlink
import TestSupport

/// The dry-run backend without root: what it prints for each request, and what its kernel model answers.
struct DryRunTests {
    /// A dry-run backend whose printed lines are collected, with a network namespace `weft-t` already made.
    final class Harness: Sendable {
        final class Printed: Sendable {
            let lines = Mutex<[String]>([])
        }

        let printed = Printed()
        let backend: DryRunBackend
        let session: NetlinkSession

        init(showBytes: Bool = false) throws {
            let printed = self.printed
            backend = DryRunBackend(showBytes: showBytes, seedFromCurrentNamespace: false) { line in
                printed.lines.withLock { $0.append(line) }
            }
            session = try backend.session(in: try backend.createNamespace(.named("weft-t")))
        }

        /// Lines printed since the last call.
        func take() -> [String] {
            printed.lines.withLock { lines in
                defer { lines.removeAll() }
                return lines
            }
        }
    }

    static let mac = MACAddress("02:aa:bb:cc:dd:ee")!

    @Test func printsEachRequestAsTheIPRoute2Command() throws {
        let harness = try Harness()
        #expect(harness.take() == ["ip netns add weft-t"])
        let other = try harness.backend.createNamespace(.path("/run/weft/netns/00002b"))
        _ = harness.take()
        try harness.session.perform([
            .createLink(LinkSpec(name: "br0", kind: .bridge, mtu: 1450)),
            .createLink(
                LinkSpec(
                    name: "wvx-00002a",
                    kind: .vxlan(VXLANConfig(vni: VNI(42)!, port: 8472, local: IPAddress("192.0.2.1"), ttl: 0)),
                    mac: Self.mac)),
            .createLink(LinkSpec(name: "ve0", kind: .veth(peer: VethPeer(name: "ve0p", mtu: 1400, namespaceFD: other.fd)))),
            .setLink("wvx-00002a", LinkChanges(up: true, master: .bridge("br0"))),
            .setBridgePort("wvx-00002a", BridgePortChanges(learning: false, neighbourSuppression: true)),
            .addAddress(InterfaceAddress("10.1.0.1/24")!, device: "br0"),
            .writeFDB(.vtep(Self.mac, via: IPAddress("192.0.2.2")!, on: "wvx-00002a"), .replace),
            .writeFDB(.vtep(.zero, via: IPAddress("192.0.2.2")!, on: "wvx-00002a"), .append),
            .writeNeighbour(NeighbourEntry(address: IPAddress("10.1.0.3")!, mac: Self.mac, device: "wvx-00002a"), .replace),
            .deleteNeighbour(NeighbourEntry(address: IPAddress("10.1.0.3")!, mac: nil, device: "wvx-00002a")),
            .deleteFDB(.vtep(Self.mac, via: IPAddress("192.0.2.2")!, on: "wvx-00002a")),
            .setLink("wvx-00002a", LinkChanges(up: false, master: LinkChanges.Master.none, name: "wvx-old")),
            .setLink("wvx-old", LinkChanges(namespaceFD: other.fd)),
            .deleteAddress(InterfaceAddress("10.1.0.1/24")!, device: "br0"),
            .deleteLink("br0"),
        ])
        #expect(
            harness.take() == [
                "ip -n weft-t link add br0 mtu 1450 type bridge",
                "ip -n weft-t link add wvx-00002a address 02:aa:bb:cc:dd:ee type vxlan id 42 local 192.0.2.1 dstport 8472 ttl auto nolearning proxy nol2miss nol3miss udpcsum",
                "ip -n weft-t link add ve0 type veth peer name ve0p mtu 1400 netns /run/weft/netns/00002b",
                "ip -n weft-t link set dev wvx-00002a up master br0",
                "bridge -n weft-t link set dev wvx-00002a learning off neigh_suppress on",
                "ip -n weft-t addr add 10.1.0.1/24 dev br0",
                "bridge -n weft-t fdb replace 02:aa:bb:cc:dd:ee dev wvx-00002a dst 192.0.2.2 self permanent",
                "bridge -n weft-t fdb append 00:00:00:00:00:00 dev wvx-00002a dst 192.0.2.2 self permanent",
                "ip -n weft-t neigh replace 10.1.0.3 lladdr 02:aa:bb:cc:dd:ee dev wvx-00002a nud permanent",
                "ip -n weft-t neigh del 10.1.0.3 dev wvx-00002a",
                "bridge -n weft-t fdb del 02:aa:bb:cc:dd:ee dev wvx-00002a dst 192.0.2.2 self",
                "ip -n weft-t link set dev wvx-00002a down nomaster name wvx-old",
                "ip -n weft-t link set dev wvx-old netns /run/weft/netns/00002b",
                "ip -n weft-t addr del 10.1.0.1/24 dev br0",
                "ip -n weft-t link del br0",
            ])
        // Commands in a namespace outside /run/netns enter it by path.
        let otherSession = try harness.backend.session(in: other)
        try otherSession.perform(.deleteLink("ve0p"))
        #expect(harness.take() == ["nsenter --net=/run/weft/netns/00002b ip link del ve0p"])
        #expect(try otherSession.link("wvx-old")?.vxlan?.vni == VNI(42))
    }

    @Test func bytesFlagPrintsTheEncodedMessage() throws {
        let harness = try Harness(showBytes: true)
        _ = harness.take()
        let operation = NetlinkOperation.createLink(LinkSpec(name: "br0", kind: .bridge))
        try harness.session.perform(operation)
        let lines = harness.take()
        #expect(lines.count == 2)
        #expect(lines.last == "#   " + hexString(try OperationEncoder.encode(operation)))
    }

    @Test func modelRefusesAsTheKernelWould() throws {
        let harness = try Harness()
        let session = harness.session
        try session.perform(.createLink(LinkSpec(name: "br0", kind: .bridge)))
        #expect(throws: NetlinkError.alreadyExists(object: "bridge br0", kernelMessage: nil)) {
            try session.perform(.createLink(LinkSpec(name: "br0", kind: .bridge)))
        }
        #expect(harness.take().last == "#   ^ the kernel would refuse this: File exists")
        #expect(throws: NetlinkError.unknownLink(name: "nope", namespace: "weft-t")) {
            try session.perform(.deleteLink("nope"))
        }
        let entry = FDBEntry.vtep(Self.mac, via: IPAddress("192.0.2.2")!, on: "br0")
        #expect(throws: NetlinkError.notFound(object: entry.description, kernelMessage: nil)) {
            try session.perform(.deleteFDB(entry))
        }
        #expect(throws: NetlinkError.alreadyExists(object: "namespace weft-t", kernelMessage: nil)) {
            _ = try harness.backend.createNamespace(.named("weft-t"))
        }
        #expect(throws: NetlinkError.notFound(object: "namespace weft-u", kernelMessage: nil)) {
            _ = try harness.backend.openNamespace(.named("weft-u"))
        }
    }

    @Test func readsAnswerWithWhatWritesLeft() throws {
        let harness = try Harness()
        let session = harness.session
        let device = LinkReference.name("wvx-00002a")
        try session.perform([
            .createLink(LinkSpec(name: "wvx-00002a", kind: .vxlan(VXLANConfig(vni: VNI(42)!)), mtu: 1450)),
            .writeFDB(.vtep(.zero, via: IPAddress("192.0.2.2")!, on: device), .append),
            .writeFDB(.vtep(.zero, via: IPAddress("192.0.2.3")!, on: device), .append),
            .writeFDB(.vtep(.zero, via: IPAddress("192.0.2.3")!, on: device), .append),
            .writeFDB(.vtep(Self.mac, via: IPAddress("192.0.2.2")!, on: device), .replace),
            .writeFDB(.vtep(Self.mac, via: IPAddress("192.0.2.4")!, on: device), .replace),
            .writeNeighbour(NeighbourEntry(address: IPAddress("10.1.0.3")!, mac: Self.mac, device: device), .replace),
        ])
        let index = try session.index(of: device)
        let fdb = try session.forwardingDatabase(device: device)
        #expect(fdb.filter { $0.mac == .zero }.compactMap { $0.destination } == [IPAddress("192.0.2.2")!, IPAddress("192.0.2.3")!])
        #expect(fdb.filter { $0.mac == Self.mac }.map { $0.destination } == [IPAddress("192.0.2.4")!])
        #expect(try session.neighbours(device: device) == [NeighbourEntry(address: IPAddress("10.1.0.3")!, mac: Self.mac, device: .index(index))])
        let link = try #require(try session.link(device))
        #expect(link.mtu == 1450)
        #expect(link.vxlan?.vni == VNI(42))
        try session.perform(.deleteLink(device))
        #expect(try session.forwardingDatabase().isEmpty)
        #expect(try session.neighbours().isEmpty)
    }
}
