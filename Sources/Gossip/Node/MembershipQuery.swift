/// Reads any gossip node's membership view without joining: a push/pull that lists no nodes (so the peer learns
/// nothing about the asker) and is not a join. Works against weft nodes and against serf or memberlist agents.
public enum MembershipQuery {
    /// Asks the node at `peer` for every member it knows, with state, incarnation, address and metadata.
    public static func members(
        of peer: GossipAddress, wire: WireConfig = WireConfig(), compress: Bool = true, timeout: Duration = .seconds(5)
    ) async throws -> [Member] {
        let transport = try await NIOGossipTransport.bind(GossipAddress(ip: .v4(IPv4Address(0)), port: 0))
        do {
            let members = try await ask(peer, through: transport, wire: wire, compress: compress, timeout: timeout)
            await transport.shutdown()
            return members
        } catch {
            await transport.shutdown()
            throw error
        }
    }

    static func ask(
        _ peer: GossipAddress, through transport: any GossipTransport, wire: WireConfig, compress: Bool,
        timeout: Duration
    ) async throws -> [Member] {
        let stream = try await transport.openStream(to: peer, timeout: timeout)
        defer { stream.close() }
        try await stream.write(StreamCodec.encode(.pushPull(PushPull(join: false, nodes: [])), compress: compress, config: wire))
        let reply = try await readStreamMessage(stream, config: wire, timeout: timeout)
        switch reply.message {
        case .pushPull(let state):
            // A node whose address is not 4 or 16 bytes is left out: there is no address to show for it.
            return state.nodes.compactMap { node in
                GossipAddress(wire: node.addr, port: node.port).map { address in
                    Member(
                        name: node.name, address: address, meta: node.meta ?? [],
                        incarnation: node.incarnation, state: node.state, versions: node.vsn)
                }
            }.sorted { $0.name < $1.name }
        case .error(let error):
            throw GossipError.unexpectedReply("remote error: \(error.error)")
        default:
            throw GossipError.unexpectedReply("\(reply.message)")
        }
    }
}
