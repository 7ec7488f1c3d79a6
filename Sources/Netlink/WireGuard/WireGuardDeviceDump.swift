import CMnl
import Glibc

/// A kernel WireGuard device as its `WG_CMD_GET_DEVICE` dump reports it (<linux/wireguard.h>): the port, the public
/// key and every peer with its endpoint, last handshake, byte counters and allowed IPs. The reply is input like
/// any other: its size, its peers and each peer's allowed IPs are bounded, every attribute's length is checked,
/// and a reply that breaks a rule is refused whole with ``NetlinkError/malformedMessage(_:)``. Secrets in the
/// reply (the private key, preshared keys) are not kept.
public struct WireGuardDeviceDump: Sendable, Equatable {
    public struct Peer: Sendable, Equatable {
        public var publicKey: [UInt8]
        /// The address and port the peer was last seen at, nil before the device knows one.
        public var endpoint: IPAddress?
        public var endpointPort: UInt16 = 0
        /// Seconds since the epoch of the last handshake; 0 before the first.
        public var lastHandshakeSeconds: Int64 = 0
        public var receivedBytes: UInt64 = 0
        public var transmittedBytes: UInt64 = 0
        public var keepaliveSeconds: UInt16 = 0
        public var allowedIPs: [IPInterface] = []

        public init(publicKey: [UInt8]) { self.publicKey = publicKey }
    }

    /// What a reply may hold.
    public struct Limits: Sendable, Equatable {
        public var maximumPeers: Int
        /// Per peer, after its continuations are joined.
        public var maximumAllowedIPs: Int
        public var maximumBytes: Int

        public init(maximumPeers: Int, maximumAllowedIPs: Int = 256, maximumBytes: Int = 1 << 22) {
            self.maximumPeers = maximumPeers
            self.maximumAllowedIPs = maximumAllowedIPs
            self.maximumBytes = maximumBytes
        }
    }

    public var listenPort: UInt16?
    public var publicKey: [UInt8]?
    public var peers: [Peer] = []

    public init(listenPort: UInt16? = nil, publicKey: [UInt8]? = nil, peers: [Peer] = []) {
        self.listenPort = listenPort
        self.publicKey = publicKey
        self.peers = peers
    }

    /// Parses the reply messages of a dump (back to back, without `NLMSG_DONE`) for `interface`. A peer repeated
    /// at the start of the next message (its allowed IPs did not fit) is joined to the one before, as wireguard.h
    /// asks of receivers.
    public static func parse(_ reply: [UInt8], family: UInt16, interface: String,
                             limits: Limits) throws(NetlinkError) -> WireGuardDeviceDump {
        guard reply.count <= limits.maximumBytes else { throw .malformedMessage("WireGuard dump of \(reply.count) bytes, more than \(limits.maximumBytes)") }
        var dump = WireGuardDeviceDump()
        let messages = try MessageView.split(reply[...])
        guard !messages.isEmpty else { throw .malformedMessage("WireGuard dump of \(interface) has no message") }
        for message in messages {
            guard message.type == family else {
                throw .malformedMessage("WireGuard dump of \(interface): message of type \(message.type), not the family's \(family)")
            }
            let header = try message.familyHeader(genlmsghdr.self, "genlmsghdr")
            guard header.cmd == UInt8(WG_CMD_GET_DEVICE.rawValue) else {
                throw .malformedMessage("WireGuard dump of \(interface): command \(header.cmd), not WG_CMD_GET_DEVICE")
            }
            let start = message.payload.startIndex + Int(cmnl_align(MemoryLayout<genlmsghdr>.size))
            for (type, payload) in try attributes(message.payload[start...], in: "WGDEVICE_A_*") {
                switch UInt32(type) {
                case WGDEVICE_A_IFNAME.rawValue:
                    let name = payload.prefix { $0 != 0 }
                    guard name.count < Int(IFNAMSIZ), name.elementsEqual(interface.utf8) else {
                        throw .malformedMessage("WireGuard dump of \(interface) names another interface")
                    }
                case WGDEVICE_A_LISTEN_PORT.rawValue:
                    dump.listenPort = try exact(payload, 2, "WGDEVICE_A_LISTEN_PORT").loadUInt16(at: payload.startIndex)
                case WGDEVICE_A_PUBLIC_KEY.rawValue:
                    dump.publicKey = Array(try exact(payload, Int(WG_KEY_LEN), "WGDEVICE_A_PUBLIC_KEY"))
                case WGDEVICE_A_PEERS.rawValue:
                    for (_, peerBytes) in try attributes(payload, in: "WGDEVICE_A_PEERS") {
                        let peer = try parsePeer(peerBytes, limits: limits)
                        if let last = dump.peers.last, last.publicKey == peer.publicKey {
                            guard last.allowedIPs.count + peer.allowedIPs.count <= limits.maximumAllowedIPs else {
                                throw .malformedMessage("a WireGuard peer with more than \(limits.maximumAllowedIPs) allowed IPs")
                            }
                            dump.peers[dump.peers.count - 1].allowedIPs += peer.allowedIPs
                            continue
                        }
                        guard dump.peers.count < limits.maximumPeers else {
                            throw .malformedMessage("WireGuard dump of \(interface) has more than \(limits.maximumPeers) peers")
                        }
                        dump.peers.append(peer)
                    }
                default:
                    continue
                }
            }
        }
        return dump
    }

    private static func parsePeer(_ bytes: ArraySlice<UInt8>, limits: Limits) throws(NetlinkError) -> Peer {
        var key: [UInt8]?
        var peer = Peer(publicKey: [])
        for (type, payload) in try attributes(bytes, in: "WGPEER_A_*") {
            switch UInt32(type) {
            case WGPEER_A_PUBLIC_KEY.rawValue:
                key = Array(try exact(payload, Int(WG_KEY_LEN), "WGPEER_A_PUBLIC_KEY"))
            case WGPEER_A_ENDPOINT.rawValue:
                (peer.endpoint, peer.endpointPort) = try endpoint(payload)
            case WGPEER_A_LAST_HANDSHAKE_TIME.rawValue:
                // struct __kernel_timespec: tv_sec, tv_nsec, both 64-bit.
                let seconds = Int64(bitPattern: try exact(payload, 16, "WGPEER_A_LAST_HANDSHAKE_TIME").loadUInt64(at: payload.startIndex))
                peer.lastHandshakeSeconds = max(0, seconds)
            case WGPEER_A_RX_BYTES.rawValue:
                peer.receivedBytes = try exact(payload, 8, "WGPEER_A_RX_BYTES").loadUInt64(at: payload.startIndex)
            case WGPEER_A_TX_BYTES.rawValue:
                peer.transmittedBytes = try exact(payload, 8, "WGPEER_A_TX_BYTES").loadUInt64(at: payload.startIndex)
            case WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL.rawValue:
                peer.keepaliveSeconds = try exact(payload, 2, "WGPEER_A_PERSISTENT_KEEPALIVE_INTERVAL").loadUInt16(at: payload.startIndex)
            case WGPEER_A_ALLOWEDIPS.rawValue:
                for (_, allowed) in try attributes(payload, in: "WGPEER_A_ALLOWEDIPS") {
                    guard peer.allowedIPs.count < limits.maximumAllowedIPs else {
                        throw .malformedMessage("a WireGuard peer with more than \(limits.maximumAllowedIPs) allowed IPs")
                    }
                    peer.allowedIPs.append(try allowedIP(allowed))
                }
            default:
                continue
            }
        }
        guard let key else { throw .malformedMessage("a WireGuard peer without WGPEER_A_PUBLIC_KEY") }
        peer.publicKey = key
        return peer
    }

    /// `sockaddr_in` (16 bytes) or `sockaddr_in6` (28 bytes): family in host order, port in network order.
    private static func endpoint(_ bytes: ArraySlice<UInt8>) throws(NetlinkError) -> (IPAddress, UInt16) {
        guard bytes.count >= 2 else { throw .malformedMessage("WGPEER_A_ENDPOINT of \(bytes.count) bytes") }
        let family = Int32(bytes.loadUInt16(at: bytes.startIndex))
        let start = bytes.startIndex
        let address: IPAddress?
        switch family {
        case AF_INET:
            _ = try exact(bytes, 16, "WGPEER_A_ENDPOINT (sockaddr_in)")
            address = IPAddress(bytes: bytes[(start + 4)..<(start + 8)])
        case AF_INET6:
            _ = try exact(bytes, 28, "WGPEER_A_ENDPOINT (sockaddr_in6)")
            address = IPAddress(bytes: bytes[(start + 8)..<(start + 24)])
        default:
            throw .malformedMessage("WGPEER_A_ENDPOINT of address family \(family)")
        }
        guard let address else { throw .malformedMessage("WGPEER_A_ENDPOINT without an address") }
        return (address, UInt16(bytes[start + 2]) << 8 | UInt16(bytes[start + 3]))
    }

    private static func allowedIP(_ bytes: ArraySlice<UInt8>) throws(NetlinkError) -> IPInterface {
        var family: Int32?
        var address: ArraySlice<UInt8>?
        var prefix: UInt8?
        for (type, payload) in try attributes(bytes, in: "WGALLOWEDIP_A_*") {
            switch UInt32(type) {
            case WGALLOWEDIP_A_FAMILY.rawValue:
                family = Int32(try exact(payload, 2, "WGALLOWEDIP_A_FAMILY").loadUInt16(at: payload.startIndex))
            case WGALLOWEDIP_A_IPADDR.rawValue:
                address = payload
            case WGALLOWEDIP_A_CIDR_MASK.rawValue:
                prefix = try exact(payload, 1, "WGALLOWEDIP_A_CIDR_MASK").first
            default:
                continue
            }
        }
        guard let family, let address, let prefix else { throw .malformedMessage("an allowed IP without family, address or mask") }
        guard (family == AF_INET && address.count == 4) || (family == AF_INET6 && address.count == 16),
            let ip = IPAddress(bytes: address), let allowed = IPInterface(address: ip, prefixLength: Int(prefix))
        else { throw .malformedMessage("an allowed IP of family \(family), \(address.count) bytes, /\(prefix)") }
        return allowed
    }

    private static func exact(_ payload: ArraySlice<UInt8>, _ length: Int, _ name: String) throws(NetlinkError) -> ArraySlice<UInt8> {
        guard payload.count == length else { throw .malformedMessage("\(name) of \(payload.count) bytes, not \(length)") }
        return payload
    }

    /// The attributes in order (a dump repeats type 0 for every peer and allowed IP), each length checked.
    private static func attributes(_ bytes: ArraySlice<UInt8>, in what: String) throws(NetlinkError) -> [(UInt16, ArraySlice<UInt8>)] {
        var found: [(UInt16, ArraySlice<UInt8>)] = []
        var offset = bytes.startIndex
        while bytes.endIndex - offset >= 4 {
            let length = Int(bytes.loadUInt16(at: offset))
            let type = bytes.loadUInt16(at: offset + 2) & 0x3FFF  // NLA_F_NESTED / NLA_F_NET_BYTEORDER stripped
            guard length >= 4, length <= bytes.endIndex - offset else {
                throw .malformedMessage("\(what) attribute \(type) claims \(length) bytes with \(bytes.endIndex - offset) left")
            }
            found.append((type, bytes[(offset + 4)..<(offset + length)]))
            offset += Int(cmnl_align(length))
        }
        return found
    }
}

extension ArraySlice<UInt8> {
    /// A host-order 64-bit integer at an absolute index; callers have checked the bounds.
    func loadUInt64(at index: Int) -> UInt64 {
        UInt64(loadUInt32(at: index)) | UInt64(loadUInt32(at: index + 4)) << 32
    }
}
