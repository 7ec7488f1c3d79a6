import MessagePack

/// `userMsgHeader`: on a stream, announces how many raw user-message bytes follow.
public struct UserMessageHeader: WireMessage {
    public static let messageType = MessageType.user
    public static let goTypeName = "userMsgHeader"
    public static let goFieldOrder = ["UserMsgLen"]

    /// The length of the raw payload after the header.
    public var userMsgLen: Int

    /// Makes a header.
    public init(userMsgLen: Int) {
        self.userMsgLen = userMsgLen
    }

    public var body: MessagePackValue {
        .goStruct([("UserMsgLen", .int(Int64(userMsgLen)))])
    }

    public init(fields: GoStructFields) throws(MessagePackError) {
        self.init(userMsgLen: try fields.integer("UserMsgLen"))
    }
}

/// An application (delegate) message: opaque bytes handed to `NotifyMsg` on the other side.
///
/// On UDP the payload follows the `08` type byte directly; on a stream a ``UserMessageHeader`` sits between.
public struct UserMessage: Sendable, Hashable {
    /// The application's bytes (serf: its own type byte and msgpack).
    public var payload: [UInt8]

    /// Wraps an application payload.
    public init(payload: [UInt8]) {
        self.payload = payload
    }

    /// `08` + payload, for a packet or a compound part.
    public func packetEncoded() -> [UInt8] {
        [MessageType.user.rawValue] + payload
    }

    /// `08` + header + payload, for a stream (memberlist's `SendReliable`).
    public func streamEncoded() -> [UInt8] {
        var writer = MessagePackWriter(reservingCapacity: 24 + payload.count)
        writer.appendRawBytes([MessageType.user.rawValue])
        writer.write(UserMessageHeader(userMsgLen: payload.count).body)
        writer.appendRawBytes(payload)
        return writer.bytes
    }

    /// Decodes a stream user message (type byte included), checking the announced length against `limits`
    /// and the bytes present. Bytes after the payload are ignored, as Go does.
    public static func decodeStream(_ message: [UInt8], limits: WireLimits = WireLimits()) throws(WireError) -> UserMessage {
        try expectType(.user, in: message)
        var reader = MessagePackReader(message, offset: 1, maxDepth: limits.maxMessagePackDepth)
        let header = try UserMessageHeader.decodeBody(from: &reader)
        guard header.userMsgLen >= 0, header.userMsgLen <= limits.maxUserMessageBytes else {
            throw .lengthOutOfRange(
                field: "userMsgHeader.UserMsgLen", value: Int64(header.userMsgLen), limit: limits.maxUserMessageBytes)
        }
        guard header.userMsgLen <= reader.remainingCount else {
            throw .truncated(context: "stream user message", needed: header.userMsgLen, available: reader.remainingCount)
        }
        return UserMessage(payload: Array(message[reader.offset..<reader.offset + header.userMsgLen]))
    }
}
