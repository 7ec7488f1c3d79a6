import Glibc

/// An IPv4 or IPv6 address as the kernel carries it: 4 or 16 bytes in network order.
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4([UInt8])
    case v6([UInt8])

    /// Builds an address from raw network-order bytes (4 or 16 of them).
    public init?(bytes: some Collection<UInt8>) {
        switch bytes.count {
        case 4: self = .v4(Array(bytes))
        case 16: self = .v6(Array(bytes))
        default: return nil
        }
    }

    /// Parses dotted-quad IPv4 or textual IPv6.
    public init?(_ text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self = .v4(withUnsafeBytes(of: &v4) { Array($0) })
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self = .v6(withUnsafeBytes(of: &v6) { Array($0) })
            return
        }
        return nil
    }

    public var bytes: [UInt8] {
        switch self {
        case .v4(let bytes), .v6(let bytes): bytes
        }
    }

    /// The address family constant (`AF_INET` or `AF_INET6`).
    public var family: UInt8 {
        switch self {
        case .v4: UInt8(AF_INET)
        case .v6: UInt8(AF_INET6)
        }
    }

    public var isIPv4: Bool { if case .v4 = self { true } else { false } }

    public var description: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &text, socklen_t(text.count)) != nil
        }
        guard ok else { return "<invalid address>" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        if lhs.bytes.count != rhs.bytes.count { return lhs.bytes.count < rhs.bytes.count }
        return lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}
