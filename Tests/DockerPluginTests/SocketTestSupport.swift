import DockerPlugin
import Glibc
import Logging
import NIOCore
import NIOPosix
import Synchronization
import TestSupport

/// Runs a plugin server on a socket in a temporary directory for the duration of `body`, then cancels it and
/// checks it stopped cleanly (it must not throw on cancellation) and removed its socket file.
func withServer<R: Sendable>(
    network: any NetworkDriverBackend = RecordingBackend(),
    ipam: any IpamBackend = RecordingBackend(),
    logger: Logger = silentLogger,
    configure: (inout PluginServerConfiguration) -> Void = { _ in },
    _ body: @Sendable (String) async throws -> R
) async throws -> R {
    try await withTemporaryDirectory { directory in
        var configuration = PluginServerConfiguration(socketPath: directory + "/p.sock")
        configure(&configuration)
        let server = PluginServer(
            configuration: configuration, router: PluginRouter(network: network, ipam: ipam), logger: logger)
        let listener = try await server.bind()
        let result = try await withThrowingTaskGroup(of: R?.self) { group in
            group.addTask {
                try await listener.serve()
                return nil
            }
            let result = try await body(configuration.socketPath)
            group.cancelAll()
            try await group.waitForAll()
            return result
        }
        if access(configuration.socketPath, F_OK) == 0 {
            throw BackendFailure(description: "the server left its socket file behind")
        }
        return result
    }
}

/// Leaves a socket file at `path` that nobody listens on, as a crashed plugin would.
func makeStaleSocket(at path: String) throws {
    let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw BackendFailure(description: "socket: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    withUnsafeMutableBytes(of: &address.sun_path) { raw in
        let bytes = Array(path.utf8)
        raw.copyBytes(from: bytes)
        raw[bytes.count] = 0
    }
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
        }
    }
    guard result == 0 else { throw BackendFailure(description: "bind: errno \(errno)") }
}

/// The permission bits of the file at `path`.
func permissions(of path: String) -> UInt32? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    return UInt32(info.st_mode) & 0o777
}

// MARK: a raw HTTP/1.1 client

/// A request as dockerd's Go client writes it: POST, Content-Length, no Content-Type, body with a trailing newline.
func dockerRequest(_ endpoint: PluginEndpoint, _ body: String = "", extraHeaders: String = "") -> String {
    let payload = body.isEmpty ? "" : body + "\n"
    return "POST \(endpoint.path) HTTP/1.1\r\nHost: plugin.moby.localhost\r\nUser-Agent: Go-http-client/1.1\r\n"
        + "Content-Length: \(payload.utf8.count)\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n"
        + "Accept-Encoding: gzip\r\n\(extraHeaders)\r\n\(payload)"
}

extension RawConnection {
    /// Sends a request as dockerd does and reads its response.
    mutating func call(_ endpoint: PluginEndpoint, _ body: String = "") async throws -> RawResponse? {
        try await send(dockerRequest(endpoint, body))
        return try await readResponse()
    }
}

/// Collects log records, to check what the server logs.
final class LogCapture: Sendable {
    struct Record: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let storage = Mutex<[Record]>([])

    var records: [Record] { storage.withLock { $0 } }

    func logger() -> Logger {
        var logger = Logger(label: "capture", factory: { _ in Handler(capture: self) })
        logger.logLevel = .debug
        return logger
    }

    fileprivate func append(_ record: Record) {
        storage.withLock { $0.append(record) }
    }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var merged: [String: String] = [:]
            for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) {
                merged[key] = "\(value)"
            }
            capture.append(Record(level: event.level, message: "\(event.message)", metadata: merged))
        }
    }
}
