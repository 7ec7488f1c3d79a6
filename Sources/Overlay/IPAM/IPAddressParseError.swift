/// Why a string is not a usable IPv4 address or subnet.
public enum IPAddressParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a dotted-quad IPv4 address.
    case invalidAddress(String)
    /// Not `address/prefix` with a prefix length of 0–32.
    case invalidSubnet(String)
    /// The subnet has bits set below its prefix; `suggestion` is the subnet it probably meant.
    case hostBitsSet(String, suggestion: String)
    /// An IPv6 address or subnet: weft's IPAM is IPv4 only.
    case ipv6NotSupported(String)

    public var description: String {
        switch self {
        case .invalidAddress(let text):
            "\"\(text)\" is not an IPv4 address (expected dotted-quad form such as 10.1.0.5)"
        case .invalidSubnet(let text):
            "\"\(text)\" is not an IPv4 subnet (expected CIDR form such as 10.1.0.0/24)"
        case .hostBitsSet(let text, let suggestion):
            "subnet \(text) has host bits set; did you mean \(suggestion)?"
        case .ipv6NotSupported(let text):
            "\(text) is an IPv6 address; weft's IPAM supports IPv4 only"
        }
    }
}
