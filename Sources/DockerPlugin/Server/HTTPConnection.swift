import CoreMetrics
import Logging
import NIOCore
import NIOHTTP1

/// Serves the requests of one client connection, one after the other (HTTP/1.1 keep-alive): collects each
/// request's body up to the limit, hands it to the router, writes the reply and logs one line for it.
struct HTTPConnection {
    typealias Channel = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// An accepted connection and the user at its other end (`nil` when the kernel did not say).
    struct Client: Sendable {
        var channel: Channel
        var peerUserID: UInt32?
    }

    let responder: any HTTPResponder
    let maxBodySize: Int
    /// Who is served (``PluginServerConfiguration/allowedPeerUserIDs``).
    let allowedPeers: Set<UInt32>?
    /// ``PluginServerConfiguration/slowRequestWarning``.
    let slowRequestWarning: Duration?
    let logger: Logger

    /// A body larger than the limit but no larger than this is read and discarded, so the client can finish
    /// sending and read the 413 on a connection that stays usable. Beyond it the connection is closed.
    private var drainLimit: Int { maxBodySize * 8 }

    /// The request being received.
    private struct PendingRequest {
        var head: HTTPRequestHead
        var start: ContinuousClock.Instant
        var body: [UInt8] = []
        var received = 0
        var tooLarge = false
    }

    func serve(_ client: Client) async {
        let connection = client.channel
        let refusal = allowedPeers.flatMap { allowed -> String? in
            guard let user = client.peerUserID else { return "the peer's user is unknown (SO_PEERCRED failed)" }
            return allowed.contains(user) ? nil : "user \(user) may not use this socket: it serves root only"
        }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var pending: PendingRequest?
                for try await part in inbound {
                    switch part {
                    case .head(let head):
                        var request = PendingRequest(head: head, start: .now)
                        let expectsContinue = head.headers[canonicalForm: "expect"].contains {
                            $0.lowercased() == "100-continue"
                        }
                        if let declared = head.headers.first(name: "content-length").flatMap(Int.init),
                            declared > maxBodySize
                        {
                            // A client waiting for 100-continue has not sent the body: refuse without reading it.
                            guard declared <= drainLimit, !expectsContinue else {
                                try await write(tooLarge(declared, request), for: request, keepAlive: false, to: outbound)
                                return
                            }
                            request.tooLarge = true
                        } else if expectsContinue {
                            try await outbound.write(.head(HTTPResponseHead(version: head.version, status: .continue)))
                        }
                        pending = request
                    case .body(let buffer):
                        guard var request = pending else { continue }
                        pending = nil  // so the append below does not copy the body collected so far
                        request.received += buffer.readableBytes
                        if request.received > maxBodySize {
                            request.tooLarge = true
                            request.body = []
                        }
                        if request.received > drainLimit {
                            try await write(
                                tooLarge(request.received, request), for: request, keepAlive: false, to: outbound)
                            return
                        }
                        if !request.tooLarge {
                            request.body.append(contentsOf: buffer.readableBytesView)
                        }
                        pending = request
                    case .end:
                        guard let request = pending else { continue }
                        pending = nil
                        let response: PluginResponse
                        if let refusal {
                            response = .failure(status: 403, endpoint: nil, message: refusal)
                        } else if request.tooLarge {
                            response = tooLarge(request.received, request)
                        } else {
                            let watchdog = slowRequestWatchdog(for: request)
                            response = await responder.respond(
                                method: request.head.method.rawValue, path: request.head.uri, body: request.body)
                            watchdog?.cancel()
                        }
                        logger.trace(
                            "request body",
                            metadata: [
                                "route": "\(request.head.uri)",
                                "body": "\(String(decoding: request.body, as: UTF8.self))",
                                "reply": "\(String(decoding: response.body, as: UTF8.self))",
                            ])
                        if let stream = response.stream {
                            try await write(stream, response, for: request, channel: connection.channel, to: outbound)
                            return
                        }
                        let keepAlive = request.head.isKeepAlive && refusal == nil
                        try await write(response, for: request, keepAlive: keepAlive, to: outbound)
                        if !keepAlive { return }
                    }
                }
            }
        } catch {
            logger.debug("connection ended with an error", metadata: ["error": "\(error)"])
        }
    }

    /// Logs one warning (and counts it) if `request` is still unanswered after ``slowRequestWarning``; the
    /// caller cancels it when the answer comes.
    private func slowRequestWatchdog(for request: PendingRequest) -> Task<Void, Never>? {
        guard let slowRequestWarning else { return nil }
        let (logger, method, uri) = (logger, request.head.method.rawValue, request.head.uri)
        let route = PluginEndpoint(path: uri)?.rawValue
        return Task {
            do { try await Task.sleep(for: slowRequestWarning) } catch { return }
            if let route { Counter(label: "weft_plugin_slow_requests_total", dimensions: [("route", route)]).increment() }
            logger.warning(
                "\(method) \(uri) still unanswered after \(slowRequestWarning): dockerd waits for it",
                metadata: ["route": "\(route ?? uri)", "pending_after": "\(slowRequestWarning)"])
        }
    }

    private func tooLarge(_ size: Int, _ request: PendingRequest) -> PluginResponse {
        .failure(
            status: 413, endpoint: PluginEndpoint(path: request.head.uri),
            message: "request body of \(size) bytes exceeds the limit of \(maxBodySize) bytes")
    }

    private func write(
        _ response: PluginResponse, for request: PendingRequest, keepAlive: Bool,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.mediaType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        if response.status == 405 {
            headers.add(name: "Allow", value: "POST")
        }
        if !keepAlive {
            headers.add(name: "Connection", value: "close")
        } else if request.head.version == .http1_0 {
            headers.add(name: "Connection", value: "keep-alive")
        }
        let head = HTTPResponseHead(
            version: request.head.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        var parts: [HTTPServerResponsePart] = [.head(head)]
        if request.head.method != .HEAD {
            parts.append(.body(.byteBuffer(ByteBuffer(bytes: response.body))))
        }
        parts.append(.end(nil))
        try await outbound.write(contentsOf: parts)
        log(response, for: request)
    }

    /// Writes a streamed reply: its head without a length (NIO frames the body as chunks), each piece as it comes
    /// (the channel closed when the client leaves one untaken for the body's write timeout), then the end. The
    /// connection closes after it.
    private func write(
        _ stream: StreamedBody, _ response: PluginResponse, for request: PendingRequest, channel: any NIOCore.Channel,
        to outbound: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>
    ) async throws {
        defer { stream.end() }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.mediaType)
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(
            version: request.head.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        try await outbound.write(.head(head))
        log(response, for: request)
        guard request.head.method != .HEAD else {
            try await outbound.write(.end(nil))
            return
        }
        for await chunk in stream.chunks {
            let timeout = stream.writeTimeout
            let watchdog = Task {
                do { try await Task.sleep(for: timeout) } catch { return }
                channel.close(promise: nil)
            }
            defer { watchdog.cancel() }
            try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: chunk))))
        }
        try await outbound.write(.end(nil))
    }

    private func log(_ response: PluginResponse, for request: PendingRequest) {
        let elapsed = ContinuousClock.now - request.start
        let milliseconds = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        let duration = Self.format(milliseconds: milliseconds)
        let route = response.endpoint?.rawValue ?? request.head.uri
        var metadata: Logger.Metadata = [
            "route": "\(route)", "status": "\(response.status)", "duration_ms": "\(duration)",
            "outcome": "\(response.isSuccess ? "ok" : "failed")",
        ]
        if let error = response.error {
            metadata["error"] = "\(error)"
        }
        let outcome = response.isSuccess ? "ok" : "failed"
        // Docker's routes only (a bounded set): the control and metrics listeners answer with no endpoint.
        if let endpoint = response.endpoint {
            Counter(label: "weft_plugin_requests_total", dimensions: [("route", endpoint.rawValue), ("outcome", outcome)]).increment()
            Timer(label: "weft_plugin_request_duration_seconds", dimensions: [("route", endpoint.rawValue)])
                .recordNanoseconds(elapsed.components.seconds &* 1_000_000_000 &+ elapsed.components.attoseconds / 1_000_000_000)
        }
        logger.log(
            level: response.isSuccess ? .info : .warning,
            "\(request.head.method.rawValue) \(route) \(response.status) \(outcome) in \(duration) ms",
            metadata: metadata)
    }

    /// Milliseconds with two decimals, without Foundation's formatter.
    private static func format(milliseconds: Double) -> String {
        let hundredths = Int((milliseconds * 100).rounded())
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
