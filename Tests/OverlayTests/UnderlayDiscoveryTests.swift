import Netlink
import Overlay
import Testing

struct UnderlayDiscoveryTests {
    let links = [
        Link(index: 1, name: "lo", mtu: 65536, isUp: true),
        Link(index: 2, name: "eth0", mtu: 1400, isUp: true),
        Link(index: 3, name: "eth1", mtu: 9000, isUp: true),
        Link(index: 4, name: "down0", mtu: 1500, isUp: false),
    ]
    let addresses = [
        AssignedAddress(device: 1, address: InterfaceAddress("127.0.0.1/8")!),
        AssignedAddress(device: 2, address: InterfaceAddress("fe80::1/64")!),
        AssignedAddress(device: 2, address: InterfaceAddress("192.0.2.10/24")!),
        AssignedAddress(device: 3, address: InterfaceAddress("198.51.100.7/24")!),
        AssignedAddress(device: 4, address: InterfaceAddress("203.0.113.1/24")!),
    ]

    @Test func picksTheFirstUpInterfaceWithAnIPv4Address() throws {
        let underlay = try UnderlayDiscovery.find(links: links, addresses: addresses)
        #expect(underlay == .init(interface: "eth0", address: IPAddress("192.0.2.10")!, mtu: 1400))
    }

    @Test func honoursTheAdvertiseAddressAndTheInterface() throws {
        #expect(try UnderlayDiscovery.find(links: links, addresses: addresses, advertiseAddress: IPAddress("198.51.100.7")).mtu == 9000)
        #expect(try UnderlayDiscovery.find(links: links, addresses: addresses, interface: "eth1").address == IPAddress("198.51.100.7"))
    }

    @Test func failuresSayWhatIsMissing() {
        #expect(throws: UnderlayDiscovery.Failure.addressNotAssigned(IPAddress("192.0.2.99")!)) {
            _ = try UnderlayDiscovery.find(links: links, addresses: addresses, advertiseAddress: IPAddress("192.0.2.99"))
        }
        #expect(throws: UnderlayDiscovery.Failure.noSuchInterface("eth7")) {
            _ = try UnderlayDiscovery.find(links: links, addresses: addresses, interface: "eth7")
        }
        #expect(throws: UnderlayDiscovery.Failure.noCandidate) {
            _ = try UnderlayDiscovery.find(links: Array(links.prefix(1)), addresses: Array(addresses.prefix(1)))
        }
    }

    @Test("public advertise addresses are told apart from private, shared, loopback, link-local and documentation ones")
    func publicAddresses() {
        for text in ["8.8.8.8", "172.32.0.1", "100.128.0.1", "2a00:1450::1", "11.0.0.1"] {
            #expect(UnderlayDiscovery.isPublic(IPAddress(text)!), "\(text)")
        }
        for text in ["10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "127.0.0.1", "169.254.1.1",
                     "192.0.2.11", "198.51.100.7", "203.0.113.5", "fd00::1", "fe80::1", "::1", "2001:db8::1"] {
            #expect(!UnderlayDiscovery.isPublic(IPAddress(text)!), "\(text)")
        }
    }
}
