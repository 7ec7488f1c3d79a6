import Logging

/// Streams: inbound push/pull, TCP pings and reliable messages; push/pull exchanges and their merge.
extension GossipNode {
    /// memberlist's `maxPushPullRequests`: more concurrent inbound streams than this are closed at once.
    static let maxConcurrentStreams = 128

    func acceptStreams() async {
        await withDiscardingTaskGroup { group in
            for await stream in transport.streams {
                guard activeStreams < Self.maxConcurrentStreams else {
                    counters.refusedStreams += 1
                    logLimit("streams", "closed an inbound stream: too many are being served")
                    stream.close()
                    continue
                }
                let source = stream.remote.ip
                guard activeStreamsBySource[source, default: 0] < configuration.maxStreamsPerSource else {
                    counters.refusedStreamsPerSource += 1
                    logLimit(
                        "streams-per-source", "closed an inbound stream: its source holds too many",
                        metadata: ["from": "\(stream.remote.host)"])
                    stream.close()
                    continue
                }
                activeStreams += 1
                activeStreamsBySource[source, default: 0] += 1
                group.addTask { await self.serveStream(stream) }
            }
        }
    }

    private func serveStream(_ stream: GossipStream) async {
        defer {
            stream.close()
            activeStreams -= 1
            let source = stream.remote.ip
            let left = activeStreamsBySource[source, default: 1] - 1
            activeStreamsBySource[source] = left > 0 ? left : nil
        }
        guard responsive else {
            counters.ignoredWhileUnresponsive += 1
            return
        }
        let request: DecodedStream
        do {
            request = try await readStreamMessage(
                stream, config: wire, timeout: configuration.tcpTimeout,
                firstByteTimeout: configuration.streamFirstByteTimeout, budget: streamBudget)
        } catch {
            countStreamFailure(error, from: stream.remote, inbound: true)
            if case WireError.notEncrypted = error {
                try? await reply(.error(ErrorResponse(error: "\(error)")), on: stream)
            }
            return
        }
        counters.received.countStream(layers: request.layers)
        guard responsive else {
            counters.ignoredWhileUnresponsive += 1
            return
        }
        switch request.message {
        case .ping(let ping):
            guard ping.node.isEmpty || ping.node == name else { return }
            try? await reply(.ack(Ack(seqNo: ping.seqNo)), on: stream)
        case .pushPull(let remote):
            let local = await localPushPull(join: remote.join)
            do {
                try await reply(.pushPull(local), on: stream)
            } catch {
                logger.debug("could not answer a push/pull", metadata: ["error": "\(error)"])
                return
            }
            counters.pushPulls += 1
            try? await merge(remote, from: stream.remote, isJoinReply: false)
        case .user(let user):
            await deliverUserMessage(user.payload)
        case .ack, .error:
            counters.malformedStreams += 1
        }
    }

    private func reply(_ message: StreamMessage, on stream: GossipStream) async throws {
        try await write(message, on: stream)
    }

    /// Writes `message` on `stream` (compressed and encrypted as configured), counting what was sent.
    func write(_ message: StreamMessage, on stream: GossipStream) async throws {
        let (bytes, layers) = try StreamCodec.encodeLayered(
            inner: message.encoded(), compress: configuration.compressStreams, config: wire)
        try await stream.write(bytes)
        counters.sent.countStream(layers: layers)
    }

    /// Counts a stream message received on a stream this node opened (a push/pull reply, a TCP ping's ack).
    func countReceivedStream(_ message: DecodedStream) {
        counters.received.countStream(layers: message.layers)
    }

    /// Our full state for a push/pull: every node we know, with the delegate's state.
    private func localPushPull(join: Bool) async -> PushPull {
        let userState = await delegate?.localState(join: join) ?? []
        return PushPull(join: join, nodes: members.values.map(\.pushState), userState: userState)
    }

    /// One push/pull exchange with `address` (memberlist's `pushPullNode`).
    func pushPull(with address: GossipAddress, join: Bool) async throws {
        let request = await localPushPull(join: join)
        let stream = try await transport.openStream(to: address, timeout: configuration.tcpTimeout)
        defer { stream.close() }
        try await write(.pushPull(request), on: stream)
        let response: DecodedStream
        do {
            response = try await readStreamMessage(stream, config: wire, timeout: configuration.tcpTimeout)
        } catch {
            countStreamFailure(error, from: address, inbound: false)
            throw error
        }
        countReceivedStream(response)
        switch response.message {
        case .pushPull(let remote):
            counters.pushPulls += 1
            try await merge(remote, from: address, isJoinReply: join)
        case .error(let error):
            throw GossipError.unexpectedReply("remote error: \(error.error)")
        default:
            throw GossipError.unexpectedReply("\(response.message)")
        }
    }

    /// Counts (and logs once per interval) a stream that could not be read; a reply that fails on an outbound
    /// stream is the caller's error, counted only when it broke a limit.
    private func countStreamFailure(_ error: any Error, from peer: GossipAddress, inbound: Bool) {
        switch error {
        case GossipTransportError.silent:
            counters.silentStreams += 1
            logLimit("stream-first-byte", "closed a stream that sent nothing", metadata: ["from": "\(peer.host)"])
        case WireError.lengthOutOfRange(let field, let value, let limit):
            counters.oversizedStreams += 1
            logLimit(
                "stream-size", "refused a stream over a size limit",
                metadata: ["from": "\(peer.host)", "field": "\(field)", "value": "\(value)", "cap": "\(limit)"])
        default:
            guard inbound else { return }
            counters.malformedStreams += 1
            logger.debug("dropped a stream", metadata: ["from": "\(peer)", "error": "\(error)"])
        }
    }

    /// memberlist's `mergeRemoteState`: check versions, merge node states, hand the user state to the delegate.
    ///
    /// Unlike memberlist, a push/pull cannot declare a third node left or dead: that only makes it suspect here,
    /// at most one incarnation above the one known, and this node probes it for itself. A node's own state counts
    /// as its own word when the stream comes from its IP (`peer`): then its alive may jump any distance and its
    /// leave is taken as a leave. What a join reply (`isJoinReply`, from a seed this node chose) says about this
    /// node is believed at any incarnation, so a restarted node refutes above what the cluster remembers.
    func merge(_ remote: PushPull, from peer: GossipAddress, isJoinReply: Bool) async throws {
        guard !leaving else { return }
        do {
            try verifyProtocol(remote.nodes)
        } catch {
            counters.refusedMerges += 1
            logger.warning("refused a push/pull", metadata: ["error": "\(error)"])
            throw error
        }
        for node in remote.nodes {
            let isSelf = node.name == name
            let fromItself = !isSelf && GossipAddress(wire: node.addr, port: node.port)?.ip == peer.ip
            switch node.state {
            case .alive:
                let limit: UInt32? = (isSelf && isJoinReply) || fromItself ? .max : nil
                handleAlive(
                    Alive(
                        incarnation: node.incarnation, node: node.name, addr: node.addr, port: node.port,
                        meta: node.meta, vsn: node.vsn),
                    aheadLimit: limit)
            case .left where fromItself:
                handleDead(Dead(incarnation: node.incarnation, node: node.name, from: node.name), fromWire: false)
            case .left, .suspect, .dead:
                // A remote death only makes us suspect: we check for ourselves.
                handleSuspect(
                    Suspect(incarnation: node.incarnation, node: node.name, from: name), fromWire: false,
                    aheadLimit: isSelf && isJoinReply ? .max : 1)
            default:
                continue
            }
        }
        if configuration.serfCompatible { witnessSerfPushPull(remote.userState) }
        if !remote.userState.isEmpty { await delegate?.mergeRemoteState(remote.userState, join: remote.join) }
    }

    /// memberlist's `verifyProtocol`: every node's current versions must lie in the range all alive nodes support.
    private func verifyProtocol(_ remote: [PushNodeState]) throws(GossipError) {
        var pmin: UInt8 = 0, pmax: UInt8 = .max, dmin: UInt8 = 0, dmax: UInt8 = .max
        let alive = members.values.filter { $0.state == .alive }.map(\.versions)
            + remote.filter { $0.state == .alive && !$0.vsn.isEmpty }.map(\.vsn)
        for vsn in alive where vsn.count >= 6 {
            pmin = max(pmin, vsn[0]); pmax = min(pmax, vsn[1]); dmin = max(dmin, vsn[3]); dmax = min(dmax, vsn[4])
        }
        let all = remote.map { ($0.name, $0.vsn) } + members.values.map { ($0.name, $0.versions) }
        for (node, vsn) in all {
            if members[node]?.state == .dead && vsn.isEmpty { continue }  // our own placeholder, never heard alive
            let pcur = vsn.count >= 3 ? vsn[2] : 0
            let dcur = vsn.count >= 6 ? vsn[5] : 0
            guard pmin <= pcur, pcur <= pmax, dmin <= dcur, dcur <= dmax else {
                throw .incompatibleProtocol(node: node, versions: vsn)
            }
        }
    }
}
