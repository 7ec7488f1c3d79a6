/// What answers the requests a ``PluginServer`` receives: Docker's plugin API (``PluginRouter``), or another API
/// served the same way on its own socket (weft's control API). Never throws: every failure is a reply.
public protocol HTTPResponder: Sendable {
    /// Answers one request.
    /// - Parameters:
    ///   - method: the HTTP method, e.g. `POST`.
    ///   - path: the request target, with any query string.
    ///   - body: the request body, possibly empty.
    func respond(method: String, path: String, body: [UInt8]) async -> PluginResponse
}

extension PluginRouter: HTTPResponder {}
