/// One UDP datagram received by a transport.
public struct IncomingPacket: Sendable {
    /// The packet's bytes, as received.
    public var bytes: [UInt8]
    /// Where it came from.
    public var source: GossipAddress

    /// Makes a received packet.
    public init(bytes: [UInt8], source: GossipAddress) {
        self.bytes = bytes
        self.source = source
    }
}

/// One TCP-like connection between two gossip nodes, for push/pull, TCP fallback pings and reliable user
/// messages. memberlist sends one message each way and closes; the reader accumulates ``inbound`` chunks until a
/// message decodes.
public struct GossipStream: Sendable {
    /// The peer at the other end.
    public let remote: GossipAddress
    /// Chunks of bytes as they arrive; finishes when the peer closes, throws on a transport error.
    public let inbound: AsyncThrowingStream<[UInt8], any Error>
    private let writeBody: @Sendable ([UInt8]) async throws -> Void
    private let closeBody: @Sendable () -> Void

    /// Makes a stream from its parts; transports call this.
    public init(
        remote: GossipAddress, inbound: AsyncThrowingStream<[UInt8], any Error>,
        write: @escaping @Sendable ([UInt8]) async throws -> Void, close: @escaping @Sendable () -> Void
    ) {
        self.remote = remote
        self.inbound = inbound
        self.writeBody = write
        self.closeBody = close
    }

    /// Sends bytes to the peer.
    public func write(_ bytes: [UInt8]) async throws {
        try await writeBody(bytes)
    }

    /// Closes both directions; ``inbound`` finishes. Safe to call more than once.
    public func close() {
        closeBody()
    }
}

/// What the gossip node needs from the network: datagrams to and from any peer, and short-lived streams.
///
/// ``NIOGossipTransport`` is the real one (UDP and TCP on one port); ``SimulatedNetwork`` makes in-memory ones
/// that can drop, delay and partition traffic for tests.
public protocol GossipTransport: Sendable {
    /// The address peers reach this node at (its advertise address).
    var localAddress: GossipAddress { get }
    /// Every datagram received, in arrival order, bounded: when the node falls behind, new datagrams are dropped
    /// and counted in ``droppedPackets``. Finishes at ``shutdown()``.
    var packets: AsyncStream<IncomingPacket> { get }
    /// Every stream a peer opened to us. Finishes at ``shutdown()``.
    var streams: AsyncStream<GossipStream> { get }
    /// Sends one datagram, best effort: a failure throws for the caller to count, and never closes the socket.
    func sendPacket(_ bytes: [UInt8], to address: GossipAddress) async throws
    /// Opens a stream to `address`, failing after `timeout` if it cannot connect.
    func openStream(to address: GossipAddress, timeout: Duration) async throws -> GossipStream
    /// Closes the sockets; ``packets`` and ``streams`` finish.
    func shutdown() async
    /// Datagrams dropped on arrival because ``packets`` already held as many as its bound.
    var droppedPackets: Int { get }
}

extension GossipTransport {
    /// A transport that never drops on arrival.
    public var droppedPackets: Int { 0 }
}

/// Why a transport operation failed.
public enum GossipTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The peer could not be reached (refused, partitioned, or gone).
    case unreachable(GossipAddress)
    /// Connecting or reading did not finish in time.
    case timedOut(String)
    /// The transport was shut down.
    case closed
    /// The stream ended before a whole message arrived.
    case streamEnded(receivedBytes: Int)
    /// Binding the sockets failed.
    case bindFailed(String)
    /// The peer opened a stream and sent nothing within this long.
    case silent(Duration)
    /// A datagram could not be sent (dropped; the socket stays open).
    case sendFailed(GossipAddress, String)

    public var description: String {
        switch self {
        case .unreachable(let address): "peer \(address) is unreachable"
        case .timedOut(let what): "timed out: \(what)"
        case .closed: "the transport is closed"
        case .streamEnded(let count): "the stream ended after \(count) bytes, before a whole message"
        case .bindFailed(let reason): "could not bind the gossip sockets: \(reason)"
        case .silent(let limit): "the peer sent nothing within \(limit)"
        case .sendFailed(let address, let reason): "could not send a datagram to \(address): \(reason)"
        }
    }
}
