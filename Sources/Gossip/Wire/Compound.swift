/// memberlist's compound message: several messages in one UDP packet (`util.go` `makeCompoundMessage`,
/// `decodeCompoundMessage`).
///
/// Layout: `07`, a part count `n` (one byte), `n` big-endian 16-bit lengths, then the parts back to back. Each
/// part is a whole message with its own type byte.
public enum Compound {
    /// The most parts one compound can hold: the count is a single byte.
    public static let maxParts = 255
    /// The most parts to send to memberlist 0.2.2 peers (Debian's serf): their decoder overflows a `uint8`
    /// when `n ≥ 128` (fixed in v0.2.4).
    public static let maxPartsForLegacyPeers = 127

    /// Encodes `parts` as one compound message.
    ///
    /// Throws for more than ``maxParts`` parts, an empty part (memberlist 0.2.2 panics on one) or a part longer
    /// than 65535 bytes; use ``encodeSplitting(_:maxPartsPerMessage:)`` to split long lists.
    public static func encode(_ parts: [[UInt8]]) throws(WireError) -> [UInt8] {
        guard parts.count <= maxParts else { throw .compoundTooManyParts(count: parts.count, limit: maxParts) }
        var size = 2 + 2 * parts.count
        for (index, part) in parts.enumerated() {
            guard !part.isEmpty else { throw .empty(context: "compound part \(index)") }
            guard part.count <= Int(UInt16.max) else { throw .compoundPartTooLarge(index: index, size: part.count) }
            size += part.count
        }
        var message: [UInt8] = []
        message.reserveCapacity(size)
        message.append(MessageType.compound.rawValue)
        message.append(UInt8(parts.count))
        for part in parts {
            message.append(UInt8(part.count >> 8))
            message.append(UInt8(part.count & 0xff))
        }
        for part in parts { message.append(contentsOf: part) }
        return message
    }

    /// Encodes `parts` as as many compound messages as needed, each with at most `maxPartsPerMessage` parts
    /// (memberlist ≥ 0.3.2 `makeCompoundMessages` splits at 255; pass ``maxPartsForLegacyPeers`` for 0.2.2).
    public static func encodeSplitting(
        _ parts: [[UInt8]], maxPartsPerMessage: Int = maxParts
    ) throws(WireError) -> [[UInt8]] {
        let chunkSize = min(max(maxPartsPerMessage, 1), maxParts)
        var messages: [[UInt8]] = []
        var start = 0
        while start < parts.count {
            let end = min(start + chunkSize, parts.count)
            messages.append(try encode(Array(parts[start..<end])))
            start = end
        }
        return messages
    }

    /// The parts of a compound message, and how many announced parts did not fit in the packet.
    public struct Parts: Sendable, Hashable {
        /// The whole parts, in order.
        public var parts: [[UInt8]]
        /// Parts whose length ran past the end of the packet. memberlist logs these and carries on.
        public var truncatedCount: Int
    }

    /// Splits a compound message (type byte included) into its parts.
    ///
    /// As memberlist does, parts that run past the end are counted in ``Parts/truncatedCount`` rather than
    /// being an error, and bytes after the last part are ignored. A length table longer than the message is an
    /// error. Empty parts are returned as they are; the packet decoder rejects them.
    public static func decode(_ message: [UInt8]) throws(WireError) -> Parts {
        try expectType(.compound, in: message)
        guard message.count >= 2 else {
            throw .truncated(context: "compound part count", needed: 2, available: message.count)
        }
        let count = Int(message[1])
        let tableEnd = 2 + 2 * count
        guard message.count >= tableEnd else {
            throw .compoundLengthsTruncated(parts: count, available: message.count - 2)
        }
        var parts: [[UInt8]] = []
        parts.reserveCapacity(count)
        var offset = tableEnd
        for index in 0..<count {
            let length = Int(message[2 + 2 * index]) << 8 | Int(message[3 + 2 * index])
            guard length <= message.count - offset else {
                return Parts(parts: parts, truncatedCount: count - index)
            }
            parts.append(Array(message[offset..<offset + length]))
            offset += length
        }
        return Parts(parts: parts, truncatedCount: 0)
    }
}
