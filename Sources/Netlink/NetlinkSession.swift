/// Programs and reads one network namespace: the API the rest of weft uses.
///
/// Operations name links by name or index. Names are resolved in the namespace just before encoding, and a
/// batch is split where an operation refers to a name an earlier operation in it creates, renames or
/// removes, so a whole sequence ("create a bridge, enslave a port to it") can be sent as one batch.
public struct NetlinkSession: Sendable {
    public let namespace: NetworkNamespace
    public let transport: any NetlinkTransport

    public init(namespace: NetworkNamespace, transport: any NetlinkTransport) {
        self.namespace = namespace
        self.transport = transport
    }

    /// Applies `operations` in order and reports each one's outcome; a failure does not stop the rest,
    /// as in the kernel, which acknowledges each message of a batch on its own.
    public func apply(_ operations: [NetlinkOperation]) -> [Result<Void, NetlinkError>] {
        var outcomes = [Result<Void, NetlinkError>?](repeating: nil, count: operations.count)
        var resolved: [String: Int32] = [:]
        var changedNames: Set<String> = []
        var pending: [(position: Int, bytes: [UInt8])] = []

        func flush() {
            guard !pending.isEmpty else { return }
            do throws(NetlinkError) {
                let acknowledgements = try transport.execute(pending.map(\.bytes))
                for (item, ack) in zip(pending, acknowledgements) {
                    outcomes[item.position] =
                        ack.errno == 0
                        ? .success(())
                        : .failure(
                            .fromAcknowledgement(
                                errno: ack.errno, object: operations[item.position].description,
                                kernelMessage: ack.kernelMessage))
                }
            } catch {
                for item in pending { outcomes[item.position] = .failure(error) }
            }
            pending.removeAll(keepingCapacity: true)
            for name in changedNames { resolved[name] = nil }
            changedNames.removeAll()
        }

        for (position, operation) in operations.enumerated() {
            let names = operation.linkReferences.compactMap { reference -> String? in
                if case .name(let name) = reference { return name } else { return nil }
            }
            if names.contains(where: changedNames.contains) { flush() }
            do throws(NetlinkError) {
                for name in names where resolved[name] == nil {
                    resolved[name] = try resolveIndex(of: name)
                }
                let concrete = operation.mapLinks { reference -> LinkReference in
                    if case .name(let name) = reference, let index = resolved[name] { return .index(index) }
                    return reference
                }
                pending.append((position, try OperationEncoder.encode(concrete)))
                changedNames.formUnion(Self.namesChanged(by: operation))
            } catch {
                outcomes[position] = .failure(error)
            }
        }
        flush()
        return outcomes.map { $0 ?? .failure(.malformedMessage("no acknowledgement was received")) }
    }

    /// Applies `operations` in order and throws the first failure, after all were attempted.
    public func perform(_ operations: [NetlinkOperation]) throws(NetlinkError) {
        for outcome in apply(operations) {
            if case .failure(let error) = outcome { throw error }
        }
    }

    public func perform(_ operation: NetlinkOperation) throws(NetlinkError) {
        try perform([operation])
    }

    /// The link `reference` names, or nil when the namespace has none by that name or index.
    public func link(_ reference: LinkReference) throws(NetlinkError) -> Link? {
        do throws(NetlinkError) {
            let bytes = try transport.query(OperationEncoder.encode(.link(reference)), object: "link \(reference)")
            return try MessageView.split(bytes[...]).first.map { message throws(NetlinkError) in
                try MessageDecoder.decodeLink(message)
            }
        } catch .notFound {
            return nil
        }
    }

    /// Every link in the namespace.
    public func links() throws(NetlinkError) -> [Link] {
        let bytes = try transport.query(OperationEncoder.encode(.links), object: "links of \(namespace)")
        var links: [Link] = []
        for message in try MessageView.split(bytes[...]) { links.append(try MessageDecoder.decodeLink(message)) }
        return links
    }

    /// FDB entries, of every device or of one (device-table entries of it, bridge-table entries learned on it).
    public func forwardingDatabase(device: LinkReference? = nil) throws(NetlinkError) -> [FDBEntry] {
        let filter = try device.map { reference throws(NetlinkError) in try index(of: reference) }
        let bytes = try transport.query(OperationEncoder.encode(.forwardingDatabase), object: "FDB of \(namespace)")
        var entries: [FDBEntry] = []
        for message in try MessageView.split(bytes[...]) {
            guard case .fdb(let entry) = try MessageDecoder.decodeNeighbour(message) else { continue }
            if let filter, entry.device != .index(filter) { continue }
            entries.append(entry)
        }
        return entries
    }

    /// Neighbour entries (IPv4 and IPv6), of every device or of one.
    public func neighbours(device: LinkReference? = nil) throws(NetlinkError) -> [NeighbourEntry] {
        let filter = try device.map { reference throws(NetlinkError) in try index(of: reference) }
        var entries: [NeighbourEntry] = []
        for family in [UInt8(2), UInt8(10)] {  // AF_INET, AF_INET6
            let bytes = try transport.query(
                OperationEncoder.encode(.neighbours(family: family)), object: "neighbours of \(namespace)")
            for message in try MessageView.split(bytes[...]) {
                guard case .neighbour(let entry) = try MessageDecoder.decodeNeighbour(message) else { continue }
                if let filter, entry.device != .index(filter) { continue }
                entries.append(entry)
            }
        }
        return entries
    }

    /// Every address assigned in the namespace (IPv4 and IPv6).
    public func addresses() throws(NetlinkError) -> [AssignedAddress] {
        var entries: [AssignedAddress] = []
        for family in [UInt8(2), UInt8(10)] {  // AF_INET, AF_INET6
            let bytes = try transport.query(
                OperationEncoder.encode(.addresses(family: family)), object: "addresses of \(namespace)")
            for message in try MessageView.split(bytes[...]) { entries.append(try MessageDecoder.decodeAddress(message)) }
        }
        return entries
    }

    /// The index of the link `reference` names; `unknownLink` when there is none.
    public func index(of reference: LinkReference) throws(NetlinkError) -> Int32 {
        switch reference {
        case .index(let index): return index
        case .name(let name): return try resolveIndex(of: name)
        }
    }

    private func resolveIndex(of name: String) throws(NetlinkError) -> Int32 {
        guard let link = try link(.name(name)) else {
            throw .unknownLink(name: name, namespace: namespace.reference.description)
        }
        return link.index
    }

    /// Names whose index an operation may change: created, renamed away, or removed from the namespace.
    private static func namesChanged(by operation: NetlinkOperation) -> [String] {
        switch operation {
        case .createLink(let spec):
            if case .veth(let peer) = spec.kind, peer.namespaceFD == nil { return [spec.name, peer.name] }
            return [spec.name]
        case .deleteLink(.name(let name)):
            return [name]
        case .setLink(let link, let changes):
            var names: [String] = []
            if let name = changes.name { names.append(name) }
            if case .name(let old) = link, changes.name != nil || changes.namespaceFD != nil { names.append(old) }
            return names
        default:
            return []
        }
    }
}
