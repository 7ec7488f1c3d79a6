import MessagePack

/// `errResp`: a stream peer's answer when it could not handle our request.
public struct ErrorResponse: WireMessage {
    public static let messageType = MessageType.error
    public static let goTypeName = "errResp"
    public static let goFieldOrder = ["Error"]

    /// The peer's error text.
    public var error: String

    /// Makes an error response.
    public init(error: String) {
        self.error = error
    }

    public var body: MessagePackValue {
        .goStruct([("Error", .string(error))])
    }

    public init(fields: GoStructFields) throws(MessagePackError) {
        self.init(error: try fields.string("Error"))
    }
}
