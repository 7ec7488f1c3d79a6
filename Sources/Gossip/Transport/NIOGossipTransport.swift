#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// The real transport: UDP datagrams and TCP streams on one port, with SwiftNIO.
///
/// TCP is bound first (so a port of 0 picks a free one), then UDP on the same port number.
public final class NIOGossipTransport: GossipTransport {
    public let localAddress: GossipAddress
    public let packets: AsyncStream<IncomingPacket>
    public let streams: AsyncStream<GossipStream>
    /// The address and port the sockets are bound to.
    public let boundAddress: GossipAddress
    private let udp: any Channel
    private let tcp: any Channel
    private let packetSink: AsyncStream<IncomingPacket>.Continuation
    private let streamSink: AsyncStream<GossipStream>.Continuation

    /// Binds UDP and TCP on `bind` (port 0: any free port, the same for both) and advertises `advertise`
    /// (default: the bound address, which must then not be a wildcard).
    public static func bind(
        _ bind: GossipAddress, advertise: GossipAddress? = nil,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> NIOGossipTransport {
        let (packets, packetSink) = AsyncStream.makeStream(of: IncomingPacket.self)
        let (streams, streamSink) = AsyncStream.makeStream(of: GossipStream.self)
        let tcp: any Channel
        let udp: any Channel
        do {
            tcp = try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(.backlog, value: 128)
                .childChannelInitializer { child in
                    child.eventLoop.makeCompletedFuture {
                        let stream = try Self.wrap(child)
                        streamSink.yield(stream)
                    }
                }
                .bind(host: bind.host, port: Int(bind.port)).get()
            let port = tcp.localAddress?.port ?? Int(bind.port)
            udp = try await DatagramBootstrap(group: group)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelOption(.socketOption(.so_rcvbuf), value: 2 << 20)
                .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DatagramReader(sink: packetSink))
                    }
                }
                .bind(host: bind.host, port: port).get()
        } catch {
            throw GossipTransportError.bindFailed("\(bind): \(error)")
        }
        let bound = GossipAddress(ip: bind.ip, port: UInt16(tcp.localAddress?.port ?? Int(bind.port)))
        var advertised = advertise ?? bound
        if advertised.port == 0 { advertised.port = bound.port }
        return NIOGossipTransport(
            localAddress: advertised, boundAddress: bound, udp: udp, tcp: tcp, packets: packets,
            packetSink: packetSink, streams: streams, streamSink: streamSink)
    }

    private init(
        localAddress: GossipAddress, boundAddress: GossipAddress, udp: any Channel, tcp: any Channel,
        packets: AsyncStream<IncomingPacket>, packetSink: AsyncStream<IncomingPacket>.Continuation,
        streams: AsyncStream<GossipStream>, streamSink: AsyncStream<GossipStream>.Continuation
    ) {
        self.localAddress = localAddress
        self.boundAddress = boundAddress
        self.udp = udp
        self.tcp = tcp
        self.packets = packets
        self.packetSink = packetSink
        self.streams = streams
        self.streamSink = streamSink
    }

    public func sendPacket(_ bytes: [UInt8], to address: GossipAddress) async throws {
        let remote = try SocketAddress(ipAddress: address.host, port: Int(address.port))
        let envelope = AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: bytes))
        try await udp.writeAndFlush(envelope).get()
    }

    public func openStream(to address: GossipAddress, timeout: Duration) async throws -> GossipStream {
        let milliseconds = max(1, Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        do {
            let channel = try await ClientBootstrap(group: udp.eventLoop)
                .connectTimeout(.milliseconds(milliseconds))
                .connect(host: address.host, port: Int(address.port)).get()
            return try await channel.eventLoop.submit { try Self.wrap(channel, remote: address) }.get()
        } catch let error as ChannelError where error == .connectTimeout(.milliseconds(milliseconds)) {
            throw GossipTransportError.timedOut("connecting to \(address)")
        } catch {
            throw GossipTransportError.unreachable(address)
        }
    }

    public func shutdown() async {
        try? await udp.close()
        try? await tcp.close()
        packetSink.finish()
        streamSink.finish()
    }

    /// Adds the reader to a connected channel and wraps it as a ``GossipStream``. Runs on the channel's loop.
    private static func wrap(_ channel: any Channel, remote: GossipAddress? = nil) throws -> GossipStream {
        let (inbound, sink) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        try channel.pipeline.syncOperations.addHandler(StreamReader(sink: sink))
        let peer = remote ?? channel.remoteAddress.flatMap(GossipAddress.init(socketAddress:)) ?? GossipAddress(ip: [], port: 0)
        return GossipStream(
            remote: peer, inbound: inbound,
            write: { bytes in try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get() },
            close: { channel.close(promise: nil) })
    }
}

extension GossipAddress {
    /// The address of a NIO socket address (IPv4 or IPv6); `nil` for a Unix socket.
    init?(socketAddress: SocketAddress) {
        guard let port = socketAddress.port else { return nil }
        guard let text = socketAddress.ipAddress else { return nil }
        switch socketAddress.protocol {
        case .inet:
            guard let parsed = GossipAddress(parsing: text, defaultPort: UInt16(port)) else { return nil }
            self = parsed
        case .inet6:
            var raw = [UInt8](repeating: 0, count: 16)
            guard inet_pton(AF_INET6, text, &raw) == 1 else { return nil }
            self.init(ip: raw, port: UInt16(port))
        default:
            return nil
        }
    }
}

/// Hands every received datagram to an `AsyncStream`.
private final class DatagramReader: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let sink: AsyncStream<IncomingPacket>.Continuation

    init(sink: AsyncStream<IncomingPacket>.Continuation) {
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = GossipAddress(socketAddress: envelope.remoteAddress) else { return }
        sink.yield(IncomingPacket(bytes: Array(buffer: envelope.data), source: source))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A UDP socket reports ICMP errors (port unreachable) here; they are not fatal.
    }
}

/// Hands every received chunk of a TCP connection to an `AsyncThrowingStream`, finishing it when the peer closes.
private final class StreamReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let sink: AsyncThrowingStream<[UInt8], any Error>.Continuation

    init(sink: AsyncThrowingStream<[UInt8], any Error>.Continuation) {
        self.sink = sink
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        sink.yield(Array(buffer: unwrapInboundIn(data)))
    }

    func channelInactive(context: ChannelHandlerContext) {
        sink.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        sink.finish(throwing: error)
        context.close(promise: nil)
    }
}
