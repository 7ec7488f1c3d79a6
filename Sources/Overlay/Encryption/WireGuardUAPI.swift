import Netlink

/// wireguard-go's configuration protocol on `/var/run/wireguard/<interface>.sock`: `key=value` lines, a request
/// ended by an empty line, answered by `errno=N` (and, for `get=1`, the device's state first). Keys are hex.
public enum WireGuardUAPI {
    /// Upper bounds on what a `get=1` answer may hold, so a wedged or hostile socket cannot grow weft's memory.
    public static let maximumReplyBytes = 1 << 20
    public static let maximumPeers = 4096

    /// The `set=1` request that makes the device exactly `configuration`: its key and port, and only the peers
    /// listed (`replace_peers`), each with only its allowed IPs (`replace_allowed_ips`).
    public static func setRequest(_ configuration: WireGuardConfiguration) -> String {
        var lines = [
            "set=1",
            "private_key=\(configuration.keys.privateKey.hex)",
            "listen_port=\(configuration.listenPort)",
            "replace_peers=true",
        ]
        for peer in configuration.peers {
            lines.append("public_key=\(peer.publicKey.hex)")
            lines.append("endpoint=\(peer.endpoint)")
            lines.append("replace_allowed_ips=true")
            lines += peer.allowedIPs.map { "allowed_ip=\($0)" }
        }
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// The `set=1` request that brings a running device's peers to `peers` without disturbing the sessions of
    /// those it keeps: each wanted peer updated in place (endpoint, allowed IPs, keepalive), each peer in
    /// `present` and not wanted removed. Key and port stay as set when the device came up.
    public static func updateRequest(peers: [WireGuardPeer], present: [WireGuardKey], keepaliveSeconds: UInt16) -> String {
        var lines = ["set=1"]
        for peer in peers {
            lines.append("public_key=\(peer.publicKey.hex)")
            lines.append("endpoint=\(peer.endpoint)")
            lines.append("persistent_keepalive_interval=\(keepaliveSeconds)")
            lines.append("replace_allowed_ips=true")
            lines += peer.allowedIPs.map { "allowed_ip=\($0)" }
        }
        let wanted = Set(peers.map(\.publicKey))
        for key in present where !wanted.contains(key) {
            lines.append("public_key=\(key.hex)")
            lines.append("remove=true")
        }
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// The `set=1` request that sets only the key, and the port when given: an adopted device keeps its peers
    /// and their sessions (the same key again changes nothing in wireguard-go).
    public static func identityRequest(keys: WireGuardKeyPair, listenPort: UInt16?) -> String {
        var lines = ["set=1", "private_key=\(keys.privateKey.hex)"]
        if let listenPort { lines.append("listen_port=\(listenPort)") }
        return lines.joined(separator: "\n") + "\n\n"
    }

    /// The request for the device's state.
    public static let getRequest = "get=1\n\n"

    /// The `errno` a reply ends with; a reply without one is malformed.
    public static func errno(of reply: String) throws(WireGuardError) -> Int {
        guard let line = reply.split(separator: "\n").last(where: { $0.hasPrefix("errno=") }),
            let value = Int(line.dropFirst("errno=".count))
        else { throw .malformedReply("no errno line") }
        return value
    }

    /// Parses a `get=1` reply: the device's port and its peers with their last handshakes.
    public static func parseStatus(_ reply: String) throws(WireGuardError) -> WireGuardStatus {
        guard reply.utf8.count <= maximumReplyBytes else { throw .malformedReply("longer than \(maximumReplyBytes) bytes") }
        let code = try errno(of: reply)
        guard code == 0 else { throw .refused(errno: code) }
        var status = WireGuardStatus()
        var peer: WireGuardStatus.Peer?
        for line in reply.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { throw .malformedReply("line without '='") }
            let key = line[..<equals]
            let value = String(line[line.index(after: equals)...])
            switch key {
            case "public_key":
                if let peer { status.peers.append(peer) }
                guard status.peers.count < maximumPeers else { throw .malformedReply("more than \(maximumPeers) peers") }
                guard let publicKey = WireGuardKey(hex: value) else { throw .malformedReply("public_key is not 32 hex bytes") }
                peer = WireGuardStatus.Peer(publicKey: publicKey)
            case "listen_port":
                status.listenPort = UInt16(value)
            case "endpoint":
                peer?.endpoint = WireGuardEndpoint(value)
            case "last_handshake_time_sec":
                peer?.lastHandshakeSeconds = Int64(value) ?? 0
            case "rx_bytes":
                peer?.receivedBytes = UInt64(value) ?? 0
            case "tx_bytes":
                peer?.transmittedBytes = UInt64(value) ?? 0
            case "allowed_ip":
                if let allowed = IPInterface(value) { peer?.allowedIPs.append(allowed) }
            default:
                continue
            }
        }
        if let peer { status.peers.append(peer) }
        return status
    }
}

/// What a WireGuard device reports: enough to tell whether a peer is configured and has handshaken.
public struct WireGuardStatus: Sendable, Equatable {
    public struct Peer: Sendable, Equatable {
        public var publicKey: WireGuardKey
        public var endpoint: WireGuardEndpoint?
        public var allowedIPs: [IPInterface] = []
        /// Seconds since the epoch of the last handshake; 0 before the first.
        public var lastHandshakeSeconds: Int64 = 0
        public var receivedBytes: UInt64 = 0
        public var transmittedBytes: UInt64 = 0

        public init(publicKey: WireGuardKey, endpoint: WireGuardEndpoint? = nil, allowedIPs: [IPInterface] = [],
                    lastHandshakeSeconds: Int64 = 0, receivedBytes: UInt64 = 0, transmittedBytes: UInt64 = 0) {
            self.publicKey = publicKey
            self.endpoint = endpoint
            self.allowedIPs = allowedIPs
            self.lastHandshakeSeconds = lastHandshakeSeconds
            self.receivedBytes = receivedBytes
            self.transmittedBytes = transmittedBytes
        }

        public var hasHandshaken: Bool { lastHandshakeSeconds > 0 }
    }

    public var listenPort: UInt16?
    public var peers: [Peer] = []

    public init(listenPort: UInt16? = nil, peers: [Peer] = []) {
        self.listenPort = listenPort
        self.peers = peers
    }
}
