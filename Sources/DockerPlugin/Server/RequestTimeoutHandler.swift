import Logging
import NIOCore
import NIOHTTP1

/// Closes connections whose client stalls: one that started a request but does not finish sending it within
/// the request timeout gets a 408 (`{"Err": …}`) and is closed; one that sits idle between requests longer than
/// the idle timeout is closed. The time the backend takes to answer is never counted.
///
/// It sits after NIO's HTTP server handlers, so it sees whole request parts, one request at a time (the
/// pipelining handler holds back the next request until the previous response has ended).
final class RequestTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// A request has started and has not been fully received.
        case receiving(uri: String)
        /// The request is with the backend, or its response is being written.
        case processing
    }

    private let requestTimeout: TimeAmount
    private let idleTimeout: TimeAmount?
    private let logger: Logger
    private var state = State.idle
    private var responseStarted = false
    private var timer: Scheduled<Void>?

    init(requestTimeout: TimeAmount, idleTimeout: TimeAmount?, logger: Logger) {
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            armIdleTimer(context: context)
        }
    }

    func channelActive(context: ChannelHandlerContext) {
        armIdleTimer(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimer()
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            state = .receiving(uri: head.uri)
            arm(after: requestTimeout, context: context) { handler, context in
                handler.requestTimedOut(context: context)
            }
        case .body:
            break
        case .end:
            state = .processing
            cancelTimer()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            responseStarted = true
        case .head:
            break  // 100 Continue: the final response has not started.
        case .body:
            break
        case .end:
            responseStarted = false
            if case .processing = state {
                state = .idle
                armIdleTimer(context: context)
            }
        }
        context.write(data, promise: promise)
    }

    private func requestTimedOut(context: ChannelHandlerContext) {
        guard case .receiving(let uri) = state else { return }
        logger.warning(
            "client stalled mid-request; closing the connection",
            metadata: ["route": "\(uri)", "status": "408", "timeout": "\(requestTimeout)"])
        state = .processing
        guard !responseStarted else {
            context.close(promise: nil)
            return
        }
        let message = "request not completed within \(requestTimeout.nanoseconds / 1_000_000) ms; closing the connection"
        let body = WireCoding.encodeError(message)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: PluginResponse.contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        headers.add(name: "Connection", value: "close")
        let head = HTTPResponseHead(version: .http1_1, status: .requestTimeout, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    private func armIdleTimer(context: ChannelHandlerContext) {
        guard let idleTimeout else {
            cancelTimer()
            return
        }
        arm(after: idleTimeout, context: context) { handler, context in
            guard case .idle = handler.state else { return }
            handler.logger.debug("closing idle connection")
            context.close(promise: nil)
        }
    }

    private func arm(
        after delay: TimeAmount, context: ChannelHandlerContext,
        _ action: @escaping (RequestTimeoutHandler, ChannelHandlerContext) -> Void
    ) {
        cancelTimer()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            timer = nil
            action(self, context)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }
}
