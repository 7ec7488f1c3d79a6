import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import DockerPlugin

/// The plugin socket's timeouts on an `EmbeddedChannel`, whose event loop runs on a virtual clock: each deadline
/// is checked one millisecond before and at the moment it falls, with no waiting.
struct RequestTimeoutTests {
    static let requestTimeout = TimeAmount.milliseconds(300)
    static let idleTimeout = TimeAmount.seconds(5)

    static func channel() throws -> (EmbeddedChannel, RequestTimeoutHandler) {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let handler = RequestTimeoutHandler(requestTimeout: requestTimeout, idleTimeout: idleTimeout, logger: logger)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(unixDomainSocketPath: "/plugin.sock")).wait()
        return (channel, handler)
    }

    static func head(_ uri: String = "/NetworkDriver.CreateNetwork") -> HTTPServerRequestPart {
        .head(HTTPRequestHead(version: .http1_1, method: .POST, uri: uri))
    }

    /// The response parts written so far.
    static func written(_ channel: EmbeddedChannel) throws -> [HTTPServerResponsePart] {
        var parts: [HTTPServerResponsePart] = []
        while let part = try channel.readOutbound(as: HTTPServerResponsePart.self) { parts.append(part) }
        return parts
    }

    @Test("an idle connection is closed when the idle timeout falls, not a millisecond before")
    func idleConnectionClosed() throws {
        let (channel, _) = try Self.channel()
        channel.embeddedEventLoop.advanceTime(by: Self.idleTimeout - .milliseconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }

    @Test("a request whose body never ends gets 408 naming the timeout, and the connection closes")
    func stalledBodyGets408() throws {
        let (channel, _) = try Self.channel()
        try channel.writeInbound(Self.head())
        try channel.writeInbound(HTTPServerRequestPart.body(ByteBuffer(string: "{\"NetworkID\":")))
        channel.embeddedEventLoop.advanceTime(by: Self.requestTimeout - .milliseconds(1))
        let before = try Self.written(channel)
        #expect(channel.isActive && before.isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        let parts = try Self.written(channel)
        guard case .head(let head) = parts.first, case .body(.byteBuffer(let body)) = parts.dropFirst().first else {
            Issue.record("no 408 written: \(parts)")
            return
        }
        #expect(head.status == .requestTimeout && head.headers["Connection"] == ["close"])
        #expect(String(buffer: body).contains("request not completed within 300 ms"))
        #expect(!channel.isActive)
    }

    @Test("a client stalling inside the request head (bytes seen, no head parsed) is closed without a reply")
    func stalledHeadClosed() throws {
        let (channel, handler) = try Self.channel()
        handler.bytesArrived()
        channel.embeddedEventLoop.advanceTime(by: Self.requestTimeout)
        let parts = try Self.written(channel)
        #expect(parts.isEmpty && !channel.isActive)
    }

    @Test("the backend's time is never counted: a request answered after both timeouts still gets its answer, then idle counts again")
    func backendTimeNotCounted() throws {
        let (channel, _) = try Self.channel()
        try channel.writeInbound(Self.head())
        try channel.writeInbound(HTTPServerRequestPart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: Self.idleTimeout * 3)
        #expect(channel.isActive)
        try channel.writeOutbound(HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: .ok)))
        try channel.writeOutbound(HTTPServerResponsePart.end(nil))
        let parts = try Self.written(channel)
        #expect(parts.count == 2)
        channel.embeddedEventLoop.advanceTime(by: Self.idleTimeout - .milliseconds(1))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
    }
}
