/// Why a string is not a usable IPv4 or IPv6 address or subnet.
public enum IPAddressParseError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Not a dotted-quad IPv4 address.
    case invalidAddress(String)
    /// Not `address/prefix` with a prefix length of 0–32.
    case invalidSubnet(String)
    /// The subnet has bits set below its prefix; `suggestion` is the subnet it probably meant.
    case hostBitsSet(String, suggestion: String)
    /// An IPv6 address or subnet where only IPv4 is accepted.
    case ipv6NotSupported(String)
    /// Not an IPv6 address in RFC 4291 text form.
    case invalidIPv6Address(String)
    /// Not `address/prefix` with an IPv6 address and a prefix length of 0–128.
    case invalidIPv6Subnet(String)

    public var description: String {
        switch self {
        case .invalidAddress(let text):
            "\"\(text)\" is not an IPv4 address (expected dotted-quad form such as 10.1.0.5)"
        case .invalidSubnet(let text):
            "\"\(text)\" is not an IPv4 subnet (expected CIDR form such as 10.1.0.0/24)"
        case .hostBitsSet(let text, let suggestion):
            "subnet \(text) has host bits set; did you mean \(suggestion)?"
        case .ipv6NotSupported(let text):
            "\(text) is an IPv6 address; this field takes IPv4 only"
        case .invalidIPv6Address(let text):
            "\"\(text)\" is not an IPv6 address (expected a form such as fd00:30::5)"
        case .invalidIPv6Subnet(let text):
            "\"\(text)\" is not an IPv6 subnet (expected CIDR form such as fd00:30::/64)"
        }
    }
}
