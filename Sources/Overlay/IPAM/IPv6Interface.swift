/// An IPv6 address on an interface with its prefix length, as Docker's IPAM hands it over (`fd00:30::2/64`).
public struct IPv6Interface: Hashable, Sendable, CustomStringConvertible {
    public let address: IPv6Address
    /// 0–128.
    public let prefixLength: Int

    public init?(address: IPv6Address, prefixLength: Int) {
        guard (0...128).contains(prefixLength) else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses `address/n`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let address = IPv6Address(String(parts[0])), parts[1].count <= 3, let prefix = Int(parts[1])
        else { return nil }
        self.init(address: address, prefixLength: prefix)
    }

    public var description: String { "\(address)/\(prefixLength)" }
}
