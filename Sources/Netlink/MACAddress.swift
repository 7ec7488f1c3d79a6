/// A 48-bit Ethernet address, as carried in `IFLA_ADDRESS` and `NDA_LLADDR`.
public struct MACAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// The all-zeros address: an FDB entry with it floods broadcast and unknown traffic to its VTEP.
    public static let zero = MACAddress(validBytes: [0, 0, 0, 0, 0, 0])

    public init?(bytes: [UInt8]) {
        guard bytes.count == 6 else { return nil }
        self.bytes = bytes
    }

    private init(validBytes: [UInt8]) { self.bytes = validBytes }

    /// Parses `02:aa:bb:cc:dd:ee` (case-insensitive).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var bytes: [UInt8] = []
        for part in parts {
            guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
            bytes.append(byte)
        }
        self.bytes = bytes
    }

    /// A random unicast, locally administered address (never derived from an IP address).
    public static func randomLocallyAdministered<G: RandomNumberGenerator>(using generator: inout G) -> MACAddress {
        var bytes = (0..<6).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[0] = (bytes[0] & 0xFE) | 0x02
        return MACAddress(validBytes: bytes)
    }

    public static func randomLocallyAdministered() -> MACAddress {
        var generator = SystemRandomNumberGenerator()
        return randomLocallyAdministered(using: &generator)
    }

    public var isZero: Bool { bytes.allSatisfy { $0 == 0 } }

    public var description: String {
        bytes.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 0x10 ? "0" + hex : hex
        }.joined(separator: ":")
    }

    public static func < (lhs: MACAddress, rhs: MACAddress) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}
