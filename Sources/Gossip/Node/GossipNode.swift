import Logging

/// A memberlist protocol-v5 node: SWIM failure detection with the Lifeguard extensions, gossip of membership
/// and application messages, and push/pull anti-entropy. It interoperates with hashicorp/memberlist and serf.
///
/// All state lives in this actor; the transport delivers packets and streams to it. Create it, ``start()``,
/// ``join(_:)`` seeds, read ``events``, and ``leave(timeout:)`` then ``stop()`` at the end.
///
/// ## Membership rules
///
/// memberlist believes any message with a higher incarnation, so one forged packet could make a node suspect,
/// dead or left at an incarnation of 2³²−1, which it can never refute. This node applies memberlist's rules
/// within bounds:
///
/// - **Suspect, dead, left** about another node: only when the accuser (`from`) is a current member (alive or
///   suspect) other than this node, and the incarnation is at most one above the one known for the node. A
///   legitimate accuser accuses at the incarnation it knows, which is ours or one behind, so refutation (the
///   accused answers with an alive one above the accusation) always works.
/// - About this node: any accusation at most one above our incarnation is refuted, whoever sends it.
/// - **Alive** about an unknown node is a join, at any incarnation (up to ``GossipConfiguration/maxMembers``).
///   About a known node, at most ``GossipConfiguration/maxIncarnationJump`` above the incarnation known: enough
///   for the refutations and tag updates a peer misses in a partition, and for this node's refutation of an
///   alive about itself (it answers one above it). An alive about this node further ahead is not refuted.
/// - **Push/pull** cannot declare a third node dead or left: that only makes it suspect here, with the same
///   bound (memberlist turns dead into suspect, and left into a leave). A node's own entry in a push/pull over a
///   stream from its own IP is its own word: its alive may jump any distance and its leave is a leave. A join
///   reply (from a seed this node chose) may raise this node's incarnation any distance, so a restarted node
///   refutes above what the cluster remembers.
///
/// Every refusal is counted in ``GossipCounters`` and logged at most once per
/// ``GossipConfiguration/limitLogInterval``.
public actor GossipNode {
    /// The node's name.
    public nonisolated let name: String
    /// Membership changes, as they happen (one consumer; the newest 4,096 are kept if it falls behind).
    public nonisolated let events: AsyncStream<MembershipEvent>

    let configuration: GossipConfiguration
    let transport: any GossipTransport
    let delegate: (any GossipDelegate)?
    let logger: Logger
    let eventSink: AsyncStream<MembershipEvent>.Continuation
    let clock = ContinuousClock()

    /// Every known node by name (this one included), and the probe order.
    var members: [String: MemberRecord] = [:]
    var probeOrder: [String] = []
    var probeIndex = 0
    var incarnation: UInt32
    var meta: [UInt8]
    var sequenceNumber: UInt32 = 0
    var awareness: Awareness
    var suspicions: [String: SuspicionTimer] = [:]
    /// memberlist's own broadcasts (alive, suspect, dead), keyed by node name.
    var broadcasts = BroadcastQueue()
    /// The application's broadcasts, keyed by the application's keys, at most
    /// ``GossipConfiguration/maxQueuedBroadcasts``.
    var applicationBroadcasts: BroadcastQueue
    /// Probes waiting for an ack or nack, by sequence number.
    var probeWaiters: [UInt32: AsyncStream<ProbeReply>.Continuation] = [:]
    var counters = GossipCounters()
    /// Round trips and unanswered probes per member (by name), forgotten with the member.
    var probeStatistics: [String: ProbeStatistics] = [:]
    /// Encryption and limits; the keyring changes with ``installKey(_:)``, ``useKey(_:)`` and ``removeKey(_:)``.
    var wire: WireConfig
    var running = false
    var leaving = false
    var responsive = true
    /// The highest serf Lamport time seen (member intents and push/pull), for a leave intent serf accepts.
    var serfClock: UInt64 = 0
    var tasks: [Task<Void, Never>] = []
    /// Inbound streams being served, in all and by source IP.
    var activeStreams = 0
    var activeStreamsBySource: [IPAddress: Int] = [:]
    let streamBudget: StreamBudget
    /// Indirect probes running on behalf of other nodes.
    var activeIndirectProbes = 0
    /// Transport drops already logged, so each interval reports only the new ones.
    var reportedDroppedPackets = 0
    var limitLog: LimitLog
    /// Failed nodes to retry (by name): where they were and since when, kept after memberlist reaps them.
    var failedPeers: [String: (address: GossipAddress, since: ContinuousClock.Instant)] = [:]

    /// Makes a node that talks through `transport`; nothing happens until ``start()``.
    public init(
        configuration: GossipConfiguration, transport: any GossipTransport, delegate: (any GossipDelegate)? = nil
    ) throws(GossipError) {
        let meta = SerfTags.encode(configuration.tags)
        guard meta.count <= 512 else { throw .metaTooLarge(meta.count) }
        self.name = configuration.name
        self.configuration = configuration
        self.transport = transport
        self.delegate = delegate
        self.logger = configuration.logger
        self.incarnation = configuration.initialIncarnation
        var wire = configuration.wire
        wire.acceptCompressedPackets = configuration.acceptCompressedPackets
        wire.limits.maxPushPullNodes = min(wire.limits.maxPushPullNodes, max(1, configuration.maxMembers))
        self.wire = wire
        self.limitLog = LimitLog(interval: configuration.limitLogInterval)
        self.streamBudget = StreamBudget(limit: configuration.maxInboundStreamBytes)
        self.applicationBroadcasts = BroadcastQueue(capacity: configuration.maxQueuedBroadcasts)
        self.meta = meta
        self.awareness = Awareness(maxMultiplier: configuration.awarenessMaxMultiplier)
        (events, eventSink) = AsyncStream.makeStream(of: MembershipEvent.self, bufferingPolicy: .bufferingNewest(4096))
    }

    /// Announces this node (alive at its initial incarnation) and starts listening, probing, gossiping and
    /// running push/pull.
    public func start() {
        guard !running else { return }
        running = true
        let alive = Alive(
            incarnation: incarnation, node: name, addr: transport.localAddress.ip.bytes, port: transport.localAddress.port,
            meta: meta, vsn: configuration.versions)
        handleAlive(alive, bootstrap: true)
        tasks.append(Task { await self.receivePackets() })
        tasks.append(Task { await self.acceptStreams() })
        tasks.append(Task { await self.periodically(self.configuration.probeInterval) { await $0.probe() } })
        tasks.append(Task { await self.periodically(self.configuration.gossipInterval) { await $0.gossip() } })
        tasks.append(Task { await self.periodically(nil) { await $0.periodicPushPull() } })
        tasks.append(Task { await self.periodically(self.configuration.reconnectInterval) { await $0.reconnect() } })
    }

    /// Stops every task and closes the transport. Call ``leave(timeout:)`` first for a graceful exit.
    public func stop() async {
        guard running else { return }
        running = false
        for task in tasks { task.cancel() }
        tasks.removeAll()
        for waiter in probeWaiters.values { waiter.finish() }
        probeWaiters.removeAll()
        for timer in suspicions.values { timer.task.cancel() }
        suspicions.removeAll()
        await transport.shutdown()
        eventSink.finish()
    }

    /// Every known node, this one included, dead and left ones too.
    public func members(includingGone: Bool = true) -> [Member] {
        members.values.map(\.member)
            .filter { includingGone || $0.state == .alive || $0.state == .suspect }
            .sorted { $0.name < $1.name }
    }

    /// The member record for `name`, if known.
    public func member(named name: String) -> Member? {
        members[name]?.member
    }

    /// This node's current incarnation.
    public var currentIncarnation: UInt32 { incarnation }

    /// The Lifeguard health score (0 = healthy).
    public var healthScore: Int { awareness.score }

    /// What the node has counted so far (with the datagrams its transport dropped).
    public var statistics: GossipCounters {
        var all = counters
        all.droppedPackets = transport.droppedPackets
        all.droppedBroadcasts = applicationBroadcasts.evicted
        return all
    }

    /// While `false`, the node ignores every packet and stream and neither probes nor gossips, as if its process
    /// were stopped (SIGSTOP); its sockets stay open. Set it back to `true` to resume.
    public func setResponsive(_ responsive: Bool) {
        self.responsive = responsive
    }

    /// Replaces this node's tags and gossips an alive with a higher incarnation (serf shows `member-update`).
    public func updateTags(_ tags: [String: String]) throws(GossipError) {
        let encoded = SerfTags.encode(tags)
        guard encoded.count <= 512 else { throw .metaTooLarge(encoded.count) }
        meta = encoded
        incarnation = incarnation.saturatingIncrement
        guard var me = members[name] else { return }
        me.meta = encoded
        me.incarnation = incarnation
        members[name] = me
        broadcasts.enqueue(me.aliveMessage.encoded(), key: name)
    }

    /// Queues an application message for gossip; it replaces a queued message with the same `key` (so only the
    /// newest version of a record spreads). Receivers get it through ``GossipDelegate/notifyMessage(_:)``.
    /// A message must fit in one packet with its framing (``maximumBroadcastSize``): a larger one could never be
    /// sent, so it is dropped, logged and counted in ``GossipCounters/oversizedBroadcasts``; send such data with
    /// ``sendReliable(_:to:)`` or in the delegate's push/pull state.
    public func broadcast(_ payload: [UInt8], key: String? = nil) {
        guard payload.count <= maximumBroadcastSize else {
            counters.oversizedBroadcasts += 1
            logger.warning(
                "dropped an application broadcast too large for one packet",
                metadata: ["size": "\(payload.count)", "limit": "\(maximumBroadcastSize)", "key": "\(key ?? "")"])
            return
        }
        let evicted = applicationBroadcasts.evicted
        applicationBroadcasts.enqueue([MessageType.user.rawValue] + payload, key: key)
        if applicationBroadcasts.evicted > evicted {
            logLimit(
                "broadcast-queue", "dropped a queued application broadcast: the queue is full",
                metadata: ["capacity": "\(applicationBroadcasts.capacity)"])
        }
    }

    /// The largest application broadcast: the UDP budget less the compound header, one part's length, the user
    /// type byte and encryption.
    public var maximumBroadcastSize: Int {
        configuration.udpBufferSize - 2 - 2 - 1 - encryptionOverhead
    }

    /// Sends an application message to one member over a stream (memberlist's `SendReliable`).
    public func sendReliable(_ payload: [UInt8], to memberName: String) async throws {
        guard let target = members[memberName] else { throw GossipTransportError.closed }
        let stream = try await transport.openStream(to: target.address, timeout: configuration.tcpTimeout)
        defer { stream.close() }
        try await write(.user(UserMessage(payload: payload)), on: stream)
    }

    /// The keys in use, primary first (empty without encryption).
    public var keys: [[UInt8]] { wire.keyring?.keys ?? [] }

    /// Adds a key for decryption (serf's `keys -install`); the first key installed on a node without encryption
    /// turns encryption on.
    public func installKey(_ key: [UInt8]) throws(WireError) {
        let current = keys
        guard !current.contains(key) else { return }
        wire.keyring = try Keyring(keys: current + [key])
    }

    /// Makes an installed key the primary, which encrypts everything sent from now on (serf's `keys -use`).
    public func useKey(_ key: [UInt8]) throws(GossipError) {
        var current = keys
        guard let index = current.firstIndex(of: key) else { throw .unknownKey }
        current.remove(at: index)
        do { wire.keyring = try Keyring(keys: [key] + current) } catch { throw .unknownKey }
    }

    /// Removes a key that is not the primary (serf's `keys -remove`).
    public func removeKey(_ key: [UInt8]) throws(GossipError) {
        var current = keys
        guard let index = current.firstIndex(of: key) else { throw .unknownKey }
        guard index != 0 else { throw .removingPrimaryKey }
        current.remove(at: index)
        do { wire.keyring = try Keyring(keys: current) } catch { throw .unknownKey }
    }

    // MARK: - internals shared by the extensions

    func emit(_ event: MembershipEvent) {
        eventSink.yield(event)
    }

    func nextSequenceNumber() -> UInt32 {
        sequenceNumber &+= 1
        return sequenceNumber
    }

    /// memberlist's `estNumNodes`: every entry, dead and left ones included.
    var estimatedNodeCount: Int { members.count }

    /// Runs `body` every `interval` like a Go ticker (a round that overruns delays the next one), after a random
    /// stagger; a `nil` interval means the push/pull interval scaled to the cluster size.
    func periodically(_ interval: Duration?, _ body: @escaping @Sendable (GossipNode) async -> Void) async {
        let first = interval ?? configuration.pushPullInterval
        do { try await Task.sleep(for: first * Double.random(in: 0..<1)) } catch { return }
        while !Task.isCancelled {
            let started = clock.now
            if responsive { await body(self) }
            let period = interval ?? LifeguardTiming.pushPullInterval(
                configuration.pushPullInterval, nodeCount: estimatedNodeCount)
            let next = max(started + period, clock.now)
            do { try await Task.sleep(until: next, clock: clock) } catch { return }
        }
    }
}
