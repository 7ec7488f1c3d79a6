import CMnl
import Glibc

/// The kernel WireGuard's generic-netlink requests (<linux/wireguard.h>), built with libmnl like the rtnetlink
/// ones: resolving the `wireguard` family, and `WG_CMD_SET_DEVICE` making a device's key, port and peers exactly
/// the given ones. Sequence and port numbers are left zero for the transport to stamp.
public enum WireGuardMessages {
    /// A peer as the kernel takes it.
    public struct Peer: Sendable, Equatable {
        public var publicKey: [UInt8]
        public var endpoint: IPAddress
        public var port: UInt16
        public var allowedIPs: [InterfaceAddress]

        public init(publicKey: [UInt8], endpoint: IPAddress, port: UInt16, allowedIPs: [InterfaceAddress]) {
            self.publicKey = publicKey
            self.endpoint = endpoint
            self.port = port
            self.allowedIPs = allowedIPs
        }
    }

    /// A device's whole configuration.
    public struct Device: Sendable, Equatable {
        public var interface: String
        public var privateKey: [UInt8]
        public var listenPort: UInt16
        public var peers: [Peer]

        public init(interface: String, privateKey: [UInt8], listenPort: UInt16, peers: [Peer]) {
            self.interface = interface
            self.privateKey = privateKey
            self.listenPort = listenPort
            self.peers = peers
        }
    }

    /// Bytes per message: peers beyond it go into further messages, as `wg` splits them.
    public static let messageCapacity = 4096

    /// `CTRL_CMD_GETFAMILY` for `wireguard`: the reply carries the family's id, the message type of every request.
    public static func resolveFamily() -> [UInt8] {
        MessageWriter.build(type: Int(GENL_ID_CTRL), flags: NLM_F_REQUEST | NLM_F_ACK) { message in
            message.putFamilyHeader(genlmsghdr(cmd: UInt8(CTRL_CMD_GETFAMILY), version: 1, reserved: 0))
            message.put(Int(CTRL_ATTR_FAMILY_NAME), nulTerminated: WG_GENL_NAME)
        }
    }

    /// `WG_CMD_SET_DEVICE` messages for `device`: the first names the device, sets the key and port and replaces
    /// all peers with the ones it carries; the following ones (if the peers do not fit in one) add the rest.
    /// Each peer's allowed IPs replace its old ones.
    public static func setDevice(_ device: Device, family: UInt16) throws(NetlinkError) -> [[UInt8]] {
        guard device.privateKey.count == Int(WG_KEY_LEN) else {
            throw .invalidOperation(object: "wireguard \(device.interface)", reason: "a private key is \(WG_KEY_LEN) bytes")
        }
        guard device.interface.utf8.count < Int(IFNAMSIZ), !device.interface.isEmpty else {
            throw .invalidOperation(object: "wireguard \(device.interface)", reason: "not an interface name")
        }
        for peer in device.peers where peer.publicKey.count != Int(WG_KEY_LEN) {
            throw .invalidOperation(object: "wireguard \(device.interface)", reason: "a peer's public key is \(WG_KEY_LEN) bytes")
        }
        var batches: [[Peer]] = [[]]
        var used = 128  // headers, name, key, port, flags
        for peer in device.peers {
            let size = 128 + 40 * peer.allowedIPs.count
            if used + size > messageCapacity, !batches[batches.count - 1].isEmpty {
                batches.append([])
                used = 64
            }
            batches[batches.count - 1].append(peer)
            used += size
        }
        return batches.enumerated().map { index, peers in
            MessageWriter.build(type: Int(family), flags: NLM_F_REQUEST | NLM_F_ACK, capacity: messageCapacity + 1024) { message in
                message.putFamilyHeader(genlmsghdr(cmd: UInt8(WG_CMD_SET_DEVICE.rawValue), version: UInt8(WG_GENL_VERSION), reserved: 0))
                message.put(Int(WGDEVICE_A_IFNAME.rawValue), nulTerminated: device.interface)
                if index == 0 {
                    message.put(Int(WGDEVICE_A_PRIVATE_KEY.rawValue), bytes: device.privateKey)
                    message.put(Int(WGDEVICE_A_LISTEN_PORT.rawValue), u16: device.listenPort)
                    message.put(Int(WGDEVICE_A_FLAGS.rawValue), u32: WGDEVICE_F_REPLACE_PEERS.rawValue)
                }
                guard !peers.isEmpty else { return }
                message.nest(Int(WGDEVICE_A_PEERS.rawValue)) {
                    for (position, peer) in peers.enumerated() {
                        message.nest(position) { put(peer, into: message) }
                    }
                }
            }
        }
    }

    private static func put(_ peer: Peer, into message: MessageWriter) {
        message.put(Int(WGPEER_A_PUBLIC_KEY.rawValue), bytes: peer.publicKey)
        message.put(Int(WGPEER_A_FLAGS.rawValue), u32: WGPEER_F_REPLACE_ALLOWEDIPS.rawValue)
        message.put(Int(WGPEER_A_ENDPOINT.rawValue), bytes: socketAddress(peer.endpoint, port: peer.port))
        message.nest(Int(WGPEER_A_ALLOWEDIPS.rawValue)) {
            for (position, allowed) in peer.allowedIPs.enumerated() {
                message.nest(position) {
                    message.put(Int(WGALLOWEDIP_A_FAMILY.rawValue), u16: UInt16(allowed.address.family))
                    message.put(Int(WGALLOWEDIP_A_IPADDR.rawValue), bytes: allowed.address.bytes)
                    message.put(Int(WGALLOWEDIP_A_CIDR_MASK.rawValue), u8: allowed.prefixLength)
                }
            }
        }
    }

    /// `sockaddr_in` (16 bytes) or `sockaddr_in6` (28 bytes): family in host order, port in network order.
    static func socketAddress(_ address: IPAddress, port: UInt16) -> [UInt8] {
        let family = UInt16(address.family)
        var bytes = withUnsafeBytes(of: family) { Array($0) } + [UInt8(port >> 8), UInt8(port & 0xFF)]
        if address.isIPv4 {
            bytes += address.bytes + [UInt8](repeating: 0, count: 8)
        } else {
            bytes += [0, 0, 0, 0] + address.bytes + [0, 0, 0, 0]  // flowinfo, address, scope id
        }
        return bytes
    }
}
