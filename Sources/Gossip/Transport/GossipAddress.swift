import Glibc

/// A gossip peer's address: the IP as memberlist puts it on the wire (4 bytes for IPv4, 16 for IPv6) and a port.
///
/// Peers are keyed by this value, never by a socket address's description (which is not canonical).
public struct GossipAddress: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 bytes (IPv6). IPv4-mapped IPv6 addresses are normalised to 4 bytes.
    public var ip: [UInt8]
    /// The UDP and TCP port.
    public var port: UInt16

    /// Makes an address from wire bytes, normalising an IPv4-mapped IPv6 address to its 4 bytes.
    public init(ip: [UInt8], port: UInt16) {
        if ip.count == 16, ip[0..<10].allSatisfy({ $0 == 0 }), ip[10] == 0xff, ip[11] == 0xff {
            self.ip = Array(ip[12..<16])
        } else {
            self.ip = ip
        }
        self.port = port
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
        guard host.count <= 45, !host.contains("%") else { return nil }
        var v4 = in_addr()
        var v6 = in6_addr()
        let hostText = String(host)
        if !hostText.contains(":"), inet_pton(AF_INET, hostText, &v4) == 1 {
            self.init(ip: withUnsafeBytes(of: &v4) { Array($0) }, port: port)
        } else if hostText.contains(":"), inet_pton(AF_INET6, hostText, &v6) == 1 {
            self.init(ip: withUnsafeBytes(of: &v6) { Array($0) }, port: port)
        } else {
            return nil
        }
    }

    /// The IP as text: dotted quad for IPv4, colon-separated hex groups for IPv6.
    public var host: String {
        if ip.count == 4 { return ip.map(String.init).joined(separator: ".") }
        guard ip.count == 16 else { return "invalid(\(ip.count) bytes)" }
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(ip[$0]) << 8 | UInt16(ip[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }

    public var description: String {
        ip.count == 16 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
