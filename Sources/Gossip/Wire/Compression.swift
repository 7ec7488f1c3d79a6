import MessagePack

/// `compress`: memberlist's compression wrapper, `09` + msgpack `{Algo, Buf}` (`util.go` `compressPayload`,
/// `decompressPayload`).
public struct Compressed: WireMessage {
    public static let messageType = MessageType.compress
    public static let goTypeName = "compress"
    public static let goFieldOrder = ["Algo", "Buf"]

    /// `lzwAlgo`, the only algorithm memberlist defines.
    public static let lzwAlgorithm: UInt8 = 0

    /// The compression algorithm.
    public var algo: UInt8
    /// The compressed bytes. Written as nil when empty.
    public var buf: [UInt8]

    /// Makes a compress message from already compressed bytes (see ``wrap(_:)``).
    public init(algo: UInt8, buf: [UInt8]) {
        self.algo = algo
        self.buf = buf
    }

    public var body: MessagePackValue {
        .goStruct([("Algo", .uint(UInt64(algo))), ("Buf", .bytes(buf.isEmpty ? nil : buf))])
    }

    public init(fields: GoStructFields) throws(MessagePackError) {
        self.init(algo: try fields.integer("Algo"), buf: try fields.bytes("Buf"))
    }

    /// Compresses `payload` with LZW and wraps it: the whole `09` message.
    public static func wrap(_ payload: [UInt8]) -> [UInt8] {
        Compressed(algo: lzwAlgorithm, buf: LZW.compress(payload)).encoded()
    }

    /// Unwraps a `09` message (type byte included) and decompresses it, producing at most `maxOutputBytes`.
    /// An empty result is an error: memberlist 0.2.2 panics on one.
    public static func unwrap(
        _ message: [UInt8], maxOutputBytes: Int, limits: WireLimits = WireLimits()
    ) throws(WireError) -> [UInt8] {
        let compressed = try decode(message, limits: limits)
        guard compressed.algo == lzwAlgorithm else { throw .unknownCompressionAlgorithm(compressed.algo) }
        let payload: [UInt8]
        do {
            payload = try LZW.decompress(compressed.buf, maxOutputBytes: maxOutputBytes)
        } catch {
            throw .lzw(error)
        }
        guard !payload.isEmpty else { throw .emptyDecompressedPayload }
        return payload
    }
}
