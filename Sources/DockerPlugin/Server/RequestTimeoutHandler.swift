import Logging
import NIOCore
import NIOHTTP1

/// Closes connections whose client stalls: one that started a request but does not finish sending it within
/// the request timeout gets a 408 (`{"Err": …}`) and is closed; one that sits idle between requests longer than
/// the idle timeout is closed. The time the backend takes to answer is never counted.
///
/// It sits after NIO's HTTP server handlers, so it sees whole request parts, one request at a time (the
/// pipelining handler holds back the next request until the previous response has ended). A
/// ``RequestStartObserver`` at the front of the pipeline tells it when the first bytes of a request arrive, so a
/// client that stalls inside the request head is timed out too (it is closed without a reply: no request has
/// reached the HTTP layer to answer).
final class RequestTimeoutHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// A request has started and has not been fully received; `uri` is `nil` while its head is incomplete.
        case receiving(uri: String?)
        /// The request is with the backend, or its response is being written.
        case processing
    }

    private let requestTimeout: TimeAmount
    private let idleTimeout: TimeAmount?
    private let logger: Logger
    private var state = State.idle
    private var responseStarted = false
    /// A response went out before its request was fully received (413): the connection is about to close, and
    /// no second response may follow.
    private var respondedEarly = false
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(requestTimeout: TimeAmount, idleTimeout: TimeAmount?, logger: Logger) {
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
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
        self.context = nil
    }

    /// Called by ``RequestStartObserver`` when bytes arrive: if the connection was idle, a request has begun
    /// and the request timeout starts now rather than once its head is complete.
    func bytesArrived() {
        guard case .idle = state, let context else { return }
        state = .receiving(uri: nil)
        arm(after: requestTimeout, context: context) { handler, context in
            handler.requestTimedOut(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        cancelTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            // The timer already runs if the observer saw the request's first bytes; keep measuring from there.
            let started: Bool
            if case .receiving = state { started = timer != nil } else { started = false }
            state = .receiving(uri: head.uri)
            respondedEarly = false
            if !started {
                arm(after: requestTimeout, context: context) { handler, context in
                    handler.requestTimedOut(context: context)
                }
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
            switch state {
            case .processing:
                state = .idle
                armIdleTimer(context: context)
            case .receiving:
                respondedEarly = true
            case .idle:
                break
            }
        }
        context.write(data, promise: promise)
    }

    private func requestTimedOut(context: ChannelHandlerContext) {
        guard case .receiving(let uri) = state else { return }
        logger.warning(
            "client stalled mid-request; closing the connection",
            metadata: [
                "route": "\(uri ?? "(incomplete request head)")", "status": uri == nil ? "-" : "408",
                "outcome": "timed out", "timeout": "\(requestTimeout)",
            ])
        state = .processing
        guard !responseStarted, !respondedEarly, uri != nil else {
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

/// Sits first in the pipeline, before the HTTP decoder, and reports raw bytes to the ``RequestTimeoutHandler``,
/// which otherwise would not learn of a request until its whole head had been parsed.
final class RequestStartObserver: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let timeouts: RequestTimeoutHandler

    init(reportingTo timeouts: RequestTimeoutHandler) {
        self.timeouts = timeouts
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        timeouts.bytesArrived()
        context.fireChannelRead(data)
    }
}
