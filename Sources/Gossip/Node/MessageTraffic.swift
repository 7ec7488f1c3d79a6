/// Gossip traffic in one direction, by memberlist message type: messages and their bytes, and the bytes that
/// crossed the sockets.
///
/// Every layer counts (``WireLayer``): a compound counts once with its whole size and each of its parts with its
/// own, and a wrapper (compress, CRC, encrypt, label) counts the bytes it wraps plus its header, so the bytes of
/// different types overlap; ``datagramBytes`` and ``streamBytes`` are the totals on the wire.
public struct MessageTraffic: Sendable, Hashable {
    /// Messages of each type.
    public private(set) var messages: [MessageType: Int] = [:]
    /// Bytes of the messages of each type.
    public private(set) var bytes: [MessageType: Int] = [:]
    /// UDP payload bytes (whole datagrams).
    public private(set) var datagramBytes = 0
    /// Bytes of whole stream messages (TCP).
    public private(set) var streamBytes = 0

    public init() {}

    /// Counts a datagram of `size` bytes made of `layers`.
    mutating func countDatagram(size: Int, layers: [WireLayer]) {
        datagramBytes = datagramBytes.addingSaturating(size)
        count(layers)
    }

    /// Counts a stream message made of `layers`, the outermost its whole size.
    mutating func countStream(layers: [WireLayer]) {
        streamBytes = streamBytes.addingSaturating(layers.first?.size ?? 0)
        count(layers)
    }

    private mutating func count(_ layers: [WireLayer]) {
        for layer in layers {
            messages[layer.type, default: 0] = messages[layer.type, default: 0].addingSaturating(1)
            bytes[layer.type, default: 0] = bytes[layer.type, default: 0].addingSaturating(layer.size)
        }
    }
}

extension Int {
    fileprivate func addingSaturating(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
