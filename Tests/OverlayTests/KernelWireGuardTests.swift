import Foundation
import Glibc
@testable import Netlink
@testable import Overlay
import Synchronization
import TestSupport
import Testing

/// A generic-netlink transport that records what it is sent, acknowledges it (or refuses with an errno and a
/// kernel message) and answers reads with a reply written by hand.
final class ScriptedWireGuardTransport: NetlinkTransport {
    let sent = Mutex<[[UInt8]]>([])
    let reply = Mutex<[UInt8]>([])
    let refusal: (errno: Int32, text: String)?

    init(refusal: (errno: Int32, text: String)? = nil) { self.refusal = refusal }

    func execute(_ messages: [[UInt8]]) throws(NetlinkError) -> [Acknowledgement] {
        sent.withLock { $0 += messages }
        return messages.indices.map {
            Acknowledgement(sequence: UInt32($0), errno: refusal?.errno ?? 0, kernelMessage: refusal?.text)
        }
    }

    func query(_ message: [UInt8], object: String) throws(NetlinkError) -> [UInt8] {
        sent.withLock { $0.append(message) }
        if let refusal { throw .fromAcknowledgement(errno: refusal.errno, object: object, kernelMessage: refusal.text) }
        return reply.withLock { $0 }
    }

    func take() -> [[UInt8]] { sent.withLock { sent in defer { sent = [] }; return sent } }
}

/// A `WG_CMD_GET_DEVICE` reply built from <linux/wireguard.h>'s layout: one message, the port and the peers.
enum DeviceDumpReply {
    static func attribute(_ type: Int, _ payload: [UInt8], nested: Bool = false) -> [UInt8] {
        let length = 4 + payload.count
        var bytes: [UInt8] = [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(type), nested ? 0x80 : 0]
        bytes += payload
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    static func little(_ value: UInt64, _ count: Int) -> [UInt8] { (0..<count).map { UInt8((value >> (8 * UInt64($0))) & 0xFF) } }

    static func endpoint(_ endpoint: WireGuardEndpoint) -> [UInt8] {
        var bytes: [UInt8] = [2, 0, UInt8(endpoint.port >> 8), UInt8(endpoint.port & 0xFF)]  // sockaddr_in
        bytes += endpoint.address.bytes
        bytes += [UInt8](repeating: 0, count: 8)
        return bytes
    }

    static func peer(_ peer: WireGuardStatus.Peer) -> [UInt8] {
        var children: [UInt8] = attribute(1, peer.publicKey.bytes)
        if let address = peer.endpoint { children += attribute(4, endpoint(address)) }
        children += attribute(6, little(UInt64(peer.lastHandshakeSeconds), 8) + little(0, 8))
        children += attribute(7, little(peer.receivedBytes, 8))
        children += attribute(8, little(peer.transmittedBytes, 8))
        var allowed: [UInt8] = []
        for address in peer.allowedIPs {
            var entry: [UInt8] = attribute(1, little(2, 2))
            entry += attribute(2, address.address.bytes)
            entry += attribute(3, [UInt8(address.prefixLength)])
            allowed += attribute(0, entry, nested: true)
        }
        children += attribute(9, allowed, nested: true)
        return attribute(0, children, nested: true)
    }

    static func message(family: UInt16, interface: String, listenPort: UInt16, peers: [WireGuardStatus.Peer]) -> [UInt8] {
        var body: [UInt8] = [0, 1, 0, 0]  // genlmsghdr: WG_CMD_GET_DEVICE, version 1
        body += attribute(6, little(UInt64(listenPort), 2))
        body += attribute(2, Array(interface.utf8) + [0])
        body += attribute(8, Array(peers.map(peer).joined()), nested: true)
        var bytes: [UInt8] = little(UInt64(16 + body.count), 4)
        bytes += little(UInt64(family), 2)
        bytes += [2, 0] + [UInt8](repeating: 0, count: 8)  // NLM_F_MULTI, sequence, port
        return bytes + body
    }
}

/// The kernel WireGuard backend at the message level: what each operation sends (the golden-tested builders),
/// how a device dump becomes the status the fail-closed rule reads, and refusals carried as typed errors.
struct KernelWireGuardTests {
    static let family: UInt16 = 28

    static func backend(_ transport: ScriptedWireGuardTransport) -> KernelWireGuard {
        KernelWireGuard(netlink: WireGuardNetlink(family: family, transport: transport))
    }

    @Test("apply, update in place and set identity send exactly the WG_CMD_SET_DEVICE messages built for them")
    func operationsSendTheirMessages() throws {
        let transport = ScriptedWireGuardTransport()
        let backend = Self.backend(transport)
        let keys = WireGuardKeyPair()
        let configuration = WireGuardTests.configuration(keys: keys)

        try backend.apply(configuration, interface: "weft-wg")
        #expect(transport.take() == (try WireGuardMessages.setDevice(configuration.kernelDevice(interface: "weft-wg"), family: Self.family)))

        let kept = configuration.peers[0]
        let added = WireGuardPeer(publicKey: EncryptedPeerPlanTests.key(9), endpoint: WireGuardEndpoint("192.0.2.9:51820")!,
                                  allowedIPs: [InterfaceAddress("100.64.0.9/32")!])
        let gone = configuration.peers[1].publicKey
        try backend.update(peers: [kept, added], present: [kept.publicKey, gone], keepaliveSeconds: 25, interface: "weft-wg")
        #expect(transport.take() == (try WireGuardMessages.updatePeers(
            interface: "weft-wg", peers: [kept, added].map(KernelWireGuard.kernelPeer), keepaliveSeconds: 25,
            removing: [gone.bytes], family: Self.family)))

        let rotated = WireGuardKeyPair()
        try backend.setIdentity(keys: rotated, listenPort: nil, interface: "weft-wg")
        #expect(transport.take() == [try WireGuardMessages.setIdentity(
            interface: "weft-wg", privateKey: rotated.privateKey.bytes, listenPort: nil, family: Self.family)])
        #expect(backend.statusLimits.maximumPeers == 2 + KernelWireGuard.peerMargin)
    }

    @Test("a device dump reads as the same status as wireguard-go's, so only the handshaken peer gets FDB entries")
    func statusFeedsTheFailClosedRule() throws {
        let handshaken = WireGuardStatus.Peer(
            publicKey: EncryptedPeerPlanTests.key(2), endpoint: WireGuardEndpoint("192.0.2.12:51820"),
            allowedIPs: [InterfaceAddress("100.64.2.12/32")!], lastHandshakeSeconds: 1_700_000_000, receivedBytes: 2000,
            transmittedBytes: 1000)
        let pending = WireGuardStatus.Peer(
            publicKey: EncryptedPeerPlanTests.key(3), endpoint: WireGuardEndpoint("192.0.2.13:51820"),
            allowedIPs: [InterfaceAddress("100.64.2.13/32")!])
        let transport = ScriptedWireGuardTransport()
        transport.reply.withLock {
            $0 = DeviceDumpReply.message(family: Self.family, interface: "weft-wg", listenPort: 51820, peers: [handshaken, pending])
        }
        let kernel = try Self.backend(transport).status(interface: "weft-wg")
        #expect(transport.take() == [try WireGuardMessages.getDevice(interface: "weft-wg", family: Self.family)])
        let uapi = try WireGuardUAPI.parseStatus("""
            private_key=\(String(repeating: "aa", count: 32))
            listen_port=51820
            public_key=\(handshaken.publicKey.hex)
            endpoint=192.0.2.12:51820
            last_handshake_time_sec=1700000000
            last_handshake_time_nsec=0
            rx_bytes=2000
            tx_bytes=1000
            allowed_ip=100.64.2.12/32
            public_key=\(pending.publicKey.hex)
            endpoint=192.0.2.13:51820
            last_handshake_time_sec=0
            rx_bytes=0
            tx_bytes=0
            allowed_ip=100.64.2.13/32
            errno=0


            """)
        #expect(kernel == WireGuardStatus(listenPort: 51820, peers: [handshaken, pending]))
        #expect(kernel == uapi)
        let announcements = ["a", "b", "c"].enumerated().map { index, host in
            EncryptedPeerPlanTests.definition(host, key: EncryptedPeerPlanTests.key(UInt8(index + 1)))
        }
        func plan(_ device: WireGuardStatus) -> EncryptedPeerPlan {
            EncryptedPeerPlan.plan(localHost: "a", encrypted: [EncryptedPeerPlanTests.vni], announcements: announcements,
                                   advertised: EncryptedPeerPlanTests.hosts, device: device)
        }
        let fromKernel = plan(kernel)
        #expect(fromKernel == plan(uapi))
        #expect(fromKernel.reachable[EncryptedPeerPlanTests.vni]?.keys.sorted() == ["b"])
        #expect(fromKernel.excluded["c"] == "WireGuard peer has not handshaken yet")
    }

    @Test("a refusal is a typed error naming the interface, the command, the errno and the kernel's text; a bad dump too")
    func refusalsAreTyped() {
        let refusing = ScriptedWireGuardTransport(refusal: (EINVAL, "invalid peer"))
        let backend = Self.backend(refusing)
        let configuration = WireGuardTests.configuration(keys: WireGuardKeyPair())
        #expect(throws: WireGuardError.kernel(interface: "weft-wg", .rejected(object: "WG_CMD_SET_DEVICE", errno: EINVAL, kernelMessage: "invalid peer"))) {
            try backend.apply(configuration, interface: "weft-wg")
        }
        do {
            try backend.setIdentity(keys: WireGuardKeyPair(), listenPort: nil, interface: "weft-wg")
            Issue.record("a refused key was taken")
        } catch {
            #expect("\(error)" == "kernel WireGuard interface weft-wg: WG_CMD_SET_DEVICE: Invalid argument (kernel: invalid peer)")
        }
        #expect(throws: WireGuardError.kernel(interface: "weft-wg", .rejected(object: "WG_CMD_GET_DEVICE weft-wg", errno: EINVAL, kernelMessage: "invalid peer"))) {
            _ = try backend.status(interface: "weft-wg")
        }
        let garbled = ScriptedWireGuardTransport()
        garbled.reply.withLock { $0 = [1, 2, 3] }
        #expect {
            _ = try Self.backend(garbled).status(interface: "weft-wg")
        } throws: { error in
            guard case WireGuardError.kernel(interface: "weft-wg", .malformedMessage) = error else { return false }
            return true
        }
    }

    @Test("bring-up makes a link of kind wireguard and configures it; a second weft adopts it with the key only; tear-down removes it")
    func deviceLifecycleOnTheDryRunKernel() throws {
        let printed = Mutex<[String]>([])
        let netlink = DryRunBackend(seedFromCurrentNamespace: false) { line in printed.withLock { $0.append(line) } }
        let session = try netlink.session(in: .current)
        let transport = ScriptedWireGuardTransport()
        let device = KernelWireGuardDevice(backend: Self.backend(transport), ipCommand: ["/bin/true"],
                                           launch: { try ProcessLauncher.start($0) })
        let keys = WireGuardKeyPair()
        let configuration = WireGuardTests.configuration(keys: keys)
        let tunnel = TunnelAddressing.address(for: IPAddress("192.0.2.7")!)

        #expect(try device.bringUp(configuration, tunnel: tunnel, mtu: 1440, session: session) == .started)
        #expect(printed.withLock { $0 } == [
            "ip link add weft-wg mtu 1440 type wireguard",
            "ip addr add 100.64.2.7/10 dev weft-wg",
            "ip link set dev weft-wg up mtu 1440",
        ])
        #expect(transport.take() == (try WireGuardMessages.setDevice(configuration.kernelDevice(interface: "weft-wg"), family: Self.family)))

        transport.reply.withLock {
            $0 = DeviceDumpReply.message(family: Self.family, interface: "weft-wg", listenPort: 51820, peers: [])
        }
        #expect(try device.bringUp(configuration, tunnel: tunnel, mtu: 1440, session: session) == .adopted)
        #expect(transport.take() == [
            try WireGuardMessages.getDevice(interface: "weft-wg", family: Self.family),
            try WireGuardMessages.setIdentity(interface: "weft-wg", privateKey: keys.privateKey.bytes, listenPort: nil, family: Self.family),
        ])

        device.tearDown(session: session)
        #expect(try session.link(.name("weft-wg")) == nil)
    }

    @Test("this kernel, from a test namespace: without WireGuard, opening the backend and creating weft-wg are refused naming the cause; requests to an absent family fail typed",
          .enabled(if: Privileges.canRunKernelTests, "needs root for a network namespace"))
    func realKernelRefusals() throws {
        guard access("/sys/module/wireguard", F_OK) != 0 else { return }  // a kernel with WireGuard: nothing refused
        try TestNamespaces.with("kwg") { namespaces in
            #expect(throws: WireGuardError.kernelUnavailable(reason: WireGuardSelectionTests.noFamily.description)) {
                _ = try KernelWireGuard.open(namespace: namespaces[0])
            }
            // No family by this id: genetlink answers ENOENT, acknowledged and matched by sequence.
            let absent = KernelWireGuard(netlink: try WireGuardNetlink.open(family: 0xFFF0, namespace: namespaces[0]))
            let configuration = WireGuardTests.configuration(keys: WireGuardKeyPair())
            #expect {
                try absent.apply(configuration, interface: "weft-wg")
            } throws: { error in
                guard case WireGuardError.kernel(interface: "weft-wg", .notFound(object: "WG_CMD_SET_DEVICE", _)) = error else { return false }
                return true
            }
            #expect {
                _ = try absent.status(interface: "weft-wg")
            } throws: { error in
                guard case WireGuardError.kernel(interface: "weft-wg", .notFound(object: "WG_CMD_GET_DEVICE weft-wg", _)) = error else { return false }
                return true
            }
            // rtnetlink has no link kind "wireguard" here: the device is refused with the kernel's reason.
            let device = KernelWireGuardDevice(backend: absent, ipCommand: ["/bin/true"], launch: { try ProcessLauncher.start($0) })
            let session = try KernelBackend().session(in: namespaces[0])
            do {
                try device.bringUp(configuration, tunnel: TunnelAddressing.address(for: IPAddress("192.0.2.7")!), mtu: 1440, session: session)
                Issue.record("weft-wg of kind wireguard was created on a kernel without WireGuard")
            } catch {
                guard case WireGuardDeviceError.netlink(interface: "weft-wg", let cause) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(cause.errno == EOPNOTSUPP, "\(error)")
                #expect("\(error)".contains("weft-wg"), "\(error)")
            }
            #expect(try session.link(.name("weft-wg")) == nil)
        }
    }
}
