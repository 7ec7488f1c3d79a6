import Synchronization

/// An in-memory network for gossip tests: every ``SimulatedTransport`` attached to it can reach the others,
/// subject to random loss, a delay, partitions and isolated (stopped) nodes.
///
/// Loss and delay apply to datagrams; a stream can only be opened between connected nodes.
public final class SimulatedNetwork: Sendable {
    private struct Endpoint {
        var packets: AsyncStream<IncomingPacket>.Continuation
        var streams: AsyncStream<GossipStream>.Continuation
    }

    private struct State {
        var endpoints: [GossipAddress: Endpoint] = [:]
        var lossRate = 0.0
        var delay: ClosedRange<Duration> = .zero ... .zero
        var partitionOf: [GossipAddress: Int] = [:]
        var isolated: Set<GossipAddress> = []
        var blockedPackets: Set<Link> = []
        var delivered = 0
        var dropped = 0
        var largest = 0
        var sentBy: [GossipAddress: Int] = [:]
        var overflowedAt: [GossipAddress: Int] = [:]
    }

    private struct Link: Hashable {
        var from: GossipAddress
        var to: GossipAddress
    }

    private let state = Mutex(State())

    /// Makes an empty network: no loss, no delay, no partitions.
    public init() {}

    /// Makes a transport for a node at `address` and attaches it; at most `inboundQueueLimit` datagrams wait for
    /// the node, as with ``NIOGossipTransport``.
    public func attach(_ address: GossipAddress, inboundQueueLimit: Int = 4096) -> SimulatedTransport {
        let (packets, packetSink) = AsyncStream.makeStream(
            of: IncomingPacket.self, bufferingPolicy: .bufferingOldest(max(1, inboundQueueLimit)))
        let (streams, streamSink) = AsyncStream.makeStream(of: GossipStream.self)
        state.withLock { $0.endpoints[address] = Endpoint(packets: packetSink, streams: streamSink) }
        return SimulatedTransport(network: self, localAddress: address, packets: packets, streams: streams)
    }

    /// Drops each datagram with this probability (0...1).
    public func setLossRate(_ rate: Double) {
        state.withLock { $0.lossRate = rate }
    }

    /// Delays each datagram by a random duration in `range`.
    public func setDelay(_ range: ClosedRange<Duration>) {
        state.withLock { $0.delay = range }
    }

    /// Splits the network: nodes in different groups cannot reach each other; nodes in no group reach everyone
    /// not in a group. Pass `[]` to heal.
    public func partition(_ groups: [[GossipAddress]]) {
        state.withLock { state in
            state.partitionOf = [:]
            for (index, group) in groups.enumerated() {
                for address in group { state.partitionOf[address] = index }
            }
        }
    }

    /// Cuts a node off from everyone (as if its process were stopped), or reconnects it.
    public func setIsolated(_ address: GossipAddress, _ isolated: Bool) {
        state.withLock { state in
            if isolated { state.isolated.insert(address) } else { state.isolated.remove(address) }
        }
    }

    /// Drops every datagram from `source` to `destination` (one direction; streams are not affected), or lets
    /// them through again.
    public func setPacketsBlocked(from source: GossipAddress, to destination: GossipAddress, _ blocked: Bool) {
        state.withLock { state in
            let link = Link(from: source, to: destination)
            if blocked { state.blockedPackets.insert(link) } else { state.blockedPackets.remove(link) }
        }
    }

    /// The largest datagram sent so far, in bytes.
    public var largestPacket: Int {
        state.withLock { $0.largest }
    }

    /// Datagrams delivered and dropped so far.
    public var packetCounts: (delivered: Int, dropped: Int) {
        state.withLock { ($0.delivered, $0.dropped) }
    }

    /// Datagrams sent and streams opened by the node at `address` so far, delivered or not.
    public func packetsSent(from address: GossipAddress) -> Int {
        state.withLock { $0.sentBy[address, default: 0] }
    }

    /// Datagrams dropped because the node at `address` had a full inbound queue.
    public func queueDrops(at address: GossipAddress) -> Int {
        state.withLock { $0.overflowedAt[address, default: 0] }
    }

    private func deliver(_ packet: IncomingPacket, to sink: AsyncStream<IncomingPacket>.Continuation, at address: GossipAddress) {
        if case .dropped = sink.yield(packet) {
            state.withLock { $0.overflowedAt[address, default: 0] += 1 }
        }
    }

    fileprivate func detach(_ address: GossipAddress) {
        let endpoint = state.withLock { $0.endpoints.removeValue(forKey: address) }
        endpoint?.packets.finish()
        endpoint?.streams.finish()
    }

    private static func connected(_ a: GossipAddress, _ b: GossipAddress, in state: State) -> Bool {
        !state.isolated.contains(a) && !state.isolated.contains(b) && state.partitionOf[a] == state.partitionOf[b]
    }

    fileprivate func send(_ bytes: [UInt8], from source: GossipAddress, to destination: GossipAddress) {
        let decision: (sink: AsyncStream<IncomingPacket>.Continuation, delay: Duration)? = state.withLock { state in
            state.largest = max(state.largest, bytes.count)
            state.sentBy[source, default: 0] += 1
            guard let endpoint = state.endpoints[destination], Self.connected(source, destination, in: state),
                !state.blockedPackets.contains(Link(from: source, to: destination)),
                state.lossRate == 0 || Double.random(in: 0..<1) >= state.lossRate
            else {
                state.dropped += 1
                return nil
            }
            state.delivered += 1
            let low = state.delay.lowerBound, high = state.delay.upperBound
            let delay = low == high ? low : low + (high - low) * Double.random(in: 0...1)
            return (endpoint.packets, delay)
        }
        guard let decision else { return }
        let packet = IncomingPacket(bytes: bytes, source: source)
        if decision.delay == .zero {
            deliver(packet, to: decision.sink, at: destination)
        } else {
            Task {
                try? await Task.sleep(for: decision.delay)
                self.deliver(packet, to: decision.sink, at: destination)
            }
        }
    }

    fileprivate func connect(from source: GossipAddress, to destination: GossipAddress) throws -> GossipStream {
        let sink: AsyncStream<GossipStream>.Continuation? = state.withLock { state in
            state.sentBy[source, default: 0] += 1
            guard let endpoint = state.endpoints[destination], Self.connected(source, destination, in: state) else {
                return nil
            }
            return endpoint.streams
        }
        guard let sink else { throw GossipTransportError.unreachable(destination) }
        let (toServer, toServerSink) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        let (toClient, toClientSink) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        let close: @Sendable () -> Void = {
            toServerSink.finish()
            toClientSink.finish()
        }
        let server = GossipStream(
            remote: source, inbound: toServer,
            write: { bytes in
                if case .terminated = toClientSink.yield(bytes) { throw GossipTransportError.closed }
            }, close: close)
        let client = GossipStream(
            remote: destination, inbound: toClient,
            write: { bytes in
                if case .terminated = toServerSink.yield(bytes) { throw GossipTransportError.closed }
            }, close: close)
        sink.yield(server)
        return client
    }
}

/// One node's view of a ``SimulatedNetwork``.
public struct SimulatedTransport: GossipTransport {
    private let network: SimulatedNetwork
    public let localAddress: GossipAddress
    public let packets: AsyncStream<IncomingPacket>
    public let streams: AsyncStream<GossipStream>

    fileprivate init(
        network: SimulatedNetwork, localAddress: GossipAddress, packets: AsyncStream<IncomingPacket>,
        streams: AsyncStream<GossipStream>
    ) {
        self.network = network
        self.localAddress = localAddress
        self.packets = packets
        self.streams = streams
    }

    public func sendPacket(_ bytes: [UInt8], to address: GossipAddress) async throws {
        network.send(bytes, from: localAddress, to: address)
    }

    public func openStream(to address: GossipAddress, timeout: Duration) async throws -> GossipStream {
        try network.connect(from: localAddress, to: address)
    }

    public func shutdown() async {
        network.detach(localAddress)
    }

    public var droppedPackets: Int { network.queueDrops(at: localAddress) }
}
