/// An IPv4 address, held as its 32-bit value in host byte order.
///
/// Parsing is strict dotted-quad (`10.1.0.5`): exactly four decimal octets, each 0–255, without leading zeros
/// (so `010.1.0.5` is refused rather than read as octal, as some C parsers would). It is written back the same way,
/// and it encodes as that string, so persisted state and logs read naturally.
public struct IPv4Address: Hashable, Comparable, Sendable {
    /// The address as a 32-bit number: `10.1.0.5` is `0x0A01_0005`.
    public let value: UInt32

    /// Wraps a 32-bit address value.
    public init(_ value: UInt32) {
        self.value = value
    }

    /// The address `a.b.c.d` from its four octets.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// The address from its 4 network-order bytes; nil for any other count.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 else { return nil }
        self.value = bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    /// Parses dotted-quad notation, throwing a description of what is wrong with `text`.
    public init(parsing text: String) throws(IPAddressParseError) {
        if text.contains(":") {
            throw .ipv6NotSupported(text)
        }
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        guard octets.count == 4 else { throw .invalidAddress(text) }
        var value: UInt32 = 0
        for octet in octets {
            guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy({ $0.isASCII && $0.isNumber }),
                octet == "0" || octet.first != "0", let number = UInt32(octet), number <= 255
            else { throw .invalidAddress(text) }
            value = value << 8 | number
        }
        self.value = value
    }

    public static func < (lhs: IPv4Address, rhs: IPv4Address) -> Bool {
        lhs.value < rhs.value
    }
}

extension IPv4Address: CustomStringConvertible {
    /// Dotted-quad notation, e.g. `10.1.0.5`.
    public var description: String {
        "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
    }
}

extension IPv4Address: LosslessStringConvertible {
    /// Parses dotted-quad notation; `nil` when `description` is not a valid IPv4 address.
    public init?(_ description: String) {
        do {
            try self.init(parsing: description)
        } catch {
            return nil
        }
    }
}

extension IPv4Address: TextCodingKeyRepresentable {}

extension IPv4Address {
    /// The four bytes in network order.
    public var bytes: [UInt8] { [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)] }
}
