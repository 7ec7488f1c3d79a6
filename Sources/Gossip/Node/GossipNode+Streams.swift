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
                    stream.close()
                    continue
                }
                activeStreams += 1
                group.addTask { await self.serveStream(stream) }
            }
        }
    }

    private func serveStream(_ stream: GossipStream) async {
        defer {
            stream.close()
            activeStreams -= 1
        }
        guard responsive else {
            counters.ignoredWhileUnresponsive += 1
            return
        }
        let request: DecodedStream
        do {
            request = try await readStreamMessage(stream, config: wire, timeout: configuration.tcpTimeout)
        } catch {
            counters.malformedStreams += 1
            logger.debug("dropped a stream", metadata: ["from": "\(stream.remote)", "error": "\(error)"])
            if case WireError.notEncrypted = error {
                try? await reply(.error(ErrorResponse(error: "\(error)")), on: stream)
            }
            return
        }
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
            try? await merge(remote)
        case .user(let user):
            await deliverUserMessage(user.payload)
        case .ack, .error:
            counters.malformedStreams += 1
        }
    }

    private func reply(_ message: StreamMessage, on stream: GossipStream) async throws {
        try await stream.write(
            StreamCodec.encode(message, compress: configuration.compressStreams, config: wire))
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
        try await stream.write(
            StreamCodec.encode(.pushPull(request), compress: configuration.compressStreams, config: wire))
        let response = try await readStreamMessage(stream, config: wire, timeout: configuration.tcpTimeout)
        switch response.message {
        case .pushPull(let remote):
            counters.pushPulls += 1
            try await merge(remote)
        case .error(let error):
            throw GossipError.unexpectedReply("remote error: \(error.error)")
        default:
            throw GossipError.unexpectedReply("\(response.message)")
        }
    }

    /// memberlist's `mergeRemoteState`: check versions, merge node states, hand the user state to the delegate.
    private func merge(_ remote: PushPull) async throws {
        guard !leaving else { return }
        do {
            try verifyProtocol(remote.nodes)
        } catch {
            counters.refusedMerges += 1
            logger.warning("refused a push/pull", metadata: ["error": "\(error)"])
            throw error
        }
        for node in remote.nodes {
            switch node.state {
            case .alive:
                handleAlive(Alive(
                    incarnation: node.incarnation, node: node.name, addr: node.addr, port: node.port, meta: node.meta,
                    vsn: node.vsn))
            case .left:
                handleDead(Dead(incarnation: node.incarnation, node: node.name, from: node.name))
            case .suspect, .dead:
                // A remote death only makes us suspect: we check for ourselves.
                handleSuspect(Suspect(incarnation: node.incarnation, node: node.name, from: name))
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
