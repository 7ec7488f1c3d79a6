import Netlink
import Overlay
import Testing

struct ProbeDevicePlanTests {
    let a = IPAddress("192.0.2.1")!
    let b = IPAddress("192.0.2.2")!
    let c = IPAddress("192.0.2.3")!

    @Test func aFreshNamespaceGetsTheDeviceItsAddressAndAnAnswerEntryPerPeer() throws {
        let plan = try #require(ProbeDevicePlan.plan(
            local: a, vxlanPort: 4789, relayPort: 4790, peers: [b, c, a], links: [], hostLinks: [], addresses: [], fdb: [],
            namespaceFD: 9))
        let operations = plan.steps.map(\.operation)
        let config = VXLANConfig(vni: PathProbe.vni, port: 4789, local: a, proxy: false)
        #expect(plan.steps.first?.scope == .host)
        #expect(operations.first == .createLink(LinkSpec(name: PathProbe.deviceName, kind: .vxlan(config), mac: PathProbe.mac(for: a))))
        #expect(operations.contains(.addAddress(InterfaceAddress(address: a, prefixLength: 32)!, device: .name(PathProbe.deviceName))))
        #expect(operations.contains(.writeFDB(.vtep(PathProbe.mac(for: b)!, via: b, port: 4790, on: .name(PathProbe.deviceName)), .replace)))
        #expect(operations.contains(.writeFDB(.vtep(PathProbe.mac(for: c)!, via: c, port: 4790, on: .name(PathProbe.deviceName)), .replace)))
        #expect(operations.count(where: { if case .writeFDB = $0 { true } else { false } }) == 2)
    }

    @Test func anIPv6UnderlayHasNoProbe() {
        #expect(ProbeDevicePlan.plan(
            local: IPAddress("2001:db8::1")!, vxlanPort: 4789, relayPort: 4790, peers: [], links: [], hostLinks: [], addresses: [],
            fdb: [], namespaceFD: 9) == nil)
    }
}
