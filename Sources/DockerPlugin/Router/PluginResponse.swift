/// What the router answers: an HTTP status and a JSON body, plus what the server logs about it.
public struct PluginResponse: Sendable, Equatable {
    /// 200 on success; 400 for a body that does not decode, 404 for an unknown path, 405 for a method other than
    /// POST, 413 for an oversized body, 500 when the backend fails.
    public var status: Int
    /// The JSON body: the reply object, or `{"Err": "..."}`.
    public var body: [UInt8]
    /// The endpoint the request reached, `nil` for an unknown path.
    public var endpoint: PluginEndpoint?
    /// The `Err` text when the request failed.
    public var error: String?
    /// The reply's `Content-Type`: Docker's by default; the metrics listener sends Prometheus's text format.
    public var mediaType: String = PluginResponse.contentType
    /// A body sent as it is produced, in place of ``body`` (control API only: `GET /events?follow`).
    public var stream: StreamedBody?

    public init(status: Int, body: [UInt8], endpoint: PluginEndpoint?, error: String? = nil) {
        self.status = status
        self.body = body
        self.endpoint = endpoint
        self.error = error
    }

    /// Whether the request succeeded.
    public var isSuccess: Bool { status == 200 }

    /// The media type of every reply. Docker ignores it; libnetwork's own test plugin sends this one.
    public static let contentType = "application/vnd.docker.plugins.v1+json"

    /// A failure reply with body `{"Err": message}`.
    public static func failure(status: Int, endpoint: PluginEndpoint?, message: String) -> PluginResponse {
        PluginResponse(
            status: status, body: WireCoding.encodeError(message), endpoint: endpoint, error: message)
    }
}
