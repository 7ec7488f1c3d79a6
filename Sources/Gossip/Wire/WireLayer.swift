/// One layer of a gossip packet or stream as it crossed the wire: its message type and its size in bytes,
/// header included. A compound of two pings is three layers (the compound, then each ping); an encrypted,
/// labelled stream is the label, the encryption frame and the message inside.
public struct WireLayer: Sendable, Hashable {
    public var type: MessageType
    public var size: Int

    public init(_ type: MessageType, size: Int) {
        self.type = type
        self.size = size
    }
}
