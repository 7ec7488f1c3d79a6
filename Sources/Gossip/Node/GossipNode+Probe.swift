import Logging
/// The SWIM probe cycle with Lifeguard awareness (`state.go probe`, `probeNode`; reference §7.3–7.4).
extension GossipNode {
    /// Probes the next node in round-robin order.
    func probe() async {
        guard !leaving, let target = nextProbeTarget() else { return }
        await probe(target)
    }

    private func nextProbeTarget() -> MemberRecord? {
        var checked = 0
        while checked < probeOrder.count {
            if probeIndex >= probeOrder.count {
                resetProbeOrder()
                probeIndex = 0
            }
            guard probeIndex < probeOrder.count else { return nil }
            let candidate = probeOrder[probeIndex]
            probeIndex += 1
            checked += 1
            guard candidate != name, let record = members[candidate] else { continue }
            if record.state == .dead || record.state == .left { continue }
            return record
        }
        return nil
    }

    /// At each wrap: forget dead nodes gone longer than `gossipToTheDeadTime` (left nodes are kept, as memberlist
    /// 0.2.2 keeps them), then shuffle.
    private func resetProbeOrder() {
        let now = clock.now
        let reaped = members.values.filter {
            $0.state == .dead && now - $0.stateChange > configuration.gossipToTheDeadTime
        }.map(\.name)
        for node in reaped {
            members.removeValue(forKey: node)
            probeStatistics[node] = nil
        }
        probeOrder = members.keys.shuffled()
    }

    private func probe(_ target: MemberRecord) async {
        let sequence = nextSequenceNumber()
        let started = clock.now
        let interval = awareness.scale(configuration.probeInterval)
        let (replies, sink) = AsyncStream.makeStream(of: ProbeReply.self)
        probeWaiters[sequence] = sink
        defer { finishWaiter(sequence) }
        let local = transport.localAddress
        let ping = Ping(seqNo: sequence, node: target.name, sourceAddr: local.ip.bytes, sourcePort: local.port, sourceNode: name)
        if target.state == .alive {
            await sendWithPiggyback(ping.encoded(), to: target.address)
        } else {
            // Lifeguard's buddy system: tell a suspect it is suspected, so it can refute at once.
            let suspect = Suspect(incarnation: target.incarnation, node: target.name, from: name)
            await sendPlain([ping.encoded(), suspect.encoded()], to: target.address, checksum: target.protocolMax >= 5)
        }
        let timers = [
            Task { try? await Task.sleep(until: started + configuration.probeTimeout, clock: clock); sink.yield(.deadline(1)) },
            Task { try? await Task.sleep(until: started + interval, clock: clock); sink.yield(.deadline(2)) },
        ]
        defer { for timer in timers { timer.cancel() } }

        var expectedNacks = 0
        var nacks = 0
        var tcpTask: Task<Void, Never>?
        defer { tcpTask?.cancel() }
        for await reply in replies {
            switch reply {
            case .ack:
                probeStatistics[target.name, default: ProbeStatistics()].answered(after: clock.now - started)
                awareness.apply(-1)
                return
            case .tcpAck:
                logger.warning(
                    "was able to connect to a node over TCP but other probes failed, the network may be misconfigured",
                    metadata: ["node": "\(target.name)"])
                awareness.apply(-1)
                return
            case .nack:
                nacks += 1
            case .deadline(1):
                guard responsive else { return }
                expectedNacks = sendIndirectProbes(for: target, sequence: sequence)
                if !configuration.disableTCPPings && target.protocolMax >= 3 {
                    tcpTask = tcpPing(target, sequence: sequence, deadline: started + interval, sink: sink)
                }
            case .deadline:
                guard responsive, members[target.name]?.state != .dead, members[target.name]?.state != .left else {
                    return
                }
                counters.failedProbes += 1
                probeStatistics[target.name, default: ProbeStatistics()].missed()
                awareness.apply(expectedNacks > 0 ? expectedNacks - nacks : 1)
                logger.debug("probe failed, suspecting", metadata: ["node": "\(target.name)"])
                handleSuspect(Suspect(incarnation: members[target.name]?.incarnation ?? target.incarnation,
                                      node: target.name, from: name), fromWire: false)
                return
            }
        }
    }

    /// Asks up to `indirectChecks` random alive peers to probe `target`; returns how many nacks to expect.
    private func sendIndirectProbes(for target: MemberRecord, sequence: UInt32) -> Int {
        let peers = members.values.filter { $0.name != name && $0.name != target.name && $0.state == .alive }
            .shuffled().prefix(configuration.indirectChecks)
        var expectedNacks = 0
        let local = transport.localAddress
        for peer in peers {
            let wantsNack = peer.protocolMax >= 4
            if wantsNack { expectedNacks += 1 }
            let request = IndirectPing(
                seqNo: sequence, target: target.address.ip.bytes, port: target.address.port, node: target.name,
                nack: wantsNack, sourceAddr: local.ip.bytes, sourcePort: local.port, sourceNode: name)
            let address = peer.address
            Task { await self.sendPlain([request.encoded()], to: address, checksum: false) }
        }
        return expectedNacks
    }

    /// memberlist's TCP fallback ping: a stream ping with the same sequence number, answered by an ack.
    private func tcpPing(
        _ target: MemberRecord, sequence: UInt32, deadline: ContinuousClock.Instant,
        sink: AsyncStream<ProbeReply>.Continuation
    ) -> Task<Void, Never> {
        let local = transport.localAddress
        let ping = Ping(seqNo: sequence, node: target.name, sourceAddr: local.ip.bytes, sourcePort: local.port, sourceNode: name)
        let transport = self.transport
        let wire = self.wire
        let compress = configuration.compressStreams
        return Task {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return }
            do {
                let stream = try await transport.openStream(to: target.address, timeout: remaining)
                defer { stream.close() }
                let (bytes, layers) = try StreamCodec.encodeLayered(
                    inner: StreamMessage.ping(ping).encoded(), compress: compress, config: wire)
                try await stream.write(bytes)
                self.countSentStream(layers)
                let reply = try await readStreamMessage(stream, config: wire, timeout: remaining)
                self.countReceivedStream(reply)
                if case .ack(let ack) = reply.message, ack.seqNo == sequence { sink.yield(.tcpAck) }
            } catch {
                // A failed dial only means "no contact"; memberlist does not log it.
            }
        }
    }

    private func countSentStream(_ layers: [WireLayer]) {
        counters.sent.countStream(layers: layers)
    }
}
