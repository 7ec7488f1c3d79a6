/// A message that can arrive on a TCP stream, decoded.
public enum StreamMessage: Sendable, Hashable {
    /// A TCP fallback ping; answer with ``ack(_:)``.
    case ping(Ping)
    /// The answer to a TCP ping.
    case ack(Ack)
    /// A push/pull state exchange.
    case pushPull(PushPull)
    /// A reliable user message (`SendReliable`).
    case user(UserMessage)
    /// The peer could not handle our request.
    case error(ErrorResponse)

    /// The inner message (type byte included), before compression and encryption.
    public func encoded() -> [UInt8] {
        switch self {
        case .ping(let message): message.encoded()
        case .ack(let message): message.encoded()
        case .pushPull(let message): message.encoded()
        case .user(let message): message.streamEncoded()
        case .error(let message): message.encoded()
        }
    }
}

/// A decoded stream message and what wrapped it.
public struct DecodedStream: Sendable, Hashable {
    /// The message.
    public var message: StreamMessage
    /// The label the stream carried (or ours when ``WireConfig/skipInboundLabelCheck`` applied); empty if none.
    public var label: [UInt8]
    /// Whether the stream was encrypted.
    public var wasEncrypted: Bool
    /// Whether the message was compressed.
    public var wasCompressed: Bool
    /// The layers decoded, outermost first: label, encryption, compression, the message.
    public var layers: [WireLayer] = []
}

/// Encodes and decodes one memberlist TCP stream message (reference §5.1):
/// `[f4 len label]? ( 0a len32 [version nonce ciphertext tag] | plain )`, where plain is `09` + compress of the
/// inner message, or the inner message itself.
///
/// A stream carries one message each way and is not otherwise delimited, so a transport reads until
/// ``decode(_:config:)`` succeeds or fails with an error whose ``WireError/needsMoreInput`` is `false`
/// (bounded by ``WireLimits/maxStreamFrameBytes``); for encrypted streams ``frameLength(of:config:)`` gives the
/// exact size once the header is in.
public enum StreamCodec {
    /// Wraps the inner message for a stream: optional compression (memberlist compresses streams whenever
    /// compression is on, without a size check), encryption framed as `0a len32` with that header (and the label)
    /// as authenticated data, then the label header.
    public static func encode(
        _ message: StreamMessage, compress: Bool = false, config: WireConfig = WireConfig(),
        encryptionVersion: EncryptionVersion = .v1, nonce: [UInt8]? = nil
    ) throws(WireError) -> [UInt8] {
        try encode(
            inner: message.encoded(), compress: compress, config: config, encryptionVersion: encryptionVersion,
            nonce: nonce)
    }

    /// ``encode(_:compress:config:encryptionVersion:nonce:)`` for an inner message given as bytes.
    public static func encode(
        inner: [UInt8], compress: Bool = false, config: WireConfig = WireConfig(),
        encryptionVersion: EncryptionVersion = .v1, nonce: [UInt8]? = nil
    ) throws(WireError) -> [UInt8] {
        try encodeLayered(
            inner: inner, compress: compress, config: config, encryptionVersion: encryptionVersion, nonce: nonce
        ).stream
    }

    /// ``encode(inner:compress:config:encryptionVersion:nonce:)``, with the layers of the stream message,
    /// outermost first (as ``decode(_:config:)`` lists them).
    public static func encodeLayered(
        inner: [UInt8], compress: Bool = false, config: WireConfig = WireConfig(),
        encryptionVersion: EncryptionVersion = .v1, nonce: [UInt8]? = nil
    ) throws(WireError) -> (stream: [UInt8], layers: [WireLayer]) {
        guard let first = inner.first else { throw .empty(context: "stream message") }
        var layers: [WireLayer] = []
        if let type = MessageType(rawValue: first) { layers.append(WireLayer(type, size: inner.count)) }
        var plain = compress ? Compressed.wrap(inner) : inner
        if compress { layers.append(WireLayer(.compress, size: plain.count)) }
        if let keyring = config.keyring {
            let length = plain.count + encryptionVersion.overhead(forPlaintextCount: plain.count)
            guard length <= config.limits.maxStreamFrameBytes else {
                throw .lengthOutOfRange(
                    field: "encrypted stream length", value: Int64(length), limit: config.limits.maxStreamFrameBytes)
            }
            let header = frameHeader(length: length)
            let sealed = try keyring.encrypt(
                plain, version: encryptionVersion, additionalData: header + config.label, nonce: nonce)
            plain = header + sealed
            layers.append(WireLayer(.encrypt, size: plain.count))
        }
        let stream = try Label.add(config.label, to: plain)
        if !config.label.isEmpty { layers.append(WireLayer(.hasLabel, size: stream.count)) }
        return (stream, layers.reversed())
    }

    /// The total size of the encrypted frame at the start of `prefix` (label header included), or `nil` when
    /// the stream is not encrypted or more bytes are needed to tell. Throws for a frame above the limit.
    public static func frameLength(of prefix: [UInt8], config: WireConfig = WireConfig()) throws(WireError) -> Int? {
        let labelSize: Int
        if prefix.first == MessageType.hasLabel.rawValue {
            guard prefix.count >= 2 else { return nil }
            labelSize = 2 + Int(prefix[1])
        } else {
            labelSize = 0
        }
        guard prefix.count > labelSize else { return nil }
        guard prefix[labelSize] == MessageType.encrypt.rawValue else { return nil }
        guard prefix.count >= labelSize + 5 else { return nil }
        let length = try encryptedLength(prefix[labelSize + 1..<labelSize + 5], limits: config.limits)
        return labelSize + 5 + length
    }

    /// Decodes one stream message: label → `0a` decryption → `09` decompression (once) → the message.
    /// Bytes after the message are ignored, as memberlist ignores them.
    public static func decode(_ stream: [UInt8], config: WireConfig = WireConfig()) throws(WireError) -> DecodedStream {
        guard !stream.isEmpty else { throw .empty(context: "stream") }
        let (label, afterLabel) = try config.checkLabel(stream)
        guard let first = afterLabel.first else { throw .empty(context: "stream after its label") }
        var layers: [WireLayer] = []
        var plain = afterLabel
        var wasEncrypted = false
        if first == MessageType.encrypt.rawValue {
            guard let keyring = config.keyring else { throw .encryptedButNoKeyring }
            guard afterLabel.count >= 5 else {
                throw .truncated(context: "encrypted stream header", needed: 5, available: afterLabel.count)
            }
            let length = try encryptedLength(afterLabel[1..<5], limits: config.limits)
            guard afterLabel.count - 5 >= length else {
                throw .truncated(context: "encrypted stream", needed: 5 + length, available: afterLabel.count)
            }
            let header = Array(afterLabel[0..<5])
            plain = try keyring.decrypt(Array(afterLabel[5..<5 + length]), additionalData: header + label)
            wasEncrypted = true
            layers.append(WireLayer(.encrypt, size: 5 + length))
        } else if config.keyring != nil && config.verifyIncoming {
            throw .notEncrypted
        }
        guard let plainType = plain.first else { throw .empty(context: "decrypted stream") }
        var wasCompressed = false
        if plainType == MessageType.compress.rawValue {
            layers.append(WireLayer(.compress, size: plain.count))
            plain = try Compressed.unwrap(
                plain, maxOutputBytes: config.limits.maxDecompressedBytes, limits: config.limits)
            wasCompressed = true
        }
        let message = try decodeInner(plain, limits: config.limits)
        layers.append(WireLayer(MessageType(rawValue: plain[0]) ?? .error, size: plain.count))
        if stream.first == MessageType.hasLabel.rawValue {
            layers.insert(WireLayer(.hasLabel, size: stream.count - afterLabel.count + (layers.first?.size ?? 0)), at: 0)
        }
        return DecodedStream(
            message: message, label: label, wasEncrypted: wasEncrypted, wasCompressed: wasCompressed, layers: layers)
    }

    /// Decodes an inner stream message (after decryption and decompression).
    public static func decodeInner(_ message: [UInt8], limits: WireLimits = WireLimits()) throws(WireError) -> StreamMessage {
        guard let first = message.first else { throw .empty(context: "stream message") }
        guard let type = MessageType(rawValue: first) else { throw .unknownMessageType(first) }
        switch type {
        case .ping: return .ping(try Ping.decode(message, limits: limits))
        case .ack: return .ack(try Ack.decode(message, limits: limits))
        case .pushPull: return .pushPull(try PushPull.decode(message, limits: limits))
        case .user: return .user(try UserMessage.decodeStream(message, limits: limits))
        case .error: return .error(try ErrorResponse.decode(message, limits: limits))
        default: throw .unexpectedMessageType(type, context: "on a stream")
        }
    }

    private static func frameHeader(length: Int) -> [UInt8] {
        [
            MessageType.encrypt.rawValue, UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
        ]
    }

    private static func encryptedLength(_ bytes: ArraySlice<UInt8>, limits: WireLimits) throws(WireError) -> Int {
        let length = bytes.reduce(0) { $0 << 8 | Int($1) }
        guard length <= limits.maxStreamFrameBytes else {
            throw .lengthOutOfRange(field: "encrypted stream length", value: Int64(length), limit: limits.maxStreamFrameBytes)
        }
        return length
    }
}
