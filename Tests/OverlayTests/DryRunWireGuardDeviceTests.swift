import Foundation
import Logging
import Netlink
import Overlay
import Synchronization
import Testing
import TestSupport

/// `--dry-run` with an encrypted network: weft-wg printed as `ip` and `wg set` lines beside the `ip`/`bridge`
/// lines of the network, never the private key itself.
struct DryRunWireGuardDeviceTests {
    @Test("an encrypted network in a dry run prints weft-wg's link, key file, address, MTU, blackhole route and the nft filter")
    func encryptedNetworkPrinted() async throws {
        try await withTemporaryDirectory { directory in
            let keys = try WireGuardKeyPair.loadOrCreate(directory: directory)
            let keyPath = directory + "/" + WireGuardKeyPair.fileName
            let privateKey = try String(contentsOfFile: keyPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let harness = DriverHarness()
            let printed = harness.printed
            let emit: @Sendable (String) -> Void = { line in printed.lines.withLock { $0.append(line) } }
            let driver = OverlayDriver(
                host: DriverHarness.host, backend: harness.backend, store: harness.store, logger: Logger(label: "test"),
                wireGuard: EncryptedDatapath(
                    device: DryRunWireGuardDevice(privateKeyPath: keyPath, emit: emit), filter: PlaintextVXLANFilter(printing: emit),
                    keys: keys))
            try await driver.start()
            _ = harness.take()
            try await driver.createNetwork(DriverHarness.network(options: ["encrypted": "", "weft.vni": "4242"]))
            let lines = harness.take()
            let wireGuard = lines.filter { !$0.hasPrefix("nft") && ($0.contains("weft-wg") || $0.contains("100.64.0.0/10")) }
            #expect(wireGuard == [
                "ip link add weft-wg type wireguard",
                "wg set weft-wg listen-port 51820 private-key \(keyPath)",
                "ip address add 100.64.2.1/10 dev weft-wg",
                "ip link set weft-wg mtu 1440 up",  // underlay − 60; the VXLAN inside takes 50 more
                "ip route replace blackhole 100.64.0.0/10 metric 4294967295",
            ], "\(lines.joined(separator: "\n"))")
            #expect(lines.contains { $0.hasPrefix("nft -f - <<'EOF'") && $0.contains("udp dport 4789 @th,96,24 { 4242 } iifname != \"weft-wg\" counter drop") })
            // The VXLAN port of the encrypted network sends from the tunnel address.
            #expect(lines.contains { $0.contains("type vxlan id 4242") && $0.contains("local 100.64.2.1") }, "\(lines.joined(separator: "\n"))")
            let all = lines.joined(separator: "\n")
            let hex = Data(base64Encoded: privateKey)!.map { String(format: "%02x", $0) }.joined()
            #expect(!all.contains(privateKey) && !all.contains(hex), "the dry run printed the private key")

            // A rotation prints the key file again, never the key.
            _ = try await driver.rotateWireGuardKey()
            #expect(harness.take().filter { $0.hasPrefix("wg ") } == ["wg set weft-wg private-key \(keyPath)"])

            try await driver.deleteNetwork(id: "net1")
            let removed = harness.take()
            #expect(removed.contains("ip link del weft-wg"))
            #expect(removed.contains("ip route del blackhole 100.64.0.0/10 metric 4294967295"))
        }
    }

    @Test("peer changes print as wg set lines: added or changed peers with endpoint, keepalive and allowed IPs, the rest removed")
    func peerLines() {
        let (old, new, other) = (EncryptedPeerPlanTests.key(2), EncryptedPeerPlanTests.key(5), EncryptedPeerPlanTests.key(3))
        let tunnel = [IPInterface("100.64.2.12/32")!]
        let endpoint = WireGuardEndpoint(address: IPAddress("192.0.2.12")!)
        let kept = WireGuardPeer(publicKey: other, endpoint: WireGuardEndpoint(address: IPAddress("192.0.2.13")!),
                                 allowedIPs: [InterfaceAddress("100.64.2.13/32")!])
        let lines = DryRunWireGuardDevice.peerCommands(
            [WireGuardPeer(publicKey: new, endpoint: endpoint, allowedIPs: tunnel), kept],
            present: [WireGuardPeer(publicKey: old, endpoint: endpoint, allowedIPs: tunnel), kept], keepaliveSeconds: 25,
            interface: "weft-wg")
        #expect(lines == [
            "wg set weft-wg peer \(new.base64) endpoint 192.0.2.12:51820 persistent-keepalive 25 allowed-ips 100.64.2.12/32",
            "wg set weft-wg peer \(old.base64) remove",
        ])
    }
}

/// A WireGuard interface that comes up and then refuses a new key (a wedged or dead wireguard-go).
final class KeyRefusingDevice: WireGuardInterface {
    let name = "weft-wg"
    func bringUp(_ configuration: WireGuardConfiguration, tunnel: IPv4Address, mtu: UInt32,
                 session: NetlinkSession) throws(WireGuardDeviceError) -> UserspaceWireGuardDevice.Origin { .started }
    func status() throws(WireGuardError) -> WireGuardStatus { WireGuardStatus() }
    func update(peers: [WireGuardPeer], keepaliveSeconds: UInt16) throws(WireGuardError) {}
    func setIdentity(_ keys: WireGuardKeyPair) throws(WireGuardError) {
        throw .socket(path: "/var/run/wireguard/weft-wg.sock", action: "connect", errno: ECONNREFUSED)
    }
    func tearDown(session: NetlinkSession) {}
}

struct KeyRotationFailureTests {
    @Test("an interface that refuses the new key: the rotation fails naming the cause, the key file and the announced key stay the old ones")
    func refusedKeyRestored() async throws {
        try await withTemporaryDirectory { directory in
            let keys = try WireGuardKeyPair.loadOrCreate(directory: directory)
            let harness = DriverHarness()
            let driver = OverlayDriver(
                host: DriverHarness.host, backend: harness.backend, store: harness.store, logger: Logger(label: "test"),
                wireGuard: EncryptedDatapath(device: KeyRefusingDevice(), filter: PlaintextVXLANFilter(printing: { _ in }), keys: keys,
                                             keyDirectory: directory))
            try await driver.start()
            try await driver.createNetwork(DriverHarness.network(options: ["encrypted": "", "weft.vni": "4242"]))
            await #expect {
                try await driver.rotateWireGuardKey()
            } throws: { error in
                "\(error)".contains("the interface refused the new key (the old one stays)") && "\(error)".contains("connect")
            }
            #expect(try WireGuardKeyPair.loadOrCreate(directory: directory).publicKey == keys.publicKey, "the key file lost the key peers know")
            #expect(await driver.wireGuardKeys?.publicKey == keys.publicKey)
        }
    }
}
