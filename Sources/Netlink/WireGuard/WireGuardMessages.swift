import CMnl
import Glibc

/// The kernel WireGuard's generic-netlink requests (<linux/wireguard.h>), built with libmnl like the rtnetlink
/// ones: resolving the `wireguard` family, `WG_CMD_SET_DEVICE` making a device's key, port and peers exactly the
/// given ones, changing its peers in place or its key, and `WG_CMD_GET_DEVICE` reading it back. Sequence and port
/// numbers are left zero for the transport to stamp.
public enum WireGuardMessages {
    /// A peer as the kernel takes it.
    public struct Peer: Sendable, Equatable {
        public var publicKey: [UInt8]
        public var endpoint: IPAddress
        public var port: UInt16
        public var allowedIPs: [IPInterface]

        public init(publicKey: [UInt8], endpoint: IPAddress, port: UInt16, allowedIPs: [IPInterface]) {
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

    /// Allowed IPs per peer weft sends (it sets one, the peer's tunnel address): a peer always fits one message.
    public static let maximumAllowedIPs = 64

    /// `WG_CMD_SET_DEVICE` messages for `device`: the first names the device, sets the key and port and replaces
    /// all peers (`WGDEVICE_F_REPLACE_PEERS`) with the ones it carries; the following ones (if the peers do not fit
    /// in one) add the rest. Each peer's allowed IPs replace its old ones (`WGPEER_F_REPLACE_ALLOWEDIPS`).
    public static func setDevice(_ device: Device, family: UInt16) throws(NetlinkError) -> [[UInt8]] {
        guard device.privateKey.count == Int(WG_KEY_LEN) else {
            throw .invalidOperation(object: "wireguard \(device.interface)", reason: "a private key is \(WG_KEY_LEN) bytes")
        }
        try validate(device.interface, peers: device.peers, removing: [])
        let head: (MessageWriter) -> Void = { message in
            message.put(Int(WGDEVICE_A_PRIVATE_KEY.rawValue), bytes: device.privateKey)
            message.put(Int(WGDEVICE_A_LISTEN_PORT.rawValue), u16: device.listenPort)
            message.put(Int(WGDEVICE_A_FLAGS.rawValue), u32: WGDEVICE_F_REPLACE_PEERS.rawValue)
        }
        return setDeviceMessages(device.interface, family: family, head: head, entries: device.peers.map { .set($0, keepalive: nil) })
    }

    /// `WG_CMD_SET_DEVICE` messages that change a running device's peers in place, as `wg set` does: no
    /// `WGDEVICE_F_REPLACE_PEERS`, so the sessions of the peers kept survive; each of `peers` is added or updated
    /// (endpoint, keepalive, allowed IPs replaced), each of `removing` (public keys) is dropped with
    /// `WGPEER_F_REMOVE_ME` (a key the device does not have is no error). `WGPEER_F_UPDATE_ONLY` is not set: a
    /// wanted peer the device lacks is created.
    public static func updatePeers(interface: String, peers: [Peer], keepaliveSeconds: UInt16, removing: [[UInt8]],
                                   family: UInt16) throws(NetlinkError) -> [[UInt8]] {
        try validate(interface, peers: peers, removing: removing)
        let entries = peers.map { PeerEntry.set($0, keepalive: keepaliveSeconds) } + removing.map { PeerEntry.remove($0) }
        return setDeviceMessages(interface, family: family, head: { _ in }, entries: entries)
    }

    /// The `WG_CMD_SET_DEVICE` message that sets the private key, and the port when given, and leaves the peers
    /// (a key rotation, or adopting a running device).
    public static func setIdentity(interface: String, privateKey: [UInt8], listenPort: UInt16?,
                                   family: UInt16) throws(NetlinkError) -> [UInt8] {
        guard privateKey.count == Int(WG_KEY_LEN) else {
            throw .invalidOperation(object: "wireguard \(interface)", reason: "a private key is \(WG_KEY_LEN) bytes")
        }
        try validate(interface, peers: [], removing: [])
        return MessageWriter.build(type: Int(family), flags: NLM_F_REQUEST | NLM_F_ACK) { message in
            message.putFamilyHeader(genlmsghdr(cmd: UInt8(WG_CMD_SET_DEVICE.rawValue), version: UInt8(WG_GENL_VERSION), reserved: 0))
            message.put(Int(WGDEVICE_A_IFNAME.rawValue), nulTerminated: interface)
            message.put(Int(WGDEVICE_A_PRIVATE_KEY.rawValue), bytes: privateKey)
            if let listenPort { message.put(Int(WGDEVICE_A_LISTEN_PORT.rawValue), u16: listenPort) }
        }
    }

    /// `WG_CMD_GET_DEVICE` for `interface`, a dump (`NLM_F_DUMP`) as `wg show` sends it: the reply is one or more
    /// messages (``WireGuardDeviceDump``).
    public static func getDevice(interface: String, family: UInt16) throws(NetlinkError) -> [UInt8] {
        try validate(interface, peers: [], removing: [])
        return MessageWriter.build(type: Int(family), flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP) { message in
            message.putFamilyHeader(genlmsghdr(cmd: UInt8(WG_CMD_GET_DEVICE.rawValue), version: UInt8(WG_GENL_VERSION), reserved: 0))
            message.put(Int(WGDEVICE_A_IFNAME.rawValue), nulTerminated: interface)
        }
    }

    private enum PeerEntry {
        case set(Peer, keepalive: UInt16?)
        case remove([UInt8])

        /// An upper bound of its encoded size.
        var size: Int {
            switch self {
            case .set(let peer, _): 128 + 40 * peer.allowedIPs.count
            case .remove: 64
            }
        }
    }

    private static func validate(_ interface: String, peers: [Peer], removing: [[UInt8]]) throws(NetlinkError) {
        guard interface.utf8.count < Int(IFNAMSIZ), !interface.isEmpty, !interface.utf8.contains(0) else {
            throw .invalidOperation(object: "wireguard \(interface)", reason: "not an interface name")
        }
        for peer in peers where peer.publicKey.count != Int(WG_KEY_LEN) {
            throw .invalidOperation(object: "wireguard \(interface)", reason: "a peer's public key is \(WG_KEY_LEN) bytes")
        }
        for key in removing where key.count != Int(WG_KEY_LEN) {
            throw .invalidOperation(object: "wireguard \(interface)", reason: "a peer's public key is \(WG_KEY_LEN) bytes")
        }
        for peer in peers where peer.allowedIPs.count > maximumAllowedIPs {
            throw .invalidOperation(object: "wireguard \(interface)", reason: "a peer has more than \(maximumAllowedIPs) allowed IPs")
        }
    }

    /// The peers split into messages of at most ``messageCapacity`` bytes; `head` adds the first message's device
    /// attributes.
    private static func setDeviceMessages(_ interface: String, family: UInt16, head: @escaping (MessageWriter) -> Void,
                                          entries: [PeerEntry]) -> [[UInt8]] {
        var batches: [[PeerEntry]] = [[]]
        var used = 128  // headers, name, key, port, flags
        for entry in entries {
            if used + entry.size > messageCapacity, !batches[batches.count - 1].isEmpty {
                batches.append([])
                used = 64
            }
            batches[batches.count - 1].append(entry)
            used += entry.size
        }
        return batches.enumerated().map { index, entries in
            MessageWriter.build(type: Int(family), flags: NLM_F_REQUEST | NLM_F_ACK, capacity: messageCapacity + 1024) { message in
                message.putFamilyHeader(genlmsghdr(cmd: UInt8(WG_CMD_SET_DEVICE.rawValue), version: UInt8(WG_GENL_VERSION), reserved: 0))
                message.put(Int(WGDEVICE_A_IFNAME.rawValue), nulTerminated: interface)
                if index == 0 { head(message) }
                guard !entries.isEmpty else { return }
                message.nest(Int(WGDEVICE_A_PEERS.rawValue)) {
                    for (position, entry) in entries.enumerated() {
                        message.nest(position) {
                            switch entry {
                            case .set(let peer, let keepalive): put(peer, keepalive: keepalive, into: message)
                            case .remove(let key):
                                message.put(Int(WGPEER_A_PUBLIC_KEY.rawValue), bytes: key)
                                message.put(Int(WGPEER_A_FLAGS.rawValue), u32: WGPEER_F_REMOVE_ME.rawValue)
                            }
                        }
                    }
                }
            }
        }
    }

    private static func put(_ peer: Peer, keepalive: UInt16?, into message: MessageWriter) {
        message.put(Int(WGPEER_A_PUBLIC_KEY.rawValue), bytes: peer.publicKey)
        message.put(Int(WGPEER_A_FLAGS.rawValue), u32: WGPEER_F_REPLACE_ALLOWEDIPS.rawValue)
        message.put(Int(WGPEER_A_ENDPOINT.rawValue), bytes: socketAddress(peer.endpoint, port: peer.port))
        if let keepalive { message.put(Int(WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL.rawValue), u16: keepalive) }
        message.nest(Int(WGPEER_A_ALLOWEDIPS.rawValue)) {
            for (position, allowed) in peer.allowedIPs.enumerated() {
                message.nest(position) {
                    message.put(Int(WGALLOWEDIP_A_FAMILY.rawValue), u16: UInt16(allowed.address.family))
                    message.put(Int(WGALLOWEDIP_A_IPADDR.rawValue), bytes: allowed.address.bytes)
                    message.put(Int(WGALLOWEDIP_A_CIDR_MASK.rawValue), u8: UInt8(allowed.prefixLength))
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
