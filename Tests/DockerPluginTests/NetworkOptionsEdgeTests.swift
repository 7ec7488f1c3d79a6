import DockerPlugin
import Logging
import Netlink
import Overlay
import Testing

/// The user's `-o` options are parsed at the plugin's edge, on the socket plugin (CreateNetwork) and on a swarm
/// manager (AllocateNetwork): an encrypted network is refused saying why, never created in plaintext, and
/// options weft cannot honour are refused by name.
struct NetworkOptionsEdgeTests {
    static func backend() -> (OverlayNetworkBackend, OverlayDriver) {
        let driver = OverlayDriver(
            host: HostSettings(advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500),
            backend: DryRunBackend(seedFromCurrentNamespace: false) { _ in },
            store: StateStore(inMemory: PersistentState()), logger: Logger(label: "test"))
        return (OverlayNetworkBackend(driver: driver, scope: .global, gossipSeed: "192.0.2.1:7946"), driver)
    }

    static func create(_ options: [String: String]) -> CreateNetworkRequest {
        CreateNetworkRequest(
            networkID: "n1n1n1n1n1n1n1",
            options: DriverOptions([DriverOptions.genericKey: .object(options.mapValues { .string($0) })]),
            ipv4Data: [IPAMData(pool: "10.1.0.0/24")])
    }

    @Test("-o encrypted (bare) is refused with the reason, and no network is made")
    func encryptedRefused() async throws {
        let (backend, driver) = Self.backend()
        await #expect {
            try await backend.createNetwork(Self.create(["encrypted": ""]))
        } throws: { error in
            guard case .encryptionUnavailable(let network, let reason) = error as? DriverError else { return false }
            return network == "n1n1n1n1n1n1n1" && reason.contains("WireGuard") && "\(error)".contains("plaintext")
        }
        #expect(await driver.network(id: "n1n1n1n1n1n1n1") == nil)
        await #expect(throws: DriverError.self) {
            _ = try await backend.allocateNetwork(
                AllocateNetworkRequest(networkID: "s1", options: ["encrypted": ""], ipv4Data: [IPAMData(pool: "10.2.0.0/24")]))
        }
    }

    @Test("a non-boolean encrypted value, an unknown weft option and vxlanid_list are refused by name")
    func badOptionsRefused() async throws {
        let (backend, driver) = Self.backend()
        await #expect(throws: DriverError.invalidOption(name: "encrypted", value: "notabool", reason: "expected true or false")) {
            try await backend.createNetwork(Self.create(["encrypted": "notabool"]))
        }
        await #expect {
            try await backend.createNetwork(Self.create(["weft.vnii": "7"]))
        } throws: { error in
            if case .unsupportedOption(name: "weft.vnii", _) = error as? DriverError { true } else { false }
        }
        await #expect {
            _ = try await backend.allocateNetwork(AllocateNetworkRequest(
                networkID: "s1", options: ["com.docker.network.driver.overlay.vxlanid_list": "4097"],
                ipv4Data: [IPAMData(pool: "10.2.0.0/24")]))
        } throws: { error in
            if case .unsupportedOption(name: "com.docker.network.driver.overlay.vxlanid_list", _) = error as? DriverError { true } else { false }
        }
        #expect(await driver.network(id: "n1n1n1n1n1n1n1") == nil)
        // A swarm manager's answer (VNI, seeds) comes back to it merged into the next request: accepted.
        let allocated = try await backend.allocateNetwork(
            AllocateNetworkRequest(networkID: "s1", options: ["encrypted": "false"], ipv4Data: [IPAMData(pool: "10.2.0.0/24")]))
        #expect(allocated.options["weft.seeds"] == "192.0.2.1:7946")
        _ = try await backend.allocateNetwork(
            AllocateNetworkRequest(networkID: "s1", options: allocated.options, ipv4Data: [IPAMData(pool: "10.2.0.0/24")]))
        try await backend.createNetwork(Self.create(allocated.options))
    }
}
