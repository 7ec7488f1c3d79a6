/// An IPv6 address, held as its 128-bit value (the first group in the top bits).
///
/// Parsing accepts the RFC 4291 text forms (hex groups, one `::`, a trailing dotted quad) and refuses zone IDs
/// (`%eth0`): an address in a pool has no zone. Printing is RFC 5952: lower case, no leading zeros, the longest
/// run of two or more zero groups (the first of equal runs) as `::`, IPv4-mapped addresses with a dotted quad.
public struct IPv6Address: Hashable, Comparable, Sendable {
    /// The top and bottom 64 bits. Held as two words rather than one `UInt128`, so `IPAddress` and every record
    /// holding one keep an 8-byte alignment (a `UInt128` payload makes `IPAddress` 16-aligned, stride 32, not 24).
    private let high: UInt64
    private let low: UInt64

    /// The address as a 128-bit number, the first group in the top bits.
    public var value: UInt128 { UInt128(high) << 64 | UInt128(low) }

    public init(_ value: UInt128) {
        high = UInt64(truncatingIfNeeded: value >> 64)
        low = UInt64(truncatingIfNeeded: value)
    }

    /// The address from its 16 network-order bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        self.init(bytes.reduce(UInt128(0)) { $0 << 8 | UInt128($1) })
    }

    /// Parses the textual form, throwing a description of what is wrong with `text`.
    public init(parsing text: String) throws(IPAddressParseError) {
        guard let value = Self.parse(Substring(text)) else { throw .invalidIPv6Address(text) }
        self.init(value)
    }

    /// The sixteen bytes in network order.
    public var bytes: [UInt8] { (0..<16).map { UInt8(truncatingIfNeeded: value >> UInt128(8 * (15 - $0))) } }

    /// The eight 16-bit groups, first group first.
    public var groups: [UInt16] { (0..<8).map { UInt16(truncatingIfNeeded: value >> UInt128(16 * (7 - $0))) } }

    /// The address `offset` after this one, or nil past `ffff:…:ffff`.
    public func advanced(by offset: UInt128) -> IPv6Address? {
        let (sum, overflow) = value.addingReportingOverflow(offset)
        return overflow ? nil : IPv6Address(sum)
    }

    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool { lhs.value < rhs.value }

    private static func parse(_ text: Substring) -> UInt128? {
        guard !text.isEmpty, text.count <= 45, text.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == ":" || $0 == ".") })
        else { return nil }
        let halves = text.split(separator: "::", omittingEmptySubsequences: false).map(String.init)
        guard halves.count <= 2 else { return nil }
        guard let head = groups(of: halves[0], last: halves.count == 1) else { return nil }
        var tail: [UInt16] = []
        if halves.count == 2 {
            guard let parsed = groups(of: halves[1], last: true) else { return nil }
            tail = parsed
            guard head.count + tail.count <= 7 else { return nil }  // `::` stands for at least one group
        } else {
            guard head.count == 8 else { return nil }
        }
        let all = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        return all.reduce(UInt128(0)) { $0 << 16 | UInt128($1) }
    }

    /// The groups of one side of `::`; a dotted quad is allowed as the very last part of the address.
    private static func groups(of part: String, last: Bool) -> [UInt16]? {
        if part.isEmpty { return [] }
        let fields = part.split(separator: ":", omittingEmptySubsequences: false)
        var result: [UInt16] = []
        for (index, field) in fields.enumerated() {
            if field.contains(".") {
                guard last, index == fields.count - 1, let v4 = IPv4Address(String(field)) else { return nil }
                result += [UInt16(v4.value >> 16), UInt16(v4.value & 0xFFFF)]
            } else {
                guard (1...4).contains(field.count), !field.contains("."), let group = UInt16(field, radix: 16) else { return nil }
                result.append(group)
            }
        }
        return result
    }
}

extension IPv6Address: CustomStringConvertible {
    /// RFC 5952 text: `fd00:30::5`, `::1`, `::ffff:10.1.0.5`.
    public var description: String {
        let groups = self.groups
        if value >> 32 == 0xFFFF {
            return "::ffff:\(IPv4Address(UInt32(truncatingIfNeeded: value)))"
        }
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            guard groups[index] == 0 else { index += 1; continue }
            var end = index
            while end < 8, groups[end] == 0 { end += 1 }
            if end - index > bestLength { (bestStart, bestLength) = (index, end - index) }
            index = end
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestStart >= 0 else { return hex.joined(separator: ":") }
        let head = hex[..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }
}

extension IPv6Address: LosslessStringConvertible {
    public init?(_ description: String) {
        guard let value = Self.parse(Substring(description)) else { return nil }
        self.init(value)
    }
}

extension IPv6Address: TextCodingKeyRepresentable {}

