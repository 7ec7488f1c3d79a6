/// Why the plugin server could not start.
public enum PluginServerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Another process accepts connections on the socket.
    case socketInUse(path: String)
    /// Something other than a socket sits at the socket path.
    case notASocket(path: String)
    /// The path does not fit in `sun_path`.
    case socketPathTooLong(path: String, limit: Int)
    /// A system call on the socket path failed.
    case socketSetupFailed(path: String, operation: String, errno: Int32)

    public var description: String {
        switch self {
        case .socketInUse(let path):
            "another process is already listening on \(path); stop it first (weft does not take over a live socket)"
        case .notASocket(let path):
            "\(path) exists and is not a socket; refusing to replace it"
        case .socketPathTooLong(let path, let limit):
            "socket path \(path) is \(path.utf8.count) bytes long; Unix sockets allow at most \(limit)"
        case .socketSetupFailed(let path, let operation, let code):
            "cannot \(operation) \(path): \(SocketFile.errorText(code))"
        }
    }
}
