import Foundation
import Glibc
import Gossip
import Logging
import Netlink
import Overlay
import Synchronization
import Testing
import TestSupport

/// WireGuard's pieces below the datapath: this host's key pair on disk, the configuration as wireguard-go's
/// UAPI request and as the dry run's `wg set` lines, and the public key and endpoint in the signed gossip.
struct WireGuardTests {
    static let peerKey = WireGuardKey(bytes: [UInt8](repeating: 0x11, count: 32))!
    static let otherKey = WireGuardKey(bytes: (0..<32).map { UInt8($0) })!

    @Test("the private key is made once, 0600 under the state directory, and read back the same")
    func keyPairOnDisk() async throws {
        try await withTemporaryDirectory { directory in
            let first = try WireGuardKeyPair.loadOrCreate(directory: directory)
            let path = directory + "/" + WireGuardKeyPair.fileName
            var info = stat()
            #expect(stat(path, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
            let second = try WireGuardKeyPair.loadOrCreate(directory: directory)
            #expect(first.publicKey == second.publicKey)
            // The file holds the private key (as `wg genkey` writes it), never the public one.
            let text = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(WireGuardKey(base64: text) != nil && text != first.publicKey.base64)
            #expect(chmod(path, 0o644) == 0)
            #expect(throws: WireGuardKeyPair.KeyError.self) { try WireGuardKeyPair.loadOrCreate(directory: directory) }
            #expect(chmod(path, 0o600) == 0)
            try "not a key\n".write(toFile: path, atomically: false, encoding: .utf8)
            #expect(throws: WireGuardKeyPair.KeyError.malformed(path: path)) {
                try WireGuardKeyPair.loadOrCreate(directory: directory)
            }
        }
    }

    @Test("keys parse only as 32 bytes, in base64 and hex")
    func keyParsing() {
        #expect(WireGuardKey(base64: Self.otherKey.base64) == Self.otherKey)
        #expect(WireGuardKey(hex: Self.otherKey.hex) == Self.otherKey)
        #expect(Self.otherKey.hex == "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        #expect(WireGuardKey(base64: Data(repeating: 1, count: 31).base64EncodedString()) == nil)
        #expect(WireGuardKey(base64: Data(repeating: 1, count: 33).base64EncodedString()) == nil)
        #expect(WireGuardKey(hex: String(repeating: "z", count: 64)) == nil)
        #expect(WireGuardEndpoint("192.0.2.7:51820") == WireGuardEndpoint(address: IPAddress("192.0.2.7")!, port: 51820))
        #expect(WireGuardEndpoint("[2001:db8::1]:7") == WireGuardEndpoint(address: IPAddress("2001:db8::1")!, port: 7))
        #expect(WireGuardEndpoint("192.0.2.7:0") == nil && WireGuardEndpoint("192.0.2.7") == nil)
    }

    static func configuration(keys: WireGuardKeyPair) -> WireGuardConfiguration {
        WireGuardConfiguration(keys: keys, peers: [
            WireGuardPeer(publicKey: Self.peerKey, endpoint: WireGuardEndpoint("192.0.2.2:51820")!,
                          allowedIPs: [InterfaceAddress("100.64.0.2/32")!]),
            WireGuardPeer(publicKey: Self.otherKey, endpoint: WireGuardEndpoint("192.0.2.3:51821")!,
                          allowedIPs: [InterfaceAddress("100.64.0.3/32")!]),
        ])
    }

    @Test("the UAPI set request replaces the peers and their allowed IPs; keys in hex")
    func uapiRequest() throws {
        let keys = WireGuardKeyPair()
        let request = WireGuardUAPI.setRequest(Self.configuration(keys: keys))
        let lines = request.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines[0] == "set=1")
        #expect(lines[1].hasPrefix("private_key=") && lines[1].count == "private_key=".count + 64)
        #expect(Array(lines[2...]) == [
            "listen_port=51820", "replace_peers=true",
            "public_key=\(Self.otherKey.hex)", "endpoint=192.0.2.3:51821", "replace_allowed_ips=true", "allowed_ip=100.64.0.3/32",
            "public_key=\(Self.peerKey.hex)", "endpoint=192.0.2.2:51820", "replace_allowed_ips=true", "allowed_ip=100.64.0.2/32",
            "", "",
        ])
        #expect(!request.contains(keys.publicKey.hex))
        // Logging or dumping a configuration shows no private key.
        var dumped = ""
        dump(Self.configuration(keys: keys), to: &dumped)
        let privateHex = try #require(lines[1].split(separator: "=").last).description
        let privateBase64 = try #require(WireGuardKey(hex: privateHex)).base64
        for text in [dumped, "\(Self.configuration(keys: keys))", String(reflecting: keys)] {
            #expect(!text.contains(privateBase64) && !text.contains(privateHex) && text.contains(keys.publicKey.base64))
        }
    }

    @Test("the kernel's device message carries the same peers, in the same order, as the UAPI request")
    func kernelDevice() throws {
        let device = Self.configuration(keys: WireGuardKeyPair()).kernelDevice(interface: "weft-wg")
        #expect(device.listenPort == 51820 && device.interface == "weft-wg")
        #expect(device.peers.map(\.publicKey) == [Self.otherKey.bytes, Self.peerKey.bytes])
        #expect(device.peers.map(\.port) == [51821, 51820])
        #expect(try WireGuardMessages.setDevice(device, family: 28).count == 1)
    }

    @Test("a UAPI get reply parses into peers and handshakes; a bad one is refused, a long one bounded")
    func uapiStatus() throws {
        let reply = """
            private_key=\(Self.otherKey.hex)
            listen_port=51820
            public_key=\(Self.peerKey.hex)
            endpoint=192.0.2.2:51820
            last_handshake_time_sec=1700000000
            last_handshake_time_nsec=5
            allowed_ip=100.64.0.2/32
            public_key=\(Self.otherKey.hex)
            allowed_ip=100.64.0.3/32
            errno=0


            """
        let status = try WireGuardUAPI.parseStatus(reply)
        #expect(status.listenPort == 51820)
        #expect(status.peers == [
            .init(publicKey: Self.peerKey, endpoint: WireGuardEndpoint("192.0.2.2:51820"),
                  allowedIPs: [InterfaceAddress("100.64.0.2/32")!], lastHandshakeSeconds: 1_700_000_000),
            .init(publicKey: Self.otherKey, allowedIPs: [InterfaceAddress("100.64.0.3/32")!]),
        ])
        #expect(status.peers[0].hasHandshaken && !status.peers[1].hasHandshaken)
        #expect(throws: WireGuardError.refused(errno: 22)) { try WireGuardUAPI.parseStatus("errno=22\n\n") }
        #expect(throws: WireGuardError.malformedReply("no errno line")) { try WireGuardUAPI.parseStatus("listen_port=1\n\n") }
        #expect(throws: WireGuardError.malformedReply("public_key is not 32 hex bytes")) {
            try WireGuardUAPI.parseStatus("public_key=abcd\nerrno=0\n\n")
        }
        let huge = String(repeating: "x=1\n", count: WireGuardUAPI.maximumReplyBytes / 4 + 1) + "errno=0\n\n"
        #expect(throws: WireGuardError.self) { try WireGuardUAPI.parseStatus(huge) }
    }

    @Test("the dry run prints wg set lines, the private key named by its file, stale peers removed")
    func dryRunCommands() throws {
        let keys = WireGuardKeyPair()
        let stale = WireGuardKey(bytes: [UInt8](repeating: 0x22, count: 32))!
        let lines = DryRunWireGuard.commands(
            Self.configuration(keys: keys), interface: "weft-wg", privateKeyPath: "/var/lib/weft/wireguard.key",
            present: [Self.peerKey, stale])
        #expect(lines == [
            "wg set weft-wg listen-port 51820 private-key /var/lib/weft/wireguard.key",
            "wg set weft-wg peer \(Self.otherKey.base64) endpoint 192.0.2.3:51821 allowed-ips 100.64.0.3/32",
            "wg set weft-wg peer \(Self.peerKey.base64) endpoint 192.0.2.2:51820 allowed-ips 100.64.0.2/32",
            "wg set weft-wg peer \(stale.base64) remove",
        ])
        let printed = Printed()
        try DryRunWireGuard(privateKeyPath: "/k", emit: { printed.append($0) }).apply(Self.configuration(keys: keys), interface: "weft-wg")
        #expect(printed.lines.count == 3)
    }
}

/// Lines a dry-run backend printed.
final class Printed: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var lines: [String] { storage.withLock { $0 } }
}

/// The WireGuard public key and endpoint in a host's signed network definition: carried intact, and refused
/// (counted, logged once per interval) when the key is not 32 bytes or the endpoint is not the owner's address.
struct WireGuardGossipTests {
    typealias Update = ClusterCodec.Update
    static let (a, b) = (ClusterStateTests.a, ClusterStateTests.b)

    static func definition(_ wireGuard: WireGuardAnnouncement?) -> Update {
        var network = ClusterStateTests.network(on: b)
        network.wireGuard = wireGuard
        return b.signed(.network(key: network.key, entry: ReplicatedEntry(
            version: EntryVersion(clock: ClusterState.wallClockMilliseconds(), node: "b"), owner: "b", value: network)))
    }

    static func receiver() async -> ClusterState {
        let state = a.state()
        await state.apply(.join(b.member))
        return state
    }

    @Test("a valid key and endpoint round-trip through the codec and are merged")
    func validAnnouncementIsMerged() async throws {
        let wireGuard = WireGuardAnnouncement(
            publicKey: WireGuardTests.peerKey, endpoint: WireGuardEndpoint(address: Self.b.vtep, port: 51820))
        let update = Self.definition(wireGuard)
        #expect(try ClusterCodec.decode(ClusterCodec.encode([update])) == [update])
        let state = await Self.receiver()
        _ = await state.notifyMessage(ClusterCodec.encode([update]))
        #expect(await state.rejections.isEmpty)
        let merged = await state.networkTable.entries[update.envelope.key]?.value
        #expect(merged?.wireGuard?.key == WireGuardTests.peerKey)
        #expect(merged?.wireGuard?.endpoint == WireGuardEndpoint(address: Self.b.vtep, port: 51820))
        // A plain network's definition has no WireGuard field: it decodes, and verifies, as before.
        let plain = Self.definition(nil)
        #expect(try ClusterCodec.decode(ClusterCodec.encode([plain])) == [plain])
    }

    @Test("a key that is not 32 bytes, an endpoint that is not the owner's address: refused and counted")
    func badAnnouncementsAreRefused() async throws {
        let state = await Self.receiver()
        let short = WireGuardAnnouncement(publicKey: [UInt8](repeating: 1, count: 31), address: Self.b.vtep.bytes, port: 51820)
        let elsewhere = WireGuardAnnouncement(
            publicKey: WireGuardTests.peerKey, endpoint: WireGuardEndpoint(address: IPAddress("203.0.113.9")!, port: 51820))
        let noPort = WireGuardAnnouncement(publicKey: WireGuardTests.peerKey.bytes, address: Self.b.vtep.bytes, port: 0)
        for forged in [short, elsewhere, noPort, short] {
            _ = await state.notifyMessage(ClusterCodec.encode([Self.definition(forged)]))
        }
        #expect(await state.rejections == [.badWireGuardKey: 2, .wireGuardEndpointMismatch: 2])
        #expect(await state.networkTable.entries.isEmpty)
    }
}

/// Tunnel addresses: derived from the advertise address, the same on every host, collisions left out.
struct TunnelAddressingTests {
    @Test("100.64.0.0/10 plus the advertise address's low 22 bits; colliding hosts get none")
    func derivedAndCollisionFree() {
        #expect(TunnelAddressing.address(for: IPAddress("192.0.2.12")!).description == "100.64.2.12")
        #expect(TunnelAddressing.address(for: IPAddress("10.255.255.254")!).description == "100.127.255.254")
        #expect(TunnelAddressing.address(for: IPAddress("2001:db8::c000:20c")!).description == "100.64.2.12")
        let (addresses, collisions) = TunnelAddressing.assign([
            "a": IPAddress("192.0.2.11")!, "b": IPAddress("192.0.2.12")!, "c": IPAddress("10.0.2.12")!,
        ])
        #expect(addresses == ["a": IPv4Address(parsingOrTrap: "100.64.2.11")])
        #expect(collisions == [IPv4Address(parsingOrTrap: "100.64.2.12"): ["b", "c"]])
    }
}

extension IPv4Address {
    init(parsingOrTrap text: String) { self = IPv4Address(text)! }
}

/// `--wireguard auto|userspace|kernel` against what a host has.
struct WireGuardSelectionTests {
    typealias Capabilities = WireGuardSelection.Capabilities

    static let noFamily = WireGuardFamily.Resolution.unavailable(
        reason: "the generic netlink family \"wireguard\" does not resolve (ENOENT): this kernel has no WireGuard module (modprobe wireguard)")

    @Test("auto takes wireguard-go here, saying why not the kernel; kernel and a missing tool are refused with the reason")
    func choices() {
        let thisMachine = Capabilities(kernel: Self.noFamily, userspaceTool: "/usr/bin/wireguard-go", tunDevice: true)
        #expect(WireGuardSelection.choose(.auto, capabilities: thisMachine) == .chosen(.userspace, note:
            "the generic netlink family \"wireguard\" does not resolve (ENOENT): this kernel has no WireGuard module (modprobe wireguard): wireguard-go"))
        #expect(WireGuardSelection.choose(.userspace, capabilities: thisMachine) == .chosen(.userspace, note: "wireguard-go, as requested"))
        #expect(WireGuardSelection.choose(.kernel, capabilities: thisMachine) == .unavailable(reason:
            "--wireguard kernel: the generic netlink family \"wireguard\" does not resolve (ENOENT): this kernel has no WireGuard module (modprobe wireguard)"))
        let bare = Capabilities(kernel: Self.noFamily, userspaceTool: nil, tunDevice: true)
        #expect(WireGuardSelection.choose(.userspace, capabilities: bare)
            == .unavailable(reason: "--wireguard userspace: wireguard-go is not installed (apt-get install wireguard-go)"))
        let noTun = Capabilities(kernel: Self.noFamily, userspaceTool: "/usr/bin/wireguard-go", tunDevice: false)
        #expect("\(WireGuardSelection.choose(.auto, capabilities: noTun))"
            == "none: \(Self.noFamily), and /dev/net/tun is missing or not writable")
        #expect(WireGuardSelection.Capabilities.detect().userspaceTool != nil, "wireguard-go is in APT_PACKAGES")
    }

    @Test("a kernel with WireGuard: auto and kernel take it and say so, whatever wireguard-go's state; userspace stays userspace")
    func kernelChosen() {
        let kernelOnly = Capabilities(kernel: .resolved(id: 27), userspaceTool: nil, tunDevice: false)
        #expect(WireGuardSelection.choose(.auto, capabilities: kernelOnly)
            == .chosen(.kernel, note: "the kernel has WireGuard (generic netlink family id 27)"))
        #expect("\(WireGuardSelection.choose(.kernel, capabilities: kernelOnly))"
            == "kernel (the kernel's WireGuard (generic netlink family id 27), as requested)")
        let both = Capabilities(kernel: .resolved(id: 27), userspaceTool: "/usr/bin/wireguard-go", tunDevice: true)
        #expect(WireGuardSelection.choose(.auto, capabilities: both)
            == .chosen(.kernel, note: "the kernel has WireGuard (generic netlink family id 27)"))
        #expect(WireGuardSelection.choose(.userspace, capabilities: both) == .chosen(.userspace, note: "wireguard-go, as requested"))
        #expect(WireGuardSelection.choose(.userspace, capabilities: kernelOnly)
            == .unavailable(reason: "--wireguard userspace: wireguard-go is not installed (apt-get install wireguard-go)"))
    }

    @Test("the real kernel, asked from a test namespace: the family resolves only where WireGuard is; auto falls back to wireguard-go saying why; kernel is refused naming the cause",
          .enabled(if: Privileges.canRunKernelTests, "needs root for a network namespace"))
    func kernelProbe() throws {
        let hasModule = access("/sys/module/wireguard", F_OK) == 0
        try TestNamespaces.with("wgfamily") { namespaces in
            let capabilities = WireGuardSelection.Capabilities.detect(namespace: namespaces[0])
            if hasModule {
                guard case .resolved(let id) = capabilities.kernel else {
                    Issue.record("this kernel has WireGuard but the family did not resolve: \(capabilities.kernel)")
                    return
                }
                #expect(id >= 16, "generic netlink ids start above GENL_ID_CTRL")
                #expect(WireGuardSelection.choose(.auto, capabilities: capabilities)
                    == .chosen(.kernel, note: "the kernel has WireGuard (generic netlink family id \(id))"))
            } else {
                #expect(capabilities.kernel == Self.noFamily)
                #expect(WireGuardSelection.choose(.auto, capabilities: capabilities)
                    == .chosen(.userspace, note: "\(Self.noFamily): wireguard-go"))
                #expect(WireGuardSelection.choose(.kernel, capabilities: capabilities)
                    == .unavailable(reason: "--wireguard kernel: \(Self.noFamily)"))
            }
        }
    }
}

/// Fail closed: which hosts an encrypted network's FDB may point at.
struct EncryptedPeerPlanTests {
    static let vni = VNI(42)!
    static let hosts: [String: IPAddress] = [
        "a": IPAddress("192.0.2.11")!, "b": IPAddress("192.0.2.12")!, "c": IPAddress("192.0.2.13")!,
        "d": IPAddress("192.0.2.14")!, "e": IPAddress("10.0.2.14")!,
    ]

    static func definition(_ host: String, key: WireGuardKey?) -> NetworkAnnouncement {
        let address = hosts[host]!
        return NetworkAnnouncement(
            vni: vni, subnet: subnet("10.1.0.0/24"), host: host, vtep: address,
            wireGuard: key.map { WireGuardAnnouncement(publicKey: $0, endpoint: WireGuardEndpoint(address: address)) })
    }

    static func key(_ byte: UInt8) -> WireGuardKey { WireGuardKey(bytes: [UInt8](repeating: byte, count: 32))! }

    @Test("only a configured, handshaken peer is reachable; missing keys, collisions and pending peers are reasons")
    func failClosed() {
        let announcements = [
            Self.definition("a", key: Self.key(1)),  // this host
            Self.definition("b", key: Self.key(2)),  // configured and handshaken
            Self.definition("c", key: Self.key(3)),  // configured, no handshake yet
            Self.definition("d", key: Self.key(4)),  // its tunnel address collides with e's
            Self.definition("e", key: nil),  // no key
        ]
        let device = WireGuardStatus(listenPort: 51820, peers: [
            .init(publicKey: Self.key(2), allowedIPs: [InterfaceAddress("100.64.2.12/32")!], lastHandshakeSeconds: 1_700_000_000),
            .init(publicKey: Self.key(3), allowedIPs: [InterfaceAddress("100.64.2.13/32")!]),
        ])
        let plan = EncryptedPeerPlan.plan(
            localHost: "a", encrypted: [Self.vni], announcements: announcements, advertised: Self.hosts, device: device)
        #expect(plan.reachable == [Self.vni: ["b": IPv4Address("100.64.2.12")!]])
        #expect(plan.peers.map(\.publicKey) == [Self.key(2), Self.key(3)])
        #expect(plan.excluded == [
            "c": "WireGuard peer has not handshaken yet",
            "d": "tunnel address 100.64.2.14 is shared with e",
            "e": "tunnel address 100.64.2.14 is shared with d",
        ])
        // A plain network (not in `encrypted`) is not this plan's business; nothing is reachable before the device
        // reports a peer.
        let cold = EncryptedPeerPlan.plan(
            localHost: "a", encrypted: [Self.vni], announcements: announcements, advertised: Self.hosts, device: WireGuardStatus())
        #expect(cold.reachable.isEmpty && cold.excluded["b"] == "WireGuard peer not configured yet")
        #expect(EncryptedPeerPlan.plan(localHost: "a", encrypted: [], announcements: announcements, advertised: Self.hosts,
                                       device: device).peers.isEmpty)
    }
}

/// Key rotation: a host that rotated keeps its FDB entries while its new peer handshakes, within a grace.
struct WireGuardKeyRotationTests {
    typealias Plan = EncryptedPeerPlanTests
    static let tunnelB = IPInterface("100.64.2.12/32")!

    @Test("mid-rotation the newest definition's key counts, and the host stays reachable while its new peer handshakes")
    func newKeyWithinGrace() {
        let (old, new) = (Plan.key(2), Plan.key(5))
        var otherNetwork = Plan.definition("b", key: old)
        otherNetwork.vni = VNI(43)!
        // Oldest first: b's definition of 43 still carries the old key, its definition of 42 the new one.
        let announcements = [Plan.definition("a", key: Plan.key(1)), otherNetwork, Plan.definition("b", key: new)]
        let pending = WireGuardStatus(listenPort: 51820, peers: [.init(publicKey: new, allowedIPs: [Self.tunnelB])])
        let encrypted: Set<VNI> = [Plan.vni, VNI(43)!]
        let graced = EncryptedPeerPlan.plan(
            localHost: "a", encrypted: encrypted, announcements: announcements, advertised: Plan.hosts, device: pending,
            rotationGrace: ["b": old])
        #expect(graced.peers.map(\.publicKey) == [new], "one peer for b, with its newest key")
        #expect(graced.rotating == ["b"] && graced.handshaken.isEmpty && graced.excluded["b"] == nil)
        #expect(graced.reachable == [Plan.vni: ["b": IPv4Address("100.64.2.12")!], VNI(43)!: ["b": IPv4Address("100.64.2.12")!]])
        // Without a grace (b never handshook, or its grace ran out) the same device state is a pending peer.
        let cold = EncryptedPeerPlan.plan(
            localHost: "a", encrypted: encrypted, announcements: announcements, advertised: Plan.hosts, device: pending)
        #expect(cold.reachable.isEmpty && cold.excluded["b"] == "WireGuard peer has not handshaken yet")
        // A grace for the key b still announces is no rotation: its pending peer is not reachable.
        let sameKey = EncryptedPeerPlan.plan(
            localHost: "a", encrypted: encrypted, announcements: announcements, advertised: Plan.hosts, device: pending,
            rotationGrace: ["b": new])
        #expect(sameKey.reachable.isEmpty)
        // The old peer is still on the device, the new one not yet: not reachable (its packets would go nowhere).
        let stale = WireGuardStatus(peers: [.init(publicKey: old, allowedIPs: [Self.tunnelB], lastHandshakeSeconds: 1)])
        let unconfigured = EncryptedPeerPlan.plan(
            localHost: "a", encrypted: encrypted, announcements: announcements, advertised: Plan.hosts, device: stale,
            rotationGrace: ["b": old])
        #expect(unconfigured.reachable.isEmpty && unconfigured.excluded["b"] == "WireGuard peer not configured yet")
        // Handshaken with the new key: reachable for good, the new key remembered.
        let done = WireGuardStatus(peers: [.init(publicKey: new, allowedIPs: [Self.tunnelB], lastHandshakeSeconds: 2)])
        let handshaken = EncryptedPeerPlan.plan(
            localHost: "a", encrypted: encrypted, announcements: announcements, advertised: Plan.hosts, device: done,
            rotationGrace: ["b": old])
        #expect(handshaken.handshaken == ["b": new] && handshaken.rotating.isEmpty)
    }

    @Test("the grace starts when a pass first finds the rotation, ends after its length, and is forgotten with the host")
    func graceRunsOut() {
        let (old, new) = (Plan.key(2), Plan.key(5))
        let start = ContinuousClock.now
        var rotation = WireGuardKeyRotation()
        rotation.record(EncryptedPeerPlan(peers: [], reachable: [:], excluded: [:], handshaken: ["b": old, "c": Plan.key(3)]), at: start)
        #expect(rotation.grace(at: start, lasting: .seconds(15)) == ["b": old, "c": Plan.key(3)])
        rotation.record(EncryptedPeerPlan(peers: [], reachable: [:], excluded: [:], handshaken: ["c": Plan.key(3)], rotating: ["b"]),
                        at: start + .seconds(1))
        // A later pass still rotating does not restart the grace.
        rotation.record(EncryptedPeerPlan(peers: [], reachable: [:], excluded: [:], handshaken: ["c": Plan.key(3)], rotating: ["b"]),
                        at: start + .seconds(10))
        #expect(rotation.grace(at: start + .seconds(15), lasting: .seconds(15))["b"] == old)
        #expect(rotation.grace(at: start + .seconds(16), lasting: .seconds(15))["b"] == nil)
        // Handshaken with its new key: remembered with it, the grace cleared.
        rotation.record(EncryptedPeerPlan(peers: [], reachable: [:], excluded: [:], handshaken: ["b": new]), at: start + .seconds(11))
        #expect(rotation.handshakenKeys == ["b": new] && rotation.rotatingSince.isEmpty)
        // c is gone: a return later is no rotation.
        #expect(rotation.grace(at: start + .seconds(11), lasting: .seconds(15))["c"] == nil)
    }

    @Test("a rotation saves the new key in the state directory and the driver uses it; without a datapath it is refused")
    func driverRotates() async throws {
        try await withTemporaryDirectory { directory in
            let keys = try WireGuardKeyPair.loadOrCreate(directory: directory)
            let backend = DryRunBackend(seedFromCurrentNamespace: false, output: { _ in })
            let host = HostSettings(advertiseAddress: IPAddress("192.0.2.1")!, underlayMTU: 1500, namespaceDirectory: "/run/weft-rotation-test/netns")
            let datapath = EncryptedDatapath(
                device: UserspaceWireGuardDevice(backend: UserspaceWireGuard(socketDirectory: directory + "/none")), keys: keys,
                keyDirectory: directory)
            let driver = OverlayDriver(
                host: host, backend: backend, store: StateStore(inMemory: PersistentState()), logger: Logger(label: "test"),
                wireGuard: datapath)
            // No encrypted network: no interface to update; the key file holds the new key at once.
            let result = try await driver.rotateWireGuardKey()
            #expect(result.previousPublicKey == keys.publicKey.base64 && result.publicKey != keys.publicKey.base64)
            #expect(!result.interfaceUpdated)
            #expect(try WireGuardKeyPair.loadOrCreate(directory: directory).publicKey.base64 == result.publicKey)
            #expect(await driver.wireGuardKeys?.publicKey.base64 == result.publicKey)
            // Without a datapath: refused with the reason.
            let plain = OverlayDriver(host: host, backend: backend, store: StateStore(inMemory: PersistentState()), logger: Logger(label: "test"))
            await #expect(throws: WireGuardRotationError.self) { try await plain.rotateWireGuardKey() }
        }
    }
}
