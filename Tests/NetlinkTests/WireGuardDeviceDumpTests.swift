import Testing
@testable import Netlink
import TestSupport

/// The `WG_CMD_GET_DEVICE` dump parser, on replies written by hand from <linux/wireguard.h> (this kernel has no
/// WireGuard to capture them from): the fields weft reads, a dump split over messages, and every malformed or
/// oversized reply refused with a typed error, never a trap.
struct WireGuardDeviceDumpTests {
    static let family: UInt16 = 28
    static let limits = WireGuardDeviceDump.Limits(maximumPeers: 16, maximumAllowedIPs: 8)
    static func key(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 32) }

    /// One message of a dump as the kernel's wg_get_device_dump writes it, on x86-64 (no 64-bit padding).
    static let onePeer = """
        40010000 1c00 0200 01000000 00000000 // nlmsghdr: len 320, family 28, NLM_F_MULTI, seq 1, port 0
        00010000 // genlmsghdr: WG_CMD_GET_DEVICE, version 1
        06000600 6cca0000 // WGDEVICE_A_LISTEN_PORT 51820
        08000700 00000000 // WGDEVICE_A_FWMARK 0
        08000100 05000000 // WGDEVICE_A_IFINDEX 5
        0c000200 776566742d776700 // WGDEVICE_A_IFNAME "weft-wg"
        24000300 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa // WGDEVICE_A_PRIVATE_KEY (not kept)
        24000400 dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd // WGDEVICE_A_PUBLIC_KEY
        c0000880 // WGDEVICE_A_PEERS (NLA_F_NESTED), 192 bytes
            bc000080 // peer 0, 188 bytes
                24000100 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb // WGPEER_A_PUBLIC_KEY
                24000200 0000000000000000000000000000000000000000000000000000000000000000 // WGPEER_A_PRESHARED_KEY
                14000600 00f1536500000000 0500000000000000 // WGPEER_A_LAST_HANDSHAKE_TIME 1700000000 s, 5 ns
                06000500 19000000 // WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL 25
                0c000800 e803000000000000 // WGPEER_A_TX_BYTES 1000
                0c000700 d007000000000000 // WGPEER_A_RX_BYTES 2000
                08000a00 01000000 // WGPEER_A_PROTOCOL_VERSION 1
                14000400 0200ca6c c0000202 0000000000000000 // WGPEER_A_ENDPOINT sockaddr_in 192.0.2.2:51820
                20000980 // WGPEER_A_ALLOWEDIPS
                    1c000080 06000100 02000000 08000200 64400002 05000300 20000000 // AF_INET 100.64.0.2/32
        """

    @Test("one peer: port, public key, endpoint, handshake, counters, keepalive, allowed IP; the private key is dropped")
    func onePeer() throws {
        let dump = try WireGuardDeviceDump.parse(hex(Self.onePeer), family: Self.family, interface: "weft-wg", limits: Self.limits)
        var peer = WireGuardDeviceDump.Peer(publicKey: Self.key(0xBB))
        peer.endpoint = IPAddress("192.0.2.2")
        peer.endpointPort = 51820
        peer.lastHandshakeSeconds = 1_700_000_000
        peer.receivedBytes = 2000
        peer.transmittedBytes = 1000
        peer.keepaliveSeconds = 25
        peer.allowedIPs = [InterfaceAddress("100.64.0.2/32")!]
        #expect(dump == WireGuardDeviceDump(listenPort: 51820, publicKey: Self.key(0xDD), peers: [peer]))
    }

    // MARK: building replies attribute by attribute

    static func attribute(_ type: Int, _ payload: [UInt8], nested: Bool = false) -> [UInt8] {
        let length = 4 + payload.count
        var bytes: [UInt8] = [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(type), UInt8(type >> 8) | (nested ? 0x80 : 0)]
        bytes += payload
        while bytes.count % 4 != 0 { bytes.append(0) }
        return bytes
    }

    static func nest(_ type: Int, _ children: [[UInt8]]) -> [UInt8] { attribute(type, Array(children.joined()), nested: true) }
    static func u16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    static func u64(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8((value >> (8 * UInt64($0))) & 0xFF) } }

    static func message(_ attributes: [[UInt8]], type: UInt16 = family, command: UInt8 = 0) -> [UInt8] {
        let body: [UInt8] = [command, 1, 0, 0] + Array(attributes.joined())
        let length = 16 + body.count
        var header: [UInt8] = [UInt8(length & 0xFF), UInt8(length >> 8), 0, 0]
        header += u16(type)
        header += [2, 0, 1, 0, 0, 0, 0, 0, 0, 0]  // NLM_F_MULTI, sequence 1, port 0
        return header + body
    }

    static func allowed(_ a: UInt8, _ b: UInt8) -> [UInt8] {
        nest(0, [attribute(1, u16(2)), attribute(2, [100, 64, a, b]), attribute(3, [32])])
    }

    static func allowedV6(_ last: UInt8, prefix: UInt8 = 128) -> [UInt8] {
        let address: [UInt8] = [0xfd] + [UInt8](repeating: 0, count: 14) + [last]
        return nest(0, [attribute(1, u16(10)), attribute(2, address), attribute(3, [prefix])])
    }

    static func peer(_ byte: UInt8, handshake: UInt64 = 0, allowed: [[UInt8]], full: Bool = true) -> [UInt8] {
        var children = [attribute(1, key(byte))]
        if full {
            children.append(attribute(6, u64(handshake) + u64(0)))
            children.append(attribute(7, u64(10)))
            children.append(attribute(8, u64(20)))
            var v6: [UInt8] = u16(10) + [0xCA, 0x6C, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8]
            v6 += [UInt8](repeating: 0, count: 11)
            v6 += [byte, 0, 0, 0, 0]
            children.append(attribute(4, v6))
        }
        children.append(nest(9, allowed))
        return nest(0, children)
    }

    static let name = attribute(2, Array("weft-wg".utf8) + [0])

    /// Three peers over two messages; the second peer's allowed IPs continue in the second message, which
    /// repeats only its key and the rest of them (wireguard.h's "coalesce adjacent peers").
    static let twoMessages =
        message([attribute(6, u16(51820)), name, nest(8, [
            peer(1, handshake: 1_700_000_000, allowed: [allowed(0, 1)]),
            peer(2, allowed: [allowed(0, 2), allowedV6(2)]),
        ])])
        + message([name, nest(8, [
            peer(2, allowed: [allowed(0, 3)], full: false),
            peer(3, handshake: 1_700_000_100, allowed: [allowed(0, 4)]),
        ])])

    @Test("several peers across two messages: a continued peer is joined, IPv6 endpoints and allowed IPs read")
    func twoMessages() throws {
        let dump = try WireGuardDeviceDump.parse(Self.twoMessages, family: Self.family, interface: "weft-wg", limits: Self.limits)
        #expect(dump.listenPort == 51820 && dump.publicKey == nil)
        #expect(dump.peers.map(\.publicKey) == [Self.key(1), Self.key(2), Self.key(3)])
        #expect(dump.peers.map(\.lastHandshakeSeconds) == [1_700_000_000, 0, 1_700_000_100])
        #expect(dump.peers[1].allowedIPs == ["100.64.0.2/32", "fd00::2/128", "100.64.0.3/32"].map { InterfaceAddress($0)! })
        #expect(dump.peers[2].endpoint == IPAddress("2001:db8::3") && dump.peers[2].endpointPort == 51820)
        #expect(dump.peers[0].receivedBytes == 10 && dump.peers[0].transmittedBytes == 20)
    }

    static func refusal(_ reply: [UInt8], limits: WireGuardDeviceDump.Limits = limits) -> String? {
        do {
            _ = try WireGuardDeviceDump.parse(reply, family: family, interface: "weft-wg", limits: limits)
            return nil
        } catch {
            guard case .malformedMessage(let reason) = error else { return "not malformedMessage: \(error)" }
            return reason
        }
    }

    @Test("truncated, oversized and out-of-bounds replies are refused with a typed error naming the cause")
    func refusals() {
        let good = [Self.peer(1, allowed: [Self.allowed(0, 1)])]
        // An attribute claiming more bytes than its message holds.
        var truncated = Self.message([Self.name, Self.nest(8, good)])
        truncated[16 + 4 + 12] = 0xF0
        #expect(Self.refusal(truncated)?.contains("claims 240 bytes") == true, "\(Self.refusal(truncated) ?? "accepted")")
        // Wrong lengths.
        let longKey = Self.message([Self.nest(8, [Self.nest(0, [Self.attribute(1, Self.key(1) + [0])])])])
        #expect(Self.refusal(longKey) == "WGPEER_A_PUBLIC_KEY of 33 bytes, not 32")
        let shortEndpoint = Self.message([Self.nest(8, [Self.nest(0, [Self.attribute(1, Self.key(1)), Self.attribute(4, [2, 0, 0xCA, 0x6C, 192, 0, 2])])])])
        #expect(Self.refusal(shortEndpoint) == "WGPEER_A_ENDPOINT (sockaddr_in) of 7 bytes, not 16")
        let shortTime = Self.message([Self.nest(8, [Self.nest(0, [Self.attribute(1, Self.key(1)), Self.attribute(6, Self.u64(1))])])])
        #expect(Self.refusal(shortTime) == "WGPEER_A_LAST_HANDSHAKE_TIME of 8 bytes, not 16")
        let badMask = Self.message([Self.nest(8, [Self.peer(1, allowed: [Self.allowedV6(1, prefix: 129)])])])
        #expect(Self.refusal(badMask)?.hasPrefix("an allowed IP of family 10") == true)
        let keyless = Self.message([Self.nest(8, [Self.nest(0, [Self.nest(9, [Self.allowed(0, 1)])])])])
        #expect(Self.refusal(keyless) == "a WireGuard peer without WGPEER_A_PUBLIC_KEY")
        // Another interface, another family, another command, nothing at all.
        let other = Self.message([Self.attribute(2, Array("eth0".utf8) + [0])])
        #expect(Self.refusal(other) == "WireGuard dump of weft-wg names another interface")
        #expect(Self.refusal(Self.message([Self.name], type: 29))?.contains("not the family's 28") == true)
        #expect(Self.refusal(Self.message([Self.name], command: 1))?.contains("not WG_CMD_GET_DEVICE") == true)
        #expect(Self.refusal([]) == "WireGuard dump of weft-wg has no message")
        // Bounds: peers, allowed IPs per peer (also summed over continuations), bytes.
        let tight = WireGuardDeviceDump.Limits(maximumPeers: 2, maximumAllowedIPs: 3)
        #expect(Self.refusal(Self.twoMessages, limits: tight) == "WireGuard dump of weft-wg has more than 2 peers")
        let crowded = WireGuardDeviceDump.Limits(maximumPeers: 16, maximumAllowedIPs: 2)
        #expect(Self.refusal(Self.twoMessages, limits: crowded) == "a WireGuard peer with more than 2 allowed IPs")
        let small = WireGuardDeviceDump.Limits(maximumPeers: 16, maximumBytes: 100)
        #expect(Self.refusal(Self.twoMessages, limits: small)?.contains("more than 100") == true)
    }

    @Test("no byte string traps the parser: every truncation, every single-byte change, random replies")
    func noTrap() {
        let reply = Self.twoMessages + hex(Self.onePeer)
        var outcomes = (accepted: 0, refused: 0)
        func run(_ bytes: [UInt8]) {
            if (try? WireGuardDeviceDump.parse(bytes, family: Self.family, interface: "weft-wg", limits: Self.limits)) != nil {
                outcomes.accepted += 1
            } else {
                outcomes.refused += 1
            }
        }
        for length in 0..<reply.count { run(Array(reply.prefix(length))) }
        for index in reply.indices {
            for value: UInt8 in [0x00, 0x03, 0x7F, 0x80, 0xFF] {
                var changed = reply
                changed[index] = value
                run(changed)
            }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            var bytes = (0..<Int.random(in: 0..<200, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if bytes.count >= 20, Bool.random(using: &generator) {  // a plausible header, random attributes
                bytes.replaceSubrange(0..<8, with: [UInt8(bytes.count), 0, 0, 0, 28, 0, 2, 0])
                bytes[16] = 0
            }
            run(bytes)
        }
        #expect(outcomes.accepted > 0 && outcomes.refused > reply.count)
    }
}
