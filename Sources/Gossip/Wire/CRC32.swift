/// CRC-32 with the IEEE polynomial (zlib's `crc32`, Go's `crc32.ChecksumIEEE`), and memberlist's CRC wrapper.
///
/// memberlist guards UDP payloads sent to peers with PMax ≥ 5 as `0c` + big-endian CRC-32 of the rest + the rest.
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 {
            crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
        }
        return crc
    }

    /// The IEEE CRC-32 of `bytes`.
    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8)
        }
        return ~crc
    }

    /// `0c` + CRC-32(payload) big-endian + payload. Only for peers with PMax ≥ 5, which understand type 12.
    public static func wrap(_ payload: [UInt8]) -> [UInt8] {
        let crc = checksum(payload)
        var message: [UInt8] = [MessageType.hasCRC.rawValue]
        message.reserveCapacity(5 + payload.count)
        message.append(contentsOf: [UInt8(crc >> 24), UInt8((crc >> 16) & 0xff), UInt8((crc >> 8) & 0xff), UInt8(crc & 0xff)])
        message.append(contentsOf: payload)
        return message
    }

    /// Checks and strips a CRC wrapper (type byte included) and returns the payload.
    public static func unwrap(_ message: [UInt8]) throws(WireError) -> [UInt8] {
        try expectType(.hasCRC, in: message)
        guard message.count >= 5 else {
            throw .truncated(context: "CRC header", needed: 5, available: message.count)
        }
        let expected = message[1..<5].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        let payload = Array(message[5...])
        let computed = checksum(payload)
        guard expected == computed else { throw .checksumMismatch(expected: expected, computed: computed) }
        return payload
    }
}
