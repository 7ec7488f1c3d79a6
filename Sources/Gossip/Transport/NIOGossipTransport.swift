#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import Synchronization

/// The real transport: UDP datagrams and TCP streams on one port, with SwiftNIO.
///
/// TCP is bound first (so a port of 0 picks a free one), then UDP on the same port number.
///
/// Datagrams are received through NIO and sent with `sendto(2)` on a duplicate of the same socket: NIO's
/// datagram channel closes itself on most send errors (all but `EMSGSIZE` and `EHOSTUNREACH`: `EPERM` from a
/// firewall, `ENETUNREACH`, `EACCES`, `EINVAL` ...), which would stop all gossip. Here a failed send throws
/// ``GossipTransportError/sendFailed(_:_:)`` for the node to count and the datagram is dropped; the socket stays
/// open and keeps receiving. ICMP errors are not reported on an unconnected UDP socket without `IP_RECVERR`, so
/// they reach neither path.
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
    /// The descriptor datagrams are sent on (a `dup` of the UDP socket); -1 once shut down.
    private let sender: Mutex<CInt>
    private let drops: DropCounter

    /// Binds UDP and TCP on `bind` (port 0: any free port, the same for both) and advertises `advertise`
    /// (default: the bound address, which must then not be a wildcard). At most `inboundQueueLimit` received
    /// datagrams wait for the node; more are dropped and counted in ``droppedPackets``.
    public static func bind(
        _ bind: GossipAddress, advertise: GossipAddress? = nil, inboundQueueLimit: Int = 4096,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> NIOGossipTransport {
        let (packets, packetSink) = AsyncStream.makeStream(
            of: IncomingPacket.self, bufferingPolicy: .bufferingOldest(max(1, inboundQueueLimit)))
        let (streams, streamSink) = AsyncStream.makeStream(of: GossipStream.self)
        let drops = DropCounter()
        let tcp: any Channel
        let udp: any Channel
        let sendSocket: CInt
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
            let socket = try UDPSocket.bound(to: SocketAddress(ipAddress: bind.host, port: port))
            sendSocket = fcntl(socket, F_DUPFD_CLOEXEC, 0)
            guard sendSocket >= 0 else {
                let reason = UDPSocket.errorText(errno)
                close(socket)
                try? await tcp.close()
                throw GossipTransportError.bindFailed("\(bind): dup: \(reason)")
            }
            do {
                udp = try await DatagramBootstrap(group: group)
                    .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: 65536))
                    .channelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                DatagramReader(sink: packetSink, drops: drops))
                        }
                    }
                    .withBoundSocket(socket).get()
            } catch {
                close(sendSocket)
                try? await tcp.close()
                throw error
            }
        } catch let error as GossipTransportError {
            throw error
        } catch {
            throw GossipTransportError.bindFailed("\(bind): \(error)")
        }
        let bound = GossipAddress(ip: bind.ip, port: UInt16(tcp.localAddress?.port ?? Int(bind.port)))
        var advertised = advertise ?? bound
        if advertised.port == 0 { advertised.port = bound.port }
        return NIOGossipTransport(
            localAddress: advertised, boundAddress: bound, udp: udp, tcp: tcp, packets: packets,
            packetSink: packetSink, streams: streams, streamSink: streamSink, sendSocket: sendSocket, drops: drops)
    }

    private init(
        localAddress: GossipAddress, boundAddress: GossipAddress, udp: any Channel, tcp: any Channel,
        packets: AsyncStream<IncomingPacket>, packetSink: AsyncStream<IncomingPacket>.Continuation,
        streams: AsyncStream<GossipStream>, streamSink: AsyncStream<GossipStream>.Continuation,
        sendSocket: CInt, drops: DropCounter
    ) {
        self.localAddress = localAddress
        self.boundAddress = boundAddress
        self.udp = udp
        self.tcp = tcp
        self.packets = packets
        self.packetSink = packetSink
        self.streams = streams
        self.streamSink = streamSink
        self.sender = Mutex(sendSocket)
        self.drops = drops
    }

    /// Datagrams dropped because the node did not take them in time.
    public var droppedPackets: Int { drops.value.load(ordering: .relaxed) }

    /// Whether the UDP socket is still open for receiving.
    public var isReceiving: Bool { udp.isActive }

    public func sendPacket(_ bytes: [UInt8], to address: GossipAddress) async throws {
        let remote: SocketAddress
        do {
            remote = try SocketAddress(ipAddress: address.host, port: Int(address.port))
        } catch {
            throw GossipTransportError.sendFailed(address, "not an IP address")
        }
        let failure: CInt = sender.withLock { socket in
            guard socket >= 0 else { return EBADF }
            let sent = bytes.withUnsafeBytes { buffer in
                remote.withSockAddr { pointer, size in
                    sendto(socket, buffer.baseAddress, buffer.count, CInt(MSG_NOSIGNAL), pointer, socklen_t(size))
                }
            }
            return sent < 0 ? errno : 0
        }
        guard failure == 0 else { throw GossipTransportError.sendFailed(address, UDPSocket.errorText(failure)) }
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
        let socket = sender.withLock { socket in
            defer { socket = -1 }
            return socket
        }
        if socket >= 0 { close(socket) }
        try? await udp.close()
        try? await tcp.close()
        packetSink.finish()
        streamSink.finish()
    }

    /// Adds the reader to a connected channel and wraps it as a ``GossipStream``. Runs on the channel's loop.
    private static func wrap(_ channel: any Channel, remote: GossipAddress? = nil) throws -> GossipStream {
        let (inbound, sink) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        try channel.pipeline.syncOperations.addHandler(StreamReader(sink: sink))
        let peer = remote ?? channel.remoteAddress.flatMap(GossipAddress.init(socketAddress:)) ?? GossipAddress(ip: .v4(IPv4Address(0)), port: 0)
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
        case .inet, .inet6:
            guard let ip = IPAddress(text) else { return nil }
            self.init(ip: ip, port: UInt16(port))
        default:
            return nil
        }
    }
}

/// Counts datagrams dropped on arrival.
private final class DropCounter: Sendable {
    let value = Atomic<Int>(0)
}

/// The UDP socket, made here so that a descriptor for sending can be kept beside NIO's.
private enum UDPSocket {
    /// A non-blocking UDP socket bound to `address`, with `SO_REUSEADDR` and a 2 MiB receive buffer.
    static func bound(to address: SocketAddress) throws(GossipTransportError) -> CInt {
        let family = address.protocol == .inet6 ? AF_INET6 : AF_INET
        let socket = Glibc.socket(family, CInt(SOCK_DGRAM.rawValue) | CInt(SOCK_NONBLOCK.rawValue) | CInt(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { throw .bindFailed("\(address): socket: \(errorText(errno))") }
        var one: CInt = 1
        var receiveBuffer: CInt = 2 << 20
        let size = socklen_t(MemoryLayout<CInt>.size)
        let bound = setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &one, size) == 0
            && setsockopt(socket, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, size) == 0
            && address.withSockAddr { Glibc.bind(socket, $0, socklen_t($1)) } == 0
        guard bound else {
            let reason = errorText(errno)
            close(socket)
            throw .bindFailed("\(address): \(reason)")
        }
        return socket
    }

    static func errorText(_ code: CInt) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}

/// Hands every received datagram to a bounded `AsyncStream`, counting those it has no room for.
private final class DatagramReader: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let sink: AsyncStream<IncomingPacket>.Continuation
    private let drops: DropCounter

    init(sink: AsyncStream<IncomingPacket>.Continuation, drops: DropCounter) {
        self.sink = sink
        self.drops = drops
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard let source = GossipAddress(socketAddress: envelope.remoteAddress) else { return }
        if case .dropped = sink.yield(IncomingPacket(bytes: Array(buffer: envelope.data), source: source)) {
            drops.value.add(1, ordering: .relaxed)
        }
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
