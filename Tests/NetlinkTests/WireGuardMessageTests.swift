import Testing
@testable import Netlink
import TestSupport

/// The kernel WireGuard's generic-netlink requests against annotated dumps of the exact bytes, annotated from
/// <linux/genetlink.h> and <linux/wireguard.h> (this machine's kernel has no WireGuard to capture them from).
struct WireGuardMessageTests {
    static let privateKey = [UInt8](repeating: 0xAA, count: 32)
    static let publicKey = [UInt8](repeating: 0xBB, count: 32)

    @Test("CTRL_CMD_GETFAMILY for \"wireguard\"")
    func resolveFamily() {
        let golden = """
            24000000100005000000000000000000 // nlmsghdr: len 36, GENL_ID_CTRL (16), REQUEST|ACK, seq 0, port 0
            03010000 // genlmsghdr: CTRL_CMD_GETFAMILY, version 1
            0e000200 776972656775617264000000 // CTRL_ATTR_FAMILY_NAME "wireguard" NUL-terminated
            """
        #expect(hexString(WireGuardMessages.resolveFamily()) == hexString(hex(golden)))
    }

    @Test("WG_CMD_SET_DEVICE: key, port, replace peers; a peer with its endpoint and allowed IP")
    func setDevice() throws {
        let device = WireGuardMessages.Device(
            interface: "weft-wg", privateKey: Self.privateKey, listenPort: 51820,
            peers: [.init(publicKey: Self.publicKey, endpoint: IPAddress("192.0.2.2")!, port: 51820,
                          allowedIPs: [InterfaceAddress("100.64.0.2/32")!])])
        let golden = """
            bc0000001c0005000000000000000000 // nlmsghdr: len 188, family 28 (as resolved), REQUEST|ACK, seq 0, port 0
            01010000 // genlmsghdr: WG_CMD_SET_DEVICE, WG_GENL_VERSION 1
            0c000200 776566742d776700 // WGDEVICE_A_IFNAME "weft-wg" NUL-terminated
            24000300 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa // WGDEVICE_A_PRIVATE_KEY
            06000600 6cca0000 // WGDEVICE_A_LISTEN_PORT 51820 (host order)
            08000500 01000000 // WGDEVICE_A_FLAGS WGDEVICE_F_REPLACE_PEERS
            68000880 // WGDEVICE_A_PEERS (NLA_F_NESTED), 104 bytes
                64000080 // peer 0 (NLA_F_NESTED), 100 bytes
                    24000100 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb // WGPEER_A_PUBLIC_KEY
                    08000300 02000000 // WGPEER_A_FLAGS WGPEER_F_REPLACE_ALLOWEDIPS
                    14000400 0200ca6c c0000202 0000000000000000 // WGPEER_A_ENDPOINT sockaddr_in AF_INET, :51820, 192.0.2.2
                    20000980 // WGPEER_A_ALLOWEDIPS (NLA_F_NESTED), 32 bytes
                        1c000080 // allowed IP 0 (NLA_F_NESTED), 28 bytes
                            06000100 02000000 // WGALLOWEDIP_A_FAMILY AF_INET
                            08000200 64400002 // WGALLOWEDIP_A_IPADDR 100.64.0.2
                            05000300 20000000 // WGALLOWEDIP_A_CIDR_MASK 32
            """
        let messages = try WireGuardMessages.setDevice(device, family: 28)
        #expect(messages.count == 1)
        #expect(hexString(messages[0]) == hexString(hex(golden)))
    }

    @Test("WG_CMD_GET_DEVICE: a dump (REQUEST|ACK|DUMP) naming the interface, as wg show sends it")
    func getDevice() throws {
        let golden = """
            200000001c0005030000000000000000 // nlmsghdr: len 32, family 28, REQUEST|ACK|DUMP (0x305), seq 0, port 0
            00010000 // genlmsghdr: WG_CMD_GET_DEVICE, WG_GENL_VERSION 1
            0c000200 776566742d776700 // WGDEVICE_A_IFNAME "weft-wg" NUL-terminated
            """
        #expect(hexString(try WireGuardMessages.getDevice(interface: "weft-wg", family: 28)) == hexString(hex(golden)))
        #expect(throws: NetlinkError.self) { _ = try WireGuardMessages.getDevice(interface: "a-name-far-too-long", family: 28) }
    }

    @Test("WG_CMD_SET_DEVICE for a key rotation: the key (and the port when given), no flags, no peers")
    func setIdentity() throws {
        let golden = """
            4c0000001c0005000000000000000000 // nlmsghdr: len 76, family 28, REQUEST|ACK
            01010000 // genlmsghdr: WG_CMD_SET_DEVICE, version 1
            0c000200 776566742d776700 // WGDEVICE_A_IFNAME "weft-wg"
            24000300 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa // WGDEVICE_A_PRIVATE_KEY
            06000600 6cca0000 // WGDEVICE_A_LISTEN_PORT 51820
            """
        let message = try WireGuardMessages.setIdentity(interface: "weft-wg", privateKey: Self.privateKey, listenPort: 51820, family: 28)
        #expect(hexString(message) == hexString(hex(golden)))
        let keyOnly = try WireGuardMessages.setIdentity(interface: "weft-wg", privateKey: Self.privateKey, listenPort: nil, family: 28)
        #expect(keyOnly.count == 68 && keyOnly[0] == 68 && hexString(keyOnly).hasSuffix(hexString(Self.privateKey)))
        #expect(throws: NetlinkError.self) {
            _ = try WireGuardMessages.setIdentity(interface: "weft-wg", privateKey: [1], listenPort: nil, family: 28)
        }
    }

    @Test("WG_CMD_SET_DEVICE in place: no REPLACE_PEERS; a peer set with keepalive and its allowed IPs replaced; a peer removed with REMOVE_ME")
    func updatePeers() throws {
        let peer = WireGuardMessages.Peer(publicKey: Self.publicKey, endpoint: IPAddress("192.0.2.2")!, port: 51820,
                                          allowedIPs: [InterfaceAddress("100.64.0.2/32")!])
        let golden = """
            c00000001c0005000000000000000000 // nlmsghdr: len 192, family 28, REQUEST|ACK
            01010000 // genlmsghdr: WG_CMD_SET_DEVICE, version 1
            0c000200 776566742d776700 // WGDEVICE_A_IFNAME "weft-wg"; no key, port or WGDEVICE_A_FLAGS
            a0000880 // WGDEVICE_A_PEERS (NLA_F_NESTED), 160 bytes
                6c000080 // peer 0, 108 bytes
                    24000100 bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb // WGPEER_A_PUBLIC_KEY
                    08000300 02000000 // WGPEER_A_FLAGS WGPEER_F_REPLACE_ALLOWEDIPS (not UPDATE_ONLY: a new peer is created)
                    14000400 0200ca6c c0000202 0000000000000000 // WGPEER_A_ENDPOINT 192.0.2.2:51820
                    06000500 19000000 // WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL 25
                    20000980 // WGPEER_A_ALLOWEDIPS
                        1c000080 06000100 02000000 08000200 64400002 05000300 20000000 // AF_INET 100.64.0.2/32
                30000180 // peer 1, 48 bytes
                    24000100 cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc // WGPEER_A_PUBLIC_KEY
                    08000300 01000000 // WGPEER_A_FLAGS WGPEER_F_REMOVE_ME
            """
        let messages = try WireGuardMessages.updatePeers(
            interface: "weft-wg", peers: [peer], keepaliveSeconds: 25, removing: [[UInt8](repeating: 0xCC, count: 32)], family: 28)
        #expect(messages.count == 1)
        #expect(hexString(messages[0]) == hexString(hex(golden)))
        #expect(throws: NetlinkError.self) {
            _ = try WireGuardMessages.updatePeers(interface: "weft-wg", peers: [], keepaliveSeconds: 25, removing: [[1, 2]], family: 28)
        }
        var crowded = peer
        crowded.allowedIPs = (0..<65).map { InterfaceAddress("100.64.1.\($0)/32")! }
        #expect(throws: NetlinkError.self) {
            _ = try WireGuardMessages.updatePeers(interface: "weft-wg", peers: [crowded], keepaliveSeconds: 25, removing: [], family: 28)
        }
    }

    @Test("many peers are split across messages; only the first replaces the peers; bad keys are refused")
    func splitAndRefusals() throws {
        let peers = (0..<100).map { index in
            WireGuardMessages.Peer(publicKey: [UInt8](repeating: UInt8(index), count: 32), endpoint: IPAddress("192.0.2.\(index + 1)")!,
                                   port: 51820, allowedIPs: [InterfaceAddress("100.64.0.\(index + 1)/32")!])
        }
        let device = WireGuardMessages.Device(interface: "weft-wg", privateKey: Self.privateKey, listenPort: 51820, peers: peers)
        let messages = try WireGuardMessages.setDevice(device, family: 28)
        #expect(messages.count > 1)
        #expect(messages.allSatisfy { $0.count <= WireGuardMessages.messageCapacity })
        let replacePeers: [UInt8] = [0x08, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00]
        #expect(messages[0].firstRange(of: replacePeers) != nil)
        #expect(messages.dropFirst().allSatisfy { $0.firstRange(of: replacePeers) == nil })
        var short = device
        short.privateKey = [1, 2, 3]
        #expect(throws: NetlinkError.self) { _ = try WireGuardMessages.setDevice(short, family: 28) }
        var badPeer = device
        badPeer.peers[0].publicKey = []
        #expect(throws: NetlinkError.self) { _ = try WireGuardMessages.setDevice(badPeer, family: 28) }
    }
}

/// The reply to CTRL_CMD_GETFAMILY: the family id read from it, a reply without one refused.
struct WireGuardFamilyReplyTests {
    @Test("CTRL_ATTR_FAMILY_ID from a CTRL_CMD_NEWFAMILY reply")
    func familyID() throws {
        let reply: [UInt8] = [
            36, 0, 0, 0,  // nlmsg_len
            16, 0,  // GENL_ID_CTRL
            0, 0, 1, 0, 0, 0, 0, 0, 0, 0,  // flags, sequence, port
            1, 2, 0, 0,  // genlmsghdr: CTRL_CMD_NEWFAMILY, version 2
            14, 0, 2, 0, 0x77, 0x69, 0x72, 0x65, 0x67, 0x75, 0x61, 0x72, 0x64, 0,  // CTRL_ATTR_FAMILY_NAME "wireguard"
            0, 0,  // padding
        ]
        var withID = reply + [6, 0, 1, 0, 27, 0, 0, 0]  // CTRL_ATTR_FAMILY_ID 27, padded
        withID[0] = UInt8(withID.count)
        #expect(try WireGuardFamily.familyID(in: withID) == 27)
        #expect(throws: NetlinkError.self) { try WireGuardFamily.familyID(in: reply) }
    }
}
