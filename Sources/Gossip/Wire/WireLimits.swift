/// Bounds the decoders enforce on untrusted input, so that no length field makes them allocate without limit.
///
/// The defaults are memberlist's own limits where it has one (v0.6.0 and `main`), so that anything a real peer
/// sends is accepted.
public struct WireLimits: Sendable, Hashable {
    /// The largest encrypted stream frame (`0a len32`): memberlist's `maxPushStateBytes`, 20 MiB.
    public var maxStreamFrameBytes: Int = 20 << 20
    /// The most bytes all decompression in one packet or stream may produce: memberlist's
    /// `maxDecompressedBytes`, 40 MiB.
    public var maxDecompressedBytes: Int = 40 << 20
    /// The most node states one push/pull may announce (memberlist v0.6.0: 1,048,576).
    public var maxPushPullNodes: Int = 1 << 20
    /// The largest push/pull user state (memberlist v0.6.0: 20 MiB).
    public var maxUserStateBytes: Int = 20 << 20
    /// The largest stream user message (memberlist `main`: 20 MiB).
    public var maxUserMessageBytes: Int = 20 << 20
    /// The most bytes decompression in one UDP packet may produce (64 KiB: what a peer could have sent
    /// uncompressed in one datagram).
    public var maxDecompressedPacketBytes: Int = 64 << 10
    /// How deeply compound and compress wrappers may nest inside one packet.
    public var maxNesting: Int = 8
    /// How deeply msgpack containers may nest inside one message body.
    public var maxMessagePackDepth: Int = 32

    /// The defaults.
    public init() {}
}
