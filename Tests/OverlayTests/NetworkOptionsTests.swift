import Netlink
import Overlay
import Testing

/// A network's options are parsed once into typed values; what weft cannot honour is refused by name, and an
/// encrypted network is never created in plaintext.
struct NetworkOptionsTests {
    @Test("encrypted: bare (Docker sends an empty value), true or false; weft.encrypted the same")
    func encryptedIsABoolean() throws {
        #expect(try NetworkOptions(parsing: ["encrypted": ""]).encrypted)
        #expect(try NetworkOptions(parsing: ["encrypted": "true"]).encrypted)
        #expect(try NetworkOptions(parsing: ["encrypted": "TRUE"]).encrypted)
        #expect(try !NetworkOptions(parsing: ["encrypted": "false"]).encrypted)
        #expect(try NetworkOptions(parsing: ["weft.encrypted": "true"]).encrypted)
        #expect(try !NetworkOptions(parsing: ["weft.encrypted": "false"]).encrypted)
        #expect(try NetworkOptions(parsing: ["encrypted": "1", "weft.encrypted": "true"]).encrypted)
        #expect(try !NetworkOptions(parsing: [:]).encrypted)
    }

    @Test("an encrypted value that is not a boolean is refused naming the option and the value")
    func encryptedNotABoolean() throws {
        #expect(throws: DriverError.invalidOption(name: "encrypted", value: "notabool", reason: "expected true or false")) {
            try NetworkOptions(parsing: ["encrypted": "notabool"])
        }
        #expect(throws: DriverError.invalidOption(name: "weft.encrypted", value: "", reason: "expected true or false")) {
            try NetworkOptions(parsing: ["weft.encrypted": ""])
        }
        #expect(throws: DriverError.invalidOption(name: "weft.encrypted", value: "false", reason: "it contradicts -o encrypted")) {
            try NetworkOptions(parsing: ["encrypted": "", "weft.encrypted": "false"])
        }
        #expect(
            DriverError.invalidOption(name: "encrypted", value: "notabool", reason: "expected true or false").description
                == "option encrypted=notabool is invalid: expected true or false")
    }

    @Test("unknown weft.* options and Docker overlay options weft does not honour are refused by name")
    func unhonouredOptionsAreRefused() throws {
        #expect {
            try NetworkOptions(parsing: ["weft.encrypt": "true"])
        } throws: { error in
            guard case .unsupportedOption(let name, let reason) = error as? DriverError else { return false }
            return name == "weft.encrypt" && reason.contains("weft.encrypted") && reason.contains("weft.vni")
        }
        #expect(throws: DriverError.unsupportedOption(
            name: "com.docker.network.driver.overlay.vxlanid_list", reason: "weft picks one VNI per network; use -o weft.vni=N")) {
            try NetworkOptions(parsing: ["com.docker.network.driver.overlay.vxlanid_list": "4097"])
        }
        // Swarm's own options pass when the caller says it reads them; options of no driver are left alone.
        #expect(try NetworkOptions(parsing: ["weft.seeds": "a:7946", "custom": "kept"], handledElsewhere: ["weft.seeds"])
            == NetworkOptions())
        #expect(throws: DriverError.self) { try NetworkOptions(parsing: ["weft.seeds": "a:7946"]) }
    }

    @Test("VNI and MTU parse into typed values; the encrypted MTU leaves room for WireGuard")
    func vniAndMTU() throws {
        let options = try NetworkOptions(parsing: ["weft.vni": "42", "com.docker.network.driver.mtu": "1400"])
        #expect(options == NetworkOptions(vni: VNI(42), mtu: 1400))
        #expect(try NetworkOptions(parsing: ["weft.mtu": "1300"]).mtu == 1300)
        let host = HostSettings(advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500)
        #expect(NetworkPolicy.mtu(options: NetworkOptions(), host: host) == 1450)
        #expect(NetworkPolicy.mtu(options: NetworkOptions(encrypted: true), host: host) == 1390)
        #expect(NetworkPolicy.mtu(options: NetworkOptions(mtu: 1200, encrypted: true), host: host) == 1200)
    }

    @Test("an encrypted network is refused on a host without the WireGuard datapath, saying why; nothing is made")
    func encryptedNetworkRefused() async throws {
        let harness = DriverHarness()
        let driver = harness.driver()
        try await driver.start()
        _ = harness.take()
        await #expect(throws: DriverError.encryptionUnavailable(network: "secret", reason: {
            if case .unavailable(let reason) = EncryptionSupport.notBuilt { return reason } else { return "" }
        }())) {
            try await driver.createNetwork(DriverHarness.network("secret", options: ["encrypted": ""]))
        }
        #expect(await driver.network(id: "secret") == nil)
        #expect(harness.take().isEmpty)
        await #expect(throws: DriverError.self) {
            _ = try await driver.allocateNetwork(id: "secret", subnet: subnet("10.1.0.0/24"), options: ["encrypted": "true"])
        }
        let message = DriverError.encryptionUnavailable(network: "secret", reason: "no WireGuard").description
        #expect(message == "network secret is encrypted (-o encrypted) but cannot be created on this host: no WireGuard")
        // encrypted=false is a plain network.
        try await driver.createNetwork(DriverHarness.network("plain", options: ["encrypted": "false"]))
        #expect(await driver.network(id: "plain") != nil)
    }
}
