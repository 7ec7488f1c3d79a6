import Foundation
import Glibc
import Logging
import NIOCore
import NIOPosix

/// A test's failure to set something up, in words.
public struct TestSetupFailure: Error, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// A logger that drops everything, for tests that do not look at logs.
public let silentLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A fresh directory under /tmp with a short name (sun_path holds 108 bytes), removed with all it holds.
public func withTemporaryDirectory<R>(_ body: (String) async throws -> R) async throws -> R {
    var template = Array("/tmp/weft-XXXXXX".utf8CString)
    let directory = template.withUnsafeMutableBufferPointer { buffer -> String? in
        guard let result = mkdtemp(buffer.baseAddress!) else { return nil }
        return String(cString: result)
    }
    guard let directory else { throw TestSetupFailure("mkdtemp failed: errno \(errno)") }
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return try await body(directory)
}

// MARK: a raw HTTP/1.1 client on a Unix socket

/// One HTTP response as read off the wire.
public struct RawResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: String

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// A client connection on a Unix socket that writes raw bytes and parses responses, for the servers on weft's
/// sockets (plugin API, control API). Tests can also misbehave with it (stall, pipeline, send too much).
public struct RawConnection {
    var inbound: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    var pending: [UInt8] = []

    public mutating func send(_ text: String) async throws {
        try await send(Array(text.utf8))
    }

    public mutating func send(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// Sends `method target` with `body` (and its length) and reads the response.
    public mutating func request(_ method: String, _ target: String, body: String = "") async throws -> RawResponse? {
        try await send("\(method) \(target) HTTP/1.1\r\nHost: weft\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        return try await readResponse()
    }

    /// The next complete response, or `nil` if the server closed the connection first.
    public mutating func readResponse() async throws -> RawResponse? {
        while true {
            if let response = try parse() { return response }
            guard let chunk = try await inbound.next() else { return nil }
            pending += chunk.readableBytesView
        }
    }

    /// Reads until the server closes the connection; returns whatever arrived meanwhile.
    public mutating func readUntilClosed() async throws -> [UInt8] {
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
            throw TestSetupFailure("bad status line in \(headerText)")
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

/// Connects to the Unix socket at `path` and runs `body` with a raw connection. The connection closes itself
/// after `closeAfter`, so a test waiting on a server that never answers ends in bounded time instead of hanging.
public func withConnection<R: Sendable>(
    to path: String, closeAfter: TimeAmount = .seconds(30), _ body: (inout RawConnection) async throws -> R
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
