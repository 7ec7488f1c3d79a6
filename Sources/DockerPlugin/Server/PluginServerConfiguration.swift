/// How the plugin server listens and how it protects itself from misbehaving clients.
public struct PluginServerConfiguration: Sendable, Equatable {
    /// Where Docker looks for a legacy (v1) plugin named `weft`.
    public static let defaultSocketPath = "/run/docker/plugins/weft.sock"

    /// The Unix socket path. At most 107 bytes (`sun_path` holds 108 with its terminating NUL).
    public var socketPath: String
    /// Permission bits of the socket file. `0o600` by default: only root (dockerd runs as root) may connect.
    /// No group needs the plugin directly, and a `docker`-group member talking to it behind dockerd's back
    /// could allocate addresses or tear down networks, so the group gets no access.
    public var socketPermissions: UInt32
    /// The largest request body served. Docker's bodies are a few kilobytes; a larger one gets a 413.
    public var maxBodySize: Int
    /// How long a client may take to send one whole request once it has started it. A client that stalls
    /// mid-request is answered 408 and disconnected; other connections are unaffected.
    public var requestTimeout: Duration
    /// How long a connection may sit between requests before it is closed; `nil` keeps idle connections open
    /// (dockerd pools keep-alive connections and reconnects transparently).
    public var idleTimeout: Duration?
    /// The user IDs whose connections are served, checked with `SO_PEERCRED` beside the socket's mode; a
    /// connection from any other user gets 403 on every request. `nil` serves whoever can connect.
    public var allowedPeerUserIDs: Set<UInt32>?
    /// A request the backend has not answered after this long gets one warning line (and
    /// `weft_plugin_slow_requests_total`), while it is still pending: dockerd waits on weft's answers with no
    /// timeout of its own (a container's removal waits for Leave and DeleteEndpoint), so an operator whose
    /// `docker rm` hangs sees whether weft is the one it waits for. `nil` never warns.
    public var slowRequestWarning: Duration?
    /// What the socket serves, as log lines name it.
    public var name: String
    /// A TCP address to listen on instead of the Unix socket (the metrics listener); nil for the socket.
    public var tcpAddress: TCPAddress?

    /// A host (an IP address) and a port; port 0 lets the kernel choose.
    public struct TCPAddress: Sendable, Equatable, CustomStringConvertible {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    public init(
        socketPath: String = Self.defaultSocketPath,
        socketPermissions: UInt32 = 0o600,
        maxBodySize: Int = 1 << 20,
        requestTimeout: Duration = .seconds(10),
        idleTimeout: Duration? = .seconds(300),
        slowRequestWarning: Duration? = .seconds(5),
        allowedPeerUserIDs: Set<UInt32>? = nil,
        name: String = "plugin API",
        tcpAddress: TCPAddress? = nil
    ) {
        self.tcpAddress = tcpAddress
        self.allowedPeerUserIDs = allowedPeerUserIDs
        self.name = name
        self.socketPath = socketPath
        self.socketPermissions = socketPermissions
        self.maxBodySize = maxBodySize
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.slowRequestWarning = slowRequestWarning
    }
}
