import Glibc
import Testing
@testable import Netlink

/// The dry-run kernel model's tables: the link-name index stays in step with every link change, and the FDB and
/// neighbour tables, keyed for lookups, still dump in the order entries were written.
struct SimulatedKernelTests {
    static let mac = MACAddress("02:aa:bb:cc:dd:ee")!

    /// A model with two namespaces, `/a` and `/b`, and the descriptors it hands out for them.
    static func kernel() -> (kernel: SimulatedKernel, a: Int32, b: Int32) {
        var kernel = SimulatedKernel()
        kernel.namespaces["/a"] = SimulatedKernel.Namespace()
        kernel.namespaces["/b"] = SimulatedKernel.Namespace()
        let a = kernel.descriptor(for: "/a")
        let b = kernel.descriptor(for: "/b")
        return (kernel, a, b)
    }

    /// Every link is found by its name in its namespace, and no other name of `used` is found there.
    static func expectNames(_ kernel: SimulatedKernel, _ expected: [String: Set<String>], used: Set<String>) {
        for (path, namespace) in kernel.namespaces {
            #expect(Set(namespace.links.values.map(\.link.name)) == expected[path, default: []], "\(path)")
            for (index, entry) in namespace.links {
                #expect(namespace.index(named: entry.link.name) == index, "\(entry.link.name) in \(path)")
            }
            for stale in used.subtracting(expected[path, default: []]) {
                #expect(namespace.index(named: stale) == nil, "\(stale) in \(path)")
            }
        }
    }

    @Test func nameIndexFollowsRenamesMovesAndDeletes() throws {
        var (kernel, a, b) = Self.kernel()
        let steps: [NetlinkOperation] = [
            .createLink(LinkSpec(name: "br0", kind: .bridge)),
            .createLink(LinkSpec(name: "ve0", kind: .veth(peer: VethPeer(name: "ve0p")))),
            .createLink(LinkSpec(name: "ve1", kind: .veth(peer: VethPeer(name: "ve1p", namespaceFD: b)))),
            .setLink("ve0", LinkChanges(master: .bridge("br0"), name: "ve0x")),
            .setLink("ve0p", LinkChanges(name: "ve0", namespaceFD: b)),
            .setLink("ve0x", LinkChanges(namespaceFD: a)),
            .deleteLink("br0"),
            .createLink(LinkSpec(name: "br0", kind: .bridge)),
            .createLink(LinkSpec(name: "ve0p", kind: .bridge)),
        ]
        for step in steps { #expect(kernel.apply(step, in: "/a") == 0, "\(step)") }
        #expect(kernel.apply(.setLink("ve1p", LinkChanges(name: "ve1q")), in: "/b") == 0)
        #expect(kernel.apply(.createLink(LinkSpec(name: "ve1q", kind: .bridge)), in: "/b") == EEXIST)
        #expect(kernel.apply(.deleteLink("ve1q"), in: "/b") == 0)
        let used: Set = ["br0", "ve0", "ve0p", "ve0x", "ve1", "ve1p", "ve1q"]
        Self.expectNames(kernel, ["/a": ["br0", "ve0x", "ve0p"], "/b": ["ve0"]], used: used)

        let moved = try #require(kernel.namespaces["/a"]?.index(named: "ve0x"))
        let peer = kernel.namespaces["/b"]?.index(named: "ve0")
        #expect(kernel.namespaces["/a"]?.links[moved]?.link.master == nil, "its bridge was deleted")
        #expect(kernel.namespaces["/a"]?.links[moved]?.peer?.namespace == "/b")
        #expect(kernel.namespaces["/a"]?.links[moved]?.peer?.index == peer)
        #expect(kernel.apply(.setLink("ve0", LinkChanges(name: "ve0x", namespaceFD: a)), in: "/b") == EEXIST)
        #expect(kernel.apply(.deleteLink("ve0"), in: "/b") == 0)
        Self.expectNames(kernel, ["/a": ["br0", "ve0p"], "/b": []], used: used)
    }

    @Test func tablesDumpInWriteOrderAndLeaveWithTheirLink() throws {
        var (kernel, _, _) = Self.kernel()
        let vxlan = LinkReference.name("wvx")
        let other = Self.mac
        let writes: [NetlinkOperation] = [
            .createLink(LinkSpec(name: "br0", kind: .bridge)),
            .createLink(LinkSpec(name: "wvx", kind: .vxlan(VXLANConfig(vni: VNI(42)!)))),
            .setLink(vxlan, LinkChanges(master: .bridge("br0"))),
            .writeFDB(.vtep(.zero, via: IPAddress("192.0.2.2")!, on: vxlan), .append),
            .writeFDB(.vtep(other, via: IPAddress("192.0.2.2")!, on: vxlan), .replace),
            .writeFDB(.vtep(.zero, via: IPAddress("192.0.2.3")!, on: vxlan), .append),
            .writeFDB(FDBEntry(mac: other, device: vxlan, table: .bridge), .add),
            .writeFDB(.vtep(other, via: IPAddress("192.0.2.4")!, on: vxlan), .replace),
            .writeNeighbour(NeighbourEntry(address: IPAddress("10.1.0.3")!, mac: other, device: vxlan), .add),
            .writeNeighbour(NeighbourEntry(address: IPAddress("10.1.0.2")!, mac: other, device: vxlan), .add),
            .writeNeighbour(NeighbourEntry(address: IPAddress("10.1.0.3")!, mac: .zero, device: vxlan), .replace),
        ]
        for step in writes { #expect(kernel.apply(step, in: "/a") == 0, "\(step)") }
        #expect(kernel.apply(.writeFDB(.vtep(other, via: IPAddress("192.0.2.5")!, on: vxlan), .add), in: "/a") == EEXIST)
        let namespace = try #require(kernel.namespaces["/a"])
        let bridge = try #require(namespace.index(named: "br0"))
        #expect(namespace.fdb.dump().map { "\($0.mac) \($0.destination.map { "\($0)" } ?? "-") \($0.master ?? 0)" } == [
            "00:00:00:00:00:00 192.0.2.2 0", "\(other) 192.0.2.4 0", "00:00:00:00:00:00 192.0.2.3 0", "\(other) - \(bridge)",
        ])
        #expect(namespace.neighbours.dump().map { "\($0.address) \($0.mac.map { "\($0)" } ?? "-")" } == [
            "10.1.0.3 00:00:00:00:00:00", "10.1.0.2 \(other)",
        ])

        #expect(kernel.apply(.deleteFDB(FDBEntry(mac: .zero, device: vxlan)), in: "/a") == 0, "every destination")
        #expect(kernel.apply(.deleteNeighbour(NeighbourEntry(address: IPAddress("10.1.0.3")!, mac: nil, device: vxlan)), in: "/a") == 0)
        #expect(kernel.apply(.deleteLink("br0"), in: "/a") == 0)
        let after = try #require(kernel.namespaces["/a"])
        #expect(after.fdb.dump().map(\.destination) == [IPAddress("192.0.2.4")!], "the bridge took its entries")
        #expect(after.neighbours.dump().map(\.address) == [IPAddress("10.1.0.2")!])
        #expect(after.links[try #require(after.index(named: "wvx"))]?.link.master == nil)
        #expect(kernel.apply(.deleteLink(vxlan), in: "/a") == 0)
        #expect(kernel.namespaces["/a"]?.fdb.dump().isEmpty == true)
        #expect(kernel.namespaces["/a"]?.neighbours.dump().isEmpty == true)
    }
}
