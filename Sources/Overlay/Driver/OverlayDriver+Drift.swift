import Netlink

/// `weft diff`: the kernel compared with what weft wants, read-only. The same plans the reconciler applies at
/// start (links) and in the repair pass (FDB and neighbour entries), reported instead of applied.
extension OverlayDriver {
    /// Every network's differences, by VNI; `network` (an ID, an ID prefix of 4 or more characters, or a VNI)
    /// limits it to one. Nothing is created or changed, not even a missing namespace.
    public func drift(network selector: String? = nil) async throws(DriverError) -> [NetworkDrift] {
        var networks = store.current.networks.values.sorted { $0.vni < $1.vni }
        if let selector {
            networks = networks.filter { Self.network($0, isNamed: selector) }
            guard !networks.isEmpty else { throw .unknownNetwork(selector) }
        }
        var result: [NetworkDrift] = []
        for network in networks {
            result.append(await drift(of: network))
        }
        return result
    }

    /// Whether `selector` names the network: its whole ID, a prefix of 4 characters or more, or its VNI.
    public static func network(_ network: NetworkRecord, isNamed selector: String) -> Bool {
        if let vni = UInt32(selector), network.vni.value == vni { return true }
        return selector.count >= 4 && network.id.hasPrefix(selector)
    }

    func drift(of network: NetworkRecord) async -> NetworkDrift {
        let layout = layout(for: network)
        let unchanged = NetworkDrift(networkID: network.id, vni: network.vni.value, differences: [])
        guard networkSessions[network.vni] != nil || backend.namespaceExists(layout.namespace) else {
            var drift = unchanged
            drift.differences = [KernelDifference(
                object: .namespace, change: .missing, subject: "namespace \(layout.namespace.path)", commands: [])]
            drift.note = "the network's namespace is gone with its bridge, VXLAN port and entries: weft rebuilds it when it restarts"
            return drift
        }
        do throws(DriverError) {
            let session = try networkNamespace(network)
            let hostSession = try hostNamespace()
            let action = "compare network \(network.shortID)"
            let links = try kernel(action) { () throws(NetlinkError) in try session.links() }
            let hostLinks = try kernel(action) { () throws(NetlinkError) in try hostSession.links() }
            var names: [Int32: String] = [:]
            for link in links { names[link.index] = link.name }
            let differences = linkDifferences(
                Reconciler.plan(desired(network), networkLinks: links, hostLinks: hostLinks, namespaceFD: session.namespace.fd),
                namespace: session.namespace.reference, names: names)
            var drift = unchanged
            drift.differences = differences
            if !differences.isEmpty {
                drift.note = "weft corrects links only when it starts (the repair pass covers FDB and neighbour entries): restart it to apply the link commands"
            }
            guard let cluster, let device = links.first(where: { $0.name == layout.vxlanName }) else { return drift }
            let remotes = await cluster.remoteEndpoints(vni: network.vni)
            let hosts = await cluster.remoteHosts(vni: network.vni).union(remotes.map(\.vtep))
            let synchronized = await cluster.isSynchronized
            let (fdb, neighbours) = try kernel(action) { () throws(NetlinkError) in
                (try session.forwardingDatabase(device: .index(device.index)), try session.neighbours(device: .index(device.index)))
            }
            let plan = Reconciler.planRemote(
                vxlan: .index(device.index), remotes: remotes, remoteHosts: hosts, fdb: fdb, neighbours: neighbours,
                relays: relays(for: network))
            drift.differences += entryDifferences(plan, fdb: fdb, neighbours: neighbours, namespace: session.namespace.reference, names: names)
            if !synchronized, drift.differences.contains(where: { $0.change == .extra && $0.object != .link }), drift.note == nil {
                drift.note = "this host has not received the cluster's tables yet: the repair pass adds entries but removes none until it has"
            }
            return drift
        } catch {
            var drift = unchanged
            drift.note = "cannot read the kernel: \(error)"
            return drift
        }
    }

    /// The link steps of a plan grouped by link: created only (missing), deleted only (extra), or both or changed
    /// (different).
    private func linkDifferences(_ plan: NetworkPlan, namespace: NamespaceReference, names: [Int32: String]) -> [KernelDifference] {
        var order: [String] = []
        var steps: [String: [(scope: NetworkPlan.Scope, operation: NetlinkOperation)]] = [:]
        for step in plan.steps {
            let name = Self.linkName(of: step.operation, names: names)
            if steps[name] == nil { order.append(name) }
            steps[name, default: []].append(step)
        }
        var differences = order.map { name -> KernelDifference in
            let ops = steps[name] ?? []
            let creates = ops.contains { if case .createLink = $0.operation { true } else { false } }
            let deletes = ops.contains { if case .deleteLink = $0.operation { true } else { false } }
            let change: KernelDifference.Change = creates && !deletes ? .missing : deletes && !creates ? .extra : .different
            let commands = ops.map { step in
                step.operation.ipRoute2Command(
                    in: step.scope == .host ? .current : namespace, linkName: { names[$0] ?? "if\($0)" },
                    namespaceArgument: namespace.path)
            }
            return KernelDifference(object: .link, change: change, subject: "link \(name)", commands: commands)
        }
        for lost in plan.lostBridgeEnds {
            differences.append(KernelDifference(
                object: .link, change: .missing, subject: "link \(lost) (an endpoint's bridge end: reconnect its container)",
                commands: []))
        }
        return differences
    }

    private static func linkName(of operation: NetlinkOperation, names: [Int32: String]) -> String {
        func name(_ reference: LinkReference) -> String {
            switch reference {
            case .name(let name): name
            case .index(let index): names[index] ?? "if\(index)"
            }
        }
        switch operation {
        case .createLink(let spec): return spec.name
        case .deleteLink(let link), .setLink(let link, _), .setBridgePort(let link, _): return name(link)
        case .addAddress(_, let link), .deleteAddress(_, let link): return name(link)
        case .writeFDB(let entry, _), .deleteFDB(let entry): return name(entry.device)
        case .writeNeighbour(let entry, _), .deleteNeighbour(let entry): return name(entry.device)
        }
    }

    /// FDB and neighbour steps: a write is missing unless the kernel has an entry for the same MAC (FDB) or
    /// address (neighbour), then different; a removal is extra.
    private func entryDifferences(
        _ plan: [NetlinkOperation], fdb: [FDBEntry], neighbours: [NeighbourEntry], namespace: NamespaceReference,
        names: [Int32: String]
    ) -> [KernelDifference] {
        let permanentFDB = fdb.filter { $0.table == .device && $0.state.contains(.permanent) && $0.mac != .zero }
        let permanentNeighbours = neighbours.filter { $0.state.contains(.permanent) }
        return plan.map { operation in
            let command = operation.ipRoute2Command(in: namespace, linkName: { names[$0] ?? "if\($0)" }, namespaceArgument: namespace.path)
            switch operation {
            case .writeFDB(let entry, _):
                let present = entry.mac != .zero && permanentFDB.contains { $0.mac == entry.mac }
                return KernelDifference(
                    object: .fdb, change: present ? .different : .missing,
                    subject: "fdb \(entry.mac) dst \(entry.destination.map { "\($0)" } ?? "-")", commands: [command])
            case .deleteFDB(let entry):
                return KernelDifference(
                    object: .fdb, change: .extra, subject: "fdb \(entry.mac) dst \(entry.destination.map { "\($0)" } ?? "-")",
                    commands: [command])
            case .writeNeighbour(let entry, _):
                let present = permanentNeighbours.contains { $0.address == entry.address }
                return KernelDifference(
                    object: .neighbour, change: present ? .different : .missing,
                    subject: "neighbour \(entry.address) lladdr \(entry.mac.map { "\($0)" } ?? "-")", commands: [command])
            case .deleteNeighbour(let entry):
                return KernelDifference(object: .neighbour, change: .extra, subject: "neighbour \(entry.address)", commands: [command])
            default:
                return KernelDifference(object: .link, change: .different, subject: "\(operation)", commands: [command])
            }
        }
    }
}
