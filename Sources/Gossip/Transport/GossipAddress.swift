import Addressing

/// A gossip peer's address: its IP and the port it gossips on.
///
/// Peers are keyed by this value, never by a socket address's description (which is not canonical). On the wire
/// memberlist carries the IP as 4 or 16 raw bytes; ``init(wire:port:)`` is where those bytes are checked.
public struct GossipAddress: Sendable, Hashable, CustomStringConvertible {
    /// The IP; an IPv4-mapped IPv6 address is held as its IPv4 address.
    public var ip: IPAddress
    /// The UDP and TCP port.
    public var port: UInt16

    /// Makes an address, normalising an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) to its IPv4 address.
    public init(ip: IPAddress, port: UInt16) {
        if case .v6(let address) = ip, address.value >> 32 == 0xFFFF {
            self.ip = .v4(IPv4Address(UInt32(truncatingIfNeeded: address.value)))
        } else {
            self.ip = ip
        }
        self.port = port
    }

    /// The address from a message's raw IP bytes; nil unless there are 4 (IPv4) or 16 (IPv6) of them.
    public init?(wire bytes: [UInt8], port: UInt16) {
        guard let ip = IPAddress(bytes: bytes) else { return nil }
        self.init(ip: ip, port: port)
    }

    /// Parses `a.b.c.d:port`, `a.b.c.d`, `[v6]:port`, `[v6]` or a bare IPv6 address (then `defaultPort`).
    /// Returns `nil` for anything else (names are not resolved: seeds are addresses).
    public init?(parsing text: String, defaultPort: UInt16 = 7946) {
        var host = Substring(text)
        var port = defaultPort
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.first == ":", let parsed = UInt16(rest.dropFirst()) else { return nil }
                port = parsed
            }
        } else if text.filter({ $0 == ":" }).count == 1 {
            let pieces = text.split(separator: ":", omittingEmptySubsequences: false)
            guard let parsed = UInt16(pieces[1]) else { return nil }
            host = pieces[0]
            port = parsed
        }
        guard let ip = IPAddress(String(host)) else { return nil }
        self.init(ip: ip, port: port)
    }

    /// The IP as text: dotted quad for IPv4, RFC 5952 for IPv6.
    public var host: String { ip.description }

    public var description: String {
        ip.isIPv4 ? "\(host):\(port)" : "[\(host)]:\(port)"
    }
}
