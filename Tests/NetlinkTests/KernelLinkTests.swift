import Foundation
import Testing
@testable import Netlink
import TestSupport

@Suite(.enabled(if: Privileges.canRunKernelTests, "needs root for network namespaces"))
struct KernelLinkTests {
    let backend = KernelBackend()

    @Test func vxlanBridgeAndVethMatchIPRoute2() throws {
        try TestNamespaces.with("link") { namespaces in
            let ns = namespaces[0]
            let name = ns.ipNetnsName!
            let session = try backend.session(in: ns)
            let vni = VNI(42)!
            try session.perform([
                .createLink(LinkSpec(name: "br0", kind: .bridge, mtu: 1450)),
                .createLink(
                    LinkSpec(name: "wvx-00002a", kind: .vxlan(VXLANConfig(vni: vni, local: IPAddress("192.0.2.1"))), mtu: 1450)),
                .createLink(LinkSpec(name: "ve0", kind: .veth(peer: VethPeer(name: "ve0p")), mtu: 1450)),
                .setLink("wvx-00002a", LinkChanges(up: true, master: .bridge("br0"))),
                .setBridgePort("wvx-00002a", BridgePortChanges(learning: false, neighbourSuppression: true)),
            ])
            let links = try IPRoute2.links(in: name)
            let vxlan = try #require(links.first { $0.ifname == "wvx-00002a" })
            let info = try #require(vxlan.linkinfo?.info_data)
            #expect(info.id == 42)
            #expect(info.port == 4789)
            #expect(info.local == "192.0.2.1")
            #expect(info.learning == false)
            #expect(info.proxy == true)
            // iproute2's JSON names l2miss and l3miss only when they are on.
            #expect(info.l2miss == nil)
            #expect(info.l3miss == nil)
            #expect(info.udp_csum == true)
            #expect(info.ttl == 64)
            #expect(vxlan.master == "br0")
            #expect(vxlan.mtu == 1450)
            let port = try #require(vxlan.linkinfo?.info_slave_data)
            #expect(port.learning == false)
            #expect(port.neigh_suppress == true)

            // The dump parser agrees with iproute2.
            let dumped = try #require(try session.links().first { $0.name == "wvx-00002a" })
            #expect(dumped.kind == "vxlan")
            #expect(dumped.vxlan?.vni == vni)
            #expect(dumped.vxlan?.port == 4789)
            #expect(dumped.vxlan?.proxy == true)
            #expect(dumped.vxlan?.learning == false)
            #expect(dumped.isUp)
            let bridge = try #require(try session.link("br0"))
            #expect(dumped.master == bridge.index)
            #expect(try session.link("ve0p")?.kind == "veth")
        }
    }
}
