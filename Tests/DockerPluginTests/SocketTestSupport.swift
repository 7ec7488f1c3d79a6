import DockerPlugin
import Glibc
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A fresh directory under /tmp with a short name (sun_path holds 108 bytes), removed with its contents.
func withTemporaryDirectory<R>(_ body: (String) async throws -> R) async throws -> R {
    var template = Array("/tmp/weft-XXXXXX".utf8CString)
    let directory = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let result = mkdtemp(buffer.baseAddress!) else { return nil }
        return String(cString: result)
    }
    guard let directory else { throw BackendFailure(description: "mkdtemp failed: errno \(errno)") }
    defer {
        if let handle = opendir(directory) {
            while let entry = readdir(handle) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { unlink(directory + "/" + name) }
            }
            closedir(handle)
        }
        rmdir(directory)
    }
    return try await body(directory)
}

/// A logger that drops everything, for tests that do not look at logs.
let silentLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

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

/// One HTTP response as read off the wire.
struct RawResponse: Sendable {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: String

    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A request as dockerd's Go client writes it: POST, Content-Length, no Content-Type, body with a trailing newline.
func dockerRequest(_ endpoint: PluginEndpoint, _ body: String = "", extraHeaders: String = "") -> String {
    let payload = body.isEmpty ? "" : body + "\n"
    return "POST \(endpoint.path) HTTP/1.1\r\nHost: plugin.moby.localhost\r\nUser-Agent: Go-http-client/1.1\r\n"
        + "Content-Length: \(payload.utf8.count)\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n"
        + "Accept-Encoding: gzip\r\n\(extraHeaders)\r\n\(payload)"
}

/// A client connection that writes raw bytes and parses responses, so tests can also misbehave (stall, pipeline,
/// send too much).
struct RawConnection {
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var pending: [UInt8] = []

    mutating func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    mutating func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Sends a request and reads its response.
    mutating func call(_ endpoint: PluginEndpoint, _ body: String = "") async throws -> RawResponse? {
        try await send(dockerRequest(endpoint, body))
        return try await readResponse()
    }

    /// The next complete response, or `nil` if the server closed the connection first.
    mutating func readResponse() async throws -> RawResponse? {
        while true {
            if let response = try parse() { return response }
            guard let chunk = try await inbound.next() else { return nil }
            pending += chunk.readableBytesView
        }
    }

    /// Reads until the server closes the connection; returns whatever arrived meanwhile.
    mutating func readUntilClosed() async throws -> [UInt8] {
        do {
            while let chunk = try await inbound.next() {
                pending += chunk.readableBytesView
            }
        } catch {
            // A reset counts as closed.
        }
        defer { pending = [] }
        return pending
    }

    private mutating func parse() throws -> RawResponse? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headerEnd = pending.indices.first(where: { pending[$0...].starts(with: separator) }) else {
            return nil
        }
        let headerText = String(decoding: pending[..<headerEnd], as: UTF8.self)
        var lines = headerText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw BackendFailure(description: "bad status line in \(headerText)")
        }
        let headers = lines.map { line -> (name: String, value: String) in
            let parts = line.split(separator: ":", maxSplits: 1)
            return (String(parts[0]), parts.count > 1 ? parts[1].trimmingCharacters(in: " ") : "")
        }
        let length = headers.first { $0.name.lowercased() == "content-length" }.flatMap { Int($0.value) } ?? 0
        let bodyStart = headerEnd + separator.count
        guard pending.count >= bodyStart + length else { return nil }
        let body = String(decoding: pending[bodyStart..<(bodyStart + length)], as: UTF8.self)
        pending.removeFirst(bodyStart + length)
        return RawResponse(status: status, headers: headers, body: body)
    }
}

extension StringProtocol {
    fileprivate func components(separatedBy separator: String) -> [String] {
        var result: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            result.append(String(rest[..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        result.append(String(rest))
        return result
    }

    fileprivate func trimmingCharacters(in character: Character) -> String {
        String(drop { $0 == character }.reversed().drop { $0 == character }.reversed())
    }
}

/// Connects to the socket and runs `body` with a raw connection. The connection closes itself after
/// `closeAfter`, so a test waiting on a server that never answers ends in bounded time instead of hanging.
func withConnection<R: Sendable>(
    to path: String, closeAfter: TimeAmount = .seconds(10), _ body: (inout RawConnection) async throws -> R
) async throws -> R {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(unixDomainSocketPath: path) { channel in
            channel.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
            }
        }
    let underlying = channel.channel
    let guardTimer = underlying.eventLoop.scheduleTask(in: closeAfter) { underlying.close(promise: nil) }
    defer { guardTimer.cancel() }
    return try await channel.executeThenClose { inbound, outbound in
        var connection = RawConnection(inbound: inbound.makeAsyncIterator(), outbound: outbound)
        return try await body(&connection)
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
