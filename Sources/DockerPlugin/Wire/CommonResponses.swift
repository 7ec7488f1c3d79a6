// Reply bodies shared by every driver interface.

/// An empty JSON object, `{}`: the success reply of every call that returns nothing. Docker treats an empty
/// body as an error, so even these replies carry an object.
public struct EmptyResponse: Sendable, Equatable, Codable {
    public init() {}
}

/// The body of every error reply, `{"Err": "..."}`. Docker shows `Err` to the user, prefixed with the call name.
public struct ErrorResponse: Sendable, Equatable, Codable {
    public var err: String

    public init(_ err: String) {
        self.err = err
    }

    enum CodingKeys: String, CodingKey {
        case err = "Err"
    }
}
