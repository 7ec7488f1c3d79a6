import Netlink
import Overlay
import Testing

struct ReconcilerTests {
    let layout = KernelLayout(vni: VNI(42)!, namespaceDirectory: "/run/weft/netns")
    var desired: DesiredNetwork {
        DesiredNetwork(layout: layout, mtu: 1450, vxlan: VXLANConfig(vni: VNI(42)!, local: IPAddress("192.0.2.1")),
                       bridgeEnds: ["wvpaaaaaaaaaaa"])
    }

    func converged() -> [Link] {
        [
            Link(index: 2, name: "wbr-00002a", kind: "bridge", mtu: 1450, isUp: true),
            Link(index: 3, name: "wvx-00002a", kind: "vxlan", mtu: 1450, master: 2, isUp: true,
                 vxlan: VXLANConfig(vni: VNI(42)!, local: IPAddress("192.0.2.1"))),
            Link(index: 4, name: "wvpaaaaaaaaaaa", kind: "veth", mtu: 1450, master: 2, isUp: true),
        ]
    }

    @Test func emptyNamespaceGetsTheWholeNetworkInOrder() {
        let plan = Reconciler.plan(desired, networkLinks: [], hostLinks: [], namespaceFD: 9)
        let vxlan = LinkSpec(name: "wvx-00002a", kind: .vxlan(desired.vxlan), mtu: 1450)
        #expect(plan.steps.map { $0.scope } == [.network, .network, .host, .host, .network, .network])
        #expect(plan.steps.map { $0.operation } == [
            .createLink(LinkSpec(name: "wbr-00002a", kind: .bridge, mtu: 1450)),
            .setLink("wbr-00002a", LinkChanges(up: true)),
            .createLink(vxlan),
            .setLink("wvx-00002a", LinkChanges(namespaceFD: 9)),
            .setLink("wvx-00002a", LinkChanges(up: true, mtu: 1450, master: .bridge("wbr-00002a"))),
            .setBridgePort("wvx-00002a", BridgePortChanges(learning: false)),
        ])
        #expect(plan.lostBridgeEnds == ["wvpaaaaaaaaaaa"])
    }

    @Test func convergedNamespaceNeedsNothing() {
        #expect(Reconciler.plan(desired, networkLinks: converged(), hostLinks: [], namespaceFD: 9).isEmpty)
    }

    @Test func aVXLANAttributeThatDriftedReplacesTheDevice() {
        var links = converged()
        links[1].vxlan?.learning = true
        let plan = Reconciler.plan(desired, networkLinks: links, hostLinks: [], namespaceFD: 9)
        #expect(plan.steps.first?.operation == .deleteLink("wvx-00002a"))
        #expect(plan.steps.contains { $0.scope == .host && $0.operation == .createLink(LinkSpec(name: "wvx-00002a", kind: .vxlan(desired.vxlan), mtu: 1450)) })
    }

    @Test func strandedHostDeviceAndDetachedPortsAreRepaired() {
        var links = converged()
        links[2].master = nil
        links.append(Link(index: 9, name: "wvpbbbbbbbbbbb", kind: "veth", mtu: 1450, isUp: true))
        let stranded = [Link(index: 30, name: "wvx-00002a", kind: "vxlan")]
        links.remove(at: 1)
        let plan = Reconciler.plan(desired, networkLinks: links, hostLinks: stranded, namespaceFD: 9)
        #expect(plan.steps.first { $0.scope == .host }?.operation == .deleteLink("wvx-00002a"))
        #expect(plan.steps.contains { $0.operation == .setLink("wvpaaaaaaaaaaa", LinkChanges(up: true, mtu: 1450, master: .bridge("wbr-00002a"))) })
        #expect(plan.steps.last?.operation == .deleteLink("wvpbbbbbbbbbbb"))
    }

    @Test func hostCleanupTouchesOnlyWeftLinksOfNoEndpoint() {
        let links = [
            Link(index: 1, name: "lo"), Link(index: 2, name: "eth0"),
            Link(index: 3, name: "wveaaaaaaaaaaa", kind: "veth"), Link(index: 4, name: "wvebbbbbbbbbbb", kind: "veth"),
            Link(index: 5, name: "wvx-000001", kind: "vxlan"), Link(index: 6, name: "wve-someones", kind: "bridge"),
        ]
        #expect(Reconciler.planHostCleanup(hostLinks: links, knownHostEnds: ["wveaaaaaaaaaaa"]) == [
            .deleteLink("wvebbbbbbbbbbb"), .deleteLink("wvx-000001"),
        ])
    }
}
