import Logging
/// Receiving and sending UDP packets: decode, dispatch, piggy-backing and the gossip round.
extension GossipNode {
    func receivePackets() async {
        for await packet in transport.packets {
            await handlePacket(packet)
        }
    }

    func handlePacket(_ packet: IncomingPacket) async {
        guard responsive else {
            counters.ignoredWhileUnresponsive += 1
            return
        }
        let decoded: DecodedPacket
        do {
            decoded = try PacketCodec.decode(packet.bytes, config: wire)
        } catch .compressionRefused {
            counters.refusedCompressedPackets += 1
            logLimit(
                "compressed-packets", "refused a compressed packet (compressed UDP is not accepted)",
                metadata: ["from": "\(packet.source)"])
            return
        } catch {
            counters.malformedPackets += 1
            logger.debug("dropped a malformed packet", metadata: ["from": "\(packet.source)", "error": "\(error)"])
            return
        }
        counters.packetsReceived += 1
        counters.received.countDatagram(size: packet.bytes.count, layers: decoded.layers)
        for message in decoded.messages {
            switch message {
            case .ping(let ping): await handlePing(ping, from: packet.source)
            case .indirectPing(let request): handleIndirectPing(request, from: packet.source)
            case .ack(let ack): probeWaiters[ack.seqNo]?.yield(.ack(payload: ack.payload))
            case .nack(let nack): probeWaiters[nack.seqNo]?.yield(.nack)
            case .suspect(let suspect): handleSuspect(suspect, fromWire: true)
            case .alive(let alive): handleAlive(alive)
            case .dead(let dead): handleDead(dead, fromWire: true)
            case .user(let user): await deliverUserMessage(user.payload)
            }
        }
    }

    func deliverUserMessage(_ payload: [UInt8]) async {
        guard !leaving else { return }
        if configuration.serfCompatible { witnessSerfMessage(payload) }
        guard let delegate else { return }
        if case .rebroadcast(let key) = await delegate.notifyMessage(payload) {
            broadcast(payload, key: key)
        }
    }

    private func handlePing(_ ping: Ping, from source: GossipAddress) async {
        guard ping.node.isEmpty || ping.node == name else { return }
        let destination = replyAddress(ping.sourceAddr, ping.sourcePort, fallback: source)
        await sendWithPiggyback(Ack(seqNo: ping.seqNo).encoded(), to: destination)
    }

    private func handleIndirectPing(_ request: IndirectPing, from source: GossipAddress) {
        guard activeIndirectProbes < configuration.maxIndirectProbes else {
            counters.refusedIndirectProbes += 1
            logLimit("indirect-probes", "dropped an indirect probe request: too many are running")
            return
        }
        guard let target = GossipAddress(wire: request.target, port: request.port == 0 ? transport.localAddress.port : request.port)
        else {
            counters.invalidAddresses += 1
            logLimit("invalid-address", "dropped an indirect probe request: its target is not a 4- or 16-byte address")
            return
        }
        activeIndirectProbes += 1
        let requester = replyAddress(request.sourceAddr, request.sourcePort, fallback: source)
        let sequence = nextSequenceNumber()
        let (replies, sink) = AsyncStream.makeStream(of: ProbeReply.self)
        probeWaiters[sequence] = sink
        let ping = Ping(
            seqNo: sequence, node: request.node, sourceAddr: transport.localAddress.ip.bytes,
            sourcePort: transport.localAddress.port, sourceNode: name)
        let timeout = configuration.probeTimeout
        Task {
            await self.sendPlain([ping.encoded()], to: target)
            let timer = Task {
                try? await Task.sleep(for: timeout)
                sink.yield(.deadline(1))
            }
            defer { timer.cancel() }
            var answer: [UInt8]?
            waiting: for await reply in replies {
                switch reply {
                case .ack, .tcpAck:
                    answer = Ack(seqNo: request.seqNo).encoded()
                    break waiting
                case .deadline:
                    answer = request.nack ? Nack(seqNo: request.seqNo).encoded() : nil
                    break waiting
                case .nack:
                    continue
                }
            }
            if let answer { await self.sendPlain([answer], to: requester) }
            self.finishIndirectProbe(sequence)
        }
    }

    func finishWaiter(_ sequence: UInt32) {
        probeWaiters.removeValue(forKey: sequence)?.finish()
    }

    private func finishIndirectProbe(_ sequence: UInt32) {
        finishWaiter(sequence)
        activeIndirectProbes -= 1
    }

    private func replyAddress(_ ip: [UInt8], _ port: UInt16, fallback: GossipAddress) -> GossipAddress {
        guard port != 0, let address = GossipAddress(wire: ip, port: port) else { return fallback }
        return address
    }

    /// The member at `address`, for deciding whether it understands the CRC wrapper.
    private func member(at address: GossipAddress) -> MemberRecord? {
        members.values.first { $0.address == address }
    }

    /// The bytes encryption adds to a packet.
    var encryptionOverhead: Int {
        wire.keyring == nil ? 0 : EncryptionVersion.v1.overhead(forPlaintextCount: 0)
    }

    /// Takes queued broadcasts (memberlist's first, then the application's) that fit in `limit` bytes.
    func takeBroadcasts(overhead: Int, limit: Int) -> [[UInt8]] {
        let transmitLimit = LifeguardTiming.retransmitLimit(
            multiplier: configuration.retransmitMultiplier, nodeCount: estimatedNodeCount)
        var parts = broadcasts.take(overhead: overhead, limit: limit, transmitLimit: transmitLimit)
        let used = parts.reduce(0) { $0 + $1.count + overhead }
        if limit - used > overhead + 1 {
            parts += applicationBroadcasts.take(overhead: overhead, limit: limit - used, transmitLimit: transmitLimit)
        }
        return Array(parts.prefix(Compound.maxPartsForLegacyPeers - 1))
    }

    /// memberlist's `sendMsg`: sends `message`, with as many queued broadcasts as fit piggy-backed on it.
    func sendWithPiggyback(_ message: [UInt8], to address: GossipAddress) async {
        let available = configuration.udpBufferSize - message.count - 2 - encryptionOverhead
        let extra = available > 0 ? takeBroadcasts(overhead: 2, limit: available) : []
        await sendPlain([message] + extra, to: address)
    }

    /// Sends one message, or several as a compound, adding the CRC when the peer is known to understand it.
    func sendPlain(_ messages: [[UInt8]], to address: GossipAddress, checksum: Bool? = nil) async {
        guard !messages.isEmpty else { return }
        do {
            let payload = messages.count == 1 ? messages[0] : try Compound.encode(messages)
            let crc = checksum ?? ((member(at: address)?.protocolMax ?? 0) >= 5)
            let (packet, layers) = try PacketCodec.encodeLayered(
                payload, options: PacketOptions(checksum: crc), config: wire)
            counters.packetsSent += 1
            try await transport.sendPacket(packet, to: address)
            let parts = messages.count == 1 ? [] : messages.compactMap { part in
                part.first.flatMap(MessageType.init(rawValue:)).map { WireLayer($0, size: part.count) }
            }
            counters.sent.countDatagram(size: packet.count, layers: layers + parts)
        } catch {
            counters.failedSends += 1
            logLimit("send", "could not send a datagram", metadata: ["to": "\(address)", "error": "\(error)"])
        }
    }

    /// memberlist's `gossip`: queued broadcasts to `gossipNodes` random peers that are alive, suspect, or
    /// recently dead (so that they can refute).
    func gossip() async {
        let now = clock.now
        let dropped = transport.droppedPackets
        if dropped > reportedDroppedPackets {
            logLimit(
                "inbound-queue", "dropped received datagrams: the inbound queue was full",
                count: dropped - reportedDroppedPackets)
            reportedDroppedPackets = dropped
        }
        let candidates = members.values.filter { record in
            guard record.name != name else { return false }
            switch record.state {
            case .alive, .suspect: return true
            case .dead: return now - record.stateChange < configuration.gossipToTheDeadTime
            default: return false
            }
        }
        let limit = configuration.udpBufferSize - 2 - encryptionOverhead
        for peer in candidates.shuffled().prefix(configuration.gossipNodes) {
            let parts = takeBroadcasts(overhead: 2, limit: limit)
            if parts.isEmpty { return }
            await sendPlain(parts, to: peer.address, checksum: peer.protocolMax >= 5)
        }
    }
}
