import Logging
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// Docker's plugin API over HTTP/1.1 on a Unix socket, built on raw SwiftNIO.
///
/// Every request goes to a ``PluginRouter``. Connections are served concurrently, each with keep-alive; bodies
/// are limited in size; clients that stall are timed out. As a ServiceLifecycle `Service`, the server drains on
/// graceful shutdown (it stops accepting, finishes the requests in flight, closes idle connections) and also
/// returns normally when its task is cancelled, so it never surfaces a `CancellationError` to a `ServiceGroup`.
public struct PluginServer: Service {
    /// Socket path, permissions, limits and timeouts.
    public let configuration: PluginServerConfiguration
    /// Where requests go.
    public let responder: any HTTPResponder
    /// Receives one line per request (route, status, outcome, duration), and the server's lifecycle events.
    public let logger: Logger

    public init(configuration: PluginServerConfiguration = PluginServerConfiguration(), router: PluginRouter,
                logger: Logger)
    {
        self.init(configuration: configuration, responder: router, logger: logger)
    }

    /// A server for another API than Docker's, on its own socket.
    public init(configuration: PluginServerConfiguration, responder: any HTTPResponder, logger: Logger) {
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
    }

    /// Binds the socket and serves until graceful shutdown or cancellation.
    public func run() async throws {
        try await bind().serve()
    }

    /// Binds the socket without serving yet, so a caller can fail fast (socket in use, bad path) and know the
    /// socket accepts connections before it carries on. Call ``PluginListener/serve()`` on the result.
    public func bind() async throws -> PluginListener {
        let quiescing = ServerQuiescingHelper(group: MultiThreadedEventLoopGroup.singleton)
        let connection = HTTPConnection(
            responder: responder, maxBodySize: configuration.maxBodySize, allowedPeers: configuration.allowedPeerUserIDs,
            slowRequestWarning: configuration.slowRequestWarning, logger: logger)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiescing.makeServerChannelHandler(channel: channel))
                }
            }
        let initializer = childInitializer()
        if let tcp = configuration.tcpAddress {
            let channel = try await bootstrap.bind(host: tcp.host, port: tcp.port, childChannelInitializer: initializer)
            let port = channel.channel.localAddress?.port ?? tcp.port
            logger.info("\(configuration.name) listening", metadata: ["address": "\(tcp.host):\(port)"])
            return PluginListener(
                name: configuration.name, socketPath: "\(tcp.host):\(port)", port: port, channel: channel,
                quiescing: quiescing, identity: nil, connection: connection, logger: logger)
        }
        let path = configuration.socketPath
        if try SocketFile.prepare(path) {
            logger.notice("replaced a stale socket file nobody was listening on", metadata: ["socket": "\(path)"])
        }
        let channel = try await bootstrap.bind(unixDomainSocketPath: path, childChannelInitializer: initializer)
        // Until the chmod below the socket has the mode the umask gives it (0755 with the usual 022); connecting
        // needs write permission, so even in that window only root can connect.
        let identity = SocketFile.identity(of: path)
        do {
            try SocketFile.restrict(path, permissions: configuration.socketPermissions)
        } catch {
            try? await channel.channel.close()
            SocketFile.remove(path, ifStill: identity)
            throw error
        }
        logger.info(
            "\(configuration.name) listening",
            metadata: ["socket": "\(path)", "permissions": "0\(String(configuration.socketPermissions, radix: 8))"])
        return PluginListener(
            name: configuration.name, socketPath: path, port: nil, channel: channel, quiescing: quiescing,
            identity: identity, connection: connection, logger: logger)
    }

    /// What every accepted connection gets: HTTP/1.1 with pipelining, the request and idle timeouts, and the
    /// peer's user (for ``PluginServerConfiguration/allowedPeerUserIDs``).
    private func childInitializer() -> @Sendable (any Channel) -> EventLoopFuture<HTTPConnection.Client> {
        let requestTimeout = TimeAmount(configuration.requestTimeout)
        let idleTimeout = configuration.idleTimeout.map(TimeAmount.init)
        let logger = self.logger
        return { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                    withPipeliningAssistance: true, withErrorHandling: true)
                let timeouts = RequestTimeoutHandler(requestTimeout: requestTimeout, idleTimeout: idleTimeout, logger: logger)
                try channel.pipeline.syncOperations.addHandler(timeouts)
                try channel.pipeline.syncOperations.addHandler(RequestStartObserver(reportingTo: timeouts), position: .first)
                return try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel)
            }.flatMap { wrapped in
                PeerCredentials.userID(of: channel).map { HTTPConnection.Client(channel: wrapped, peerUserID: $0) }
            }
        }
    }
}

/// A bound plugin socket, ready to serve. Serve it exactly once.
public struct PluginListener: Sendable {
    /// What the socket serves, for log lines.
    public let name: String
    /// The path the server listens on (`host:port` for TCP).
    public let socketPath: String
    /// The TCP port it listens on (the one the kernel chose for port 0); nil on a Unix socket.
    public let port: Int?
    let channel: NIOAsyncChannel<HTTPConnection.Client, Never>
    let quiescing: ServerQuiescingHelper
    let identity: SocketFile.Identity?
    let connection: HTTPConnection
    let logger: Logger

    /// Accepts and serves connections until graceful shutdown (drain) or task cancellation (stop), then removes
    /// the socket file if it is still the one this server created.
    public func serve() async throws {
        defer {
            SocketFile.remove(socketPath, ifStill: identity)
            logger.info("\(name) stopped", metadata: ["socket": "\(socketPath)"])
        }
        let connection = self.connection
        let quiescing = self.quiescing
        let logger = self.logger
        do {
            try await withGracefulShutdownHandler {
                try await channel.executeThenClose { clients in
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await client in clients {
                            group.addTask { await connection.serve(client) }
                        }
                    }
                }
            } onGracefulShutdown: {
                logger.info("graceful shutdown: finishing requests in flight")
                quiescing.initiateShutdown(promise: nil)
            }
        } catch where Task.isCancelled || Task.isShuttingDownGracefully {
            // Cancellation (or a shutdown that escalated to it) is a normal stop, not a failure: rethrowing it
            // would make a ServiceGroup report an error, and a top-level caller crash.
            logger.debug("accept loop ended by shutdown", metadata: ["error": "\(error)"])
        }
    }
}
