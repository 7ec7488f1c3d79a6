import DockerPlugin
import Logging
import Netlink
import Overlay
import Testing

/// Docker's strings become typed values at the plugin's edge: a CreateEndpoint whose address is not a CIDR, or
/// whose MAC is not a MAC, is refused there naming the endpoint and the value; the driver only sees typed input.
struct EndpointEdgeTests {
    static func backend() async throws -> OverlayNetworkBackend {
        let driver = OverlayDriver(
            host: HostSettings(advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500),
            backend: DryRunBackend(seedFromCurrentNamespace: false) { _ in },
            store: StateStore(inMemory: PersistentState()), logger: Logger(label: "test"))
        let backend = OverlayNetworkBackend(driver: driver)
        try await backend.createNetwork(CreateNetworkRequest(networkID: "n1", ipv4Data: [IPAMData(pool: "10.1.0.0/24")]))
        return backend
    }

    @Test("an address without its prefix, or a MAC that is not one, is refused naming the endpoint and the value")
    func stringsAreParsedAtTheEdge() async throws {
        let backend = try await Self.backend()
        await #expect(throws: DriverError.invalidAddress(object: "endpoint e1e1e1e1e1e1", value: "10.1.0.2")) {
            _ = try await backend.createEndpoint(
                CreateEndpointRequest(networkID: "n1", endpointID: "e1e1e1e1e1e1e1", interface: EndpointInterface(address: "10.1.0.2")))
        }
        await #expect(throws: DriverError.invalidOption(name: "MacAddress", value: "02:42:zz", reason: "not a MAC address")) {
            _ = try await backend.createEndpoint(
                CreateEndpointRequest(
                    networkID: "n1", endpointID: "e1e1e1e1e1e1e1",
                    interface: EndpointInterface(address: "10.1.0.2/24", macAddress: "02:42:zz")))
        }
        let reply = try await backend.createEndpoint(
            CreateEndpointRequest(networkID: "n1", endpointID: "e1e1e1e1e1e1e1", interface: EndpointInterface(address: "10.1.0.2/24")))
        #expect(reply.interface?.macAddress.flatMap(MACAddress.init) != nil)
    }
}
