/// A VXLAN network identifier: 24 bits, 1 through 16,777,215. weft uses it as a network's cluster-wide identity.
public struct VNI: Hashable, Sendable, Comparable, Codable, CustomStringConvertible {
    public let value: UInt32

    public static let range: ClosedRange<UInt32> = 1...0xFF_FFFF

    public init?(_ value: UInt32) {
        guard Self.range.contains(value) else { return nil }
        self.value = value
    }

    public var description: String { String(value) }

    public static func < (lhs: VNI, rhs: VNI) -> Bool { lhs.value < rhs.value }

    /// A VNI persists as its number.
    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(UInt32.self)
        guard let vni = VNI(value) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(value) is not a VNI"))
        }
        self = vni
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
