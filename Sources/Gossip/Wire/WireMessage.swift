import MessagePack

/// A Swift value that travels as one msgpack-encoded memberlist Go struct.
///
/// Conforming types are plain `Sendable` values, so the protocol layer can pass them between tasks and actors.
public protocol GoStructBody: Sendable, Hashable {
    /// The Go struct's name, used in error messages.
    static var goTypeName: String { get }
    /// The Go struct's field names in declaration order (for the rare peer that sends structs as arrays).
    static var goFieldOrder: [String] { get }
    /// The body as go-msgpack writes the Go struct (sorted keys, `omitempty` honoured).
    var body: MessagePackValue { get }
    /// Reads the body's fields, as go-msgpack fills the Go struct.
    init(fields: GoStructFields) throws(MessagePackError)
}

extension GoStructBody {
    /// Reads one msgpack struct at the reader's position and moves past it; errors are reported as a
    /// malformed message of type `type`.
    public static func decodeBody(
        from reader: inout MessagePackReader, in type: MessageType
    ) throws(WireError) -> Self {
        do {
            let value = try reader.read()
            return try Self(fields: GoStructFields(value, typeName: goTypeName, fieldOrder: goFieldOrder))
        } catch {
            throw .malformedBody(type, error)
        }
    }
}

/// A memberlist message whose encoding is its type byte followed by one msgpack-encoded Go struct.
public protocol WireMessage: GoStructBody {
    /// The type byte that precedes the body.
    static var messageType: MessageType { get }
}

extension WireMessage {
    /// The message on the wire: type byte, then the msgpack body.
    public func encoded() -> [UInt8] {
        var writer = MessagePackWriter(reservingCapacity: 64)
        writer.appendRawBytes([Self.messageType.rawValue])
        writer.write(body)
        return writer.bytes
    }

    /// Decodes a whole message, type byte included. Bytes after the body are ignored, as Go's decoder does.
    public static func decode(
        _ message: [UInt8], limits: WireLimits = WireLimits()
    ) throws(WireError) -> Self {
        try expectType(messageType, in: message)
        var reader = MessagePackReader(message, offset: 1, maxDepth: limits.maxMessagePackDepth)
        return try decodeBody(from: &reader)
    }

    /// Reads the msgpack body at the reader's position (no type byte) and moves past it.
    public static func decodeBody(from reader: inout MessagePackReader) throws(WireError) -> Self {
        try decodeBody(from: &reader, in: messageType)
    }
}

/// Checks that `message` is not empty and starts with the type byte of `expected`.
func expectType(_ expected: MessageType, in message: [UInt8]) throws(WireError) {
    guard let first = message.first else { throw .empty(context: "\(expected) message") }
    guard first == expected.rawValue else {
        guard let type = MessageType(rawValue: first) else { throw .unknownMessageType(first) }
        throw .unexpectedMessageType(type, context: "where a \(expected) message was expected")
    }
}
