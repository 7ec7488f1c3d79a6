import CoreMetrics
import Logging
import Netlink

/// Other hosts' endpoints: the FDB and neighbour entries of each network's VXLAN device, programmed from the
/// cluster tables as differences, and in full by the repair pass; this host's endpoints announced to the others.
extension OverlayDriver {
    /// Reprograms the networks whose remote state changed, each by the difference from what was last written:
    /// a constant number of kernel operations per remote change, whatever the size of the network. Calls that
    /// arrive while a pass runs are folded into the next pass, so a burst of gossip costs a few passes, not one
    /// per message.
    public func remoteChanged(_ vnis: Set<VNI>) async {
        await programRemote(vnis, .change)
    }

    /// Every network, as the periodic pass does: reads each VXLAN device back and corrects whatever drifted (an
    /// entry removed by hand, a missed message, a failed write).
    public func reconcileAllRemote() async {
        if store.current.networks.isEmpty {
            lastRepair = RepairSummary(finishedAt: ClusterState.wallClockMilliseconds(), networks: 0, written: 0, removed: 0, failed: 0)
        }
        await programRemote(Set(store.current.networks.values.map(\.vni)), .repair)
    }

    /// One lane for every remote pass, so that a pass never writes a desired state older than one already written.
    func programRemote(_ vnis: Set<VNI>, _ pass: RemotePass) async {
        for vni in vnis { pendingRemote[vni] = max(pendingRemote[vni] ?? pass, pass) }
        guard !reconcilingRemote else { return }
        reconcilingRemote = true
        let reachableBefore = encryptedReachable
        await refreshEncryption()
        // A host that became reachable (or stopped being) on one encrypted network may share others with this host.
        for vni in Set(reachableBefore.keys).union(encryptedReachable.keys) where reachableBefore[vni] != encryptedReachable[vni] {
            pendingRemote[vni] = max(pendingRemote[vni] ?? .change, .change)
        }
        while !pendingRemote.isEmpty {
            let batch = pendingRemote
            pendingRemote = [:]
            for (network, pass) in store.current.networks.values.compactMap({ n in batch[n.vni].map { (n, $0) } })
                .sorted(by: { $0.0.vni < $1.0.vni })
            {
                await programRemote(network, pass)
            }
        }
        reconcilingRemote = false
        if var tally = repairTally {
            tally.finishedAt = ClusterState.wallClockMilliseconds()
            lastRepair = tally
            repairTally = nil
        }
    }

    /// Brings one network's VXLAN device to the cluster's view: an FDB and a neighbour entry per remote endpoint,
    /// a flooding entry per remote host. A change is applied as the difference from the programmed state: only
    /// the addresses the cluster reports changed, when the network was programmed with the same relays and
    /// tunnels, else the whole desired state compared with the programmed one. A repair (or a network with
    /// nothing programmed yet) compares with a dump of the device. Each pass logs one summary line; each entry is
    /// logged at debug.
    func programRemote(_ network: NetworkRecord, _ pass: RemotePass) async {
        guard let cluster else { return }
        // A VXLAN device sends over one address family, its local VTEP's: hosts advertising the other family
        // (a mixed IPv4/IPv6 underlay) are not programmed, and a repair pass (every interval) says so.
        let family = host.advertiseAddress.isIPv4
        let inputs = remoteInputs(of: network)
        var changes: [IPAddress: ClusterState.RemoteEndpointChange]?
        if pass == .change, let programmed = programmedRemote[network.vni], programmed.relays == inputs.relays,
            programmed.tunnels == inputs.tunnels, case .addresses(let taken) = await cluster.takeRemoteChanges(vni: network.vni)
        {
            changes = taken
        }
        var everyRemote: [RemoteEndpoint] = []
        if changes == nil { everyRemote = await cluster.takeRemoteEndpoints(vni: network.vni) }
        let everyHost = await cluster.remoteHosts(vni: network.vni).union(everyRemote.map(\.vtep))
        var remotes = everyRemote.filter { $0.vtep.isIPv4 == family }
        var hosts = everyHost.filter { $0.isIPv4 == family }
        if pass == .repair, hosts.count < everyHost.count {
            logger.warning("hosts on another underlay address family are not reachable on this network", metadata: [
                "network": "\(network.shortID)", "local VTEP": "\(host.advertiseAddress)",
                "unreachable": "\(everyHost.subtracting(hosts).sorted().map(\.description).joined(separator: " "))"])
        }
        if let tunnels = inputs.tunnels {
            // Fail closed: only toward hosts whose WireGuard peer is configured and handshaken, at their tunnel address.
            remotes = remotes.compactMap { remote in tunnels[remote.vtep].map { RemoteEndpoint(address: remote.address, mac: remote.mac, vtep: $0) } }
            hosts = Set(hosts.compactMap { tunnels[$0] })
        }
        // Before the tables are known complete, only add: a restarted weft must not remove what still works.
        let removalsAllowed = await cluster.isSynchronized
        // A change pass programs what just arrived: how long after its owner wrote it is the convergence lag.
        var written: [MACAddress: UInt64] = [:]
        if pass == .change, changes == nil { written = await cluster.endpointWriteTimes(vni: network.vni) }
        // The network may have gone while this pass waited for the cluster (its taken changes go with it).
        guard store.current.networks[network.id] == network else {
            if changes != nil { programmedRemote[network.vni] = nil }
            return
        }
        let routes = inputs.relays
        Counter(label: "weft_reconcile_passes_total", dimensions: [("pass", pass.description)]).increment()
        if pass == .repair {
            if repairTally == nil { repairTally = RepairSummary(finishedAt: 0, networks: 0, written: 0, removed: 0, failed: 0) }
            repairTally?.networks += 1
        }
        do throws(DriverError) {
            let session = try networkNamespace(network)
            let device = LinkReference.index(try kernel("network \(network.shortID)") { () throws(NetlinkError) in
                try session.index(of: .name(layout(for: network).vxlanName))
            })
            let plan: [NetlinkOperation]
            let oldNeighbours: [IPAddress: MACAddress]
            // nil where the programmed state was patched in place.
            var desired: RemoteProgram?
            if let changes {
                // The relays or tunnels changed while this pass waited: the taken changes need the whole state.
                guard remoteInputs(of: network) == inputs, programmedRemote[network.vni] != nil else {
                    programmedRemote[network.vni] = nil
                    pendingRemote[network.vni] = max(pendingRemote[network.vni] ?? .change, .change)
                    return
                }
                var entries: [IPAddress: RemoteProgram.Entry?] = [:]
                for (address, change) in changes {
                    entries.updateValue(
                        change.endpoint.flatMap { remoteEntry($0, family: family, tunnels: inputs.tunnels, relays: routes) }, forKey: address)
                    if let endpoint = change.endpoint, let at = change.written { written[endpoint.mac] = at }
                }
                let (before, after) = programmedRemote[network.vni]!.program.patch(
                    entries, floodTargets: Set(hosts.map(routes.target(for:))))
                plan = Reconciler.planRemoteChange(vxlan: device, from: before, to: after)
                oldNeighbours = before.neighbours
            } else if pass == .change, let previous = programmedRemote[network.vni]?.program {
                let program = RemoteProgram(remotes: remotes, hosts: hosts, relays: routes)
                plan = Reconciler.planRemoteChange(vxlan: device, from: previous, to: program)
                oldNeighbours = previous.neighbours
                desired = program
            } else {
                let (fdb, neighbours) = try kernel("network \(network.shortID)") { () throws(NetlinkError) in
                    (try session.forwardingDatabase(device: device), try session.neighbours(device: device))
                }
                plan = Reconciler.planRemote(
                    vxlan: device, remotes: remotes, remoteHosts: hosts, fdb: fdb, neighbours: neighbours, relays: routes)
                var permanent: [IPAddress: MACAddress] = [:]
                for entry in neighbours where entry.state.contains(.permanent) { permanent[entry.address] = entry.mac }
                oldNeighbours = permanent
                desired = RemoteProgram(remotes: remotes, hosts: hosts, relays: routes)
            }
            if let desired { programmedRemote[network.vni] = ProgrammedRemote(program: desired, relays: routes, tunnels: inputs.tunnels) }
            let allowed = plan.filter { operation in
                switch operation {
                case .deleteFDB, .deleteNeighbour: removalsAllowed
                default: true
                }
            }
            guard !allowed.isEmpty else { return }
            let outcomes = session.apply(allowed)
            var failures = 0
            let now = ClusterState.wallClockMilliseconds()
            for (operation, outcome) in zip(allowed, outcomes) {
                if case .writeFDB(let entry, _) = operation, case .success = outcome, let at = written[entry.mac] {
                    Timer(label: "weft_convergence_lag_seconds").recordNanoseconds(Int64(clamping: (now &- min(now, at)) &* 1_000_000))
                }
                if case .failure(let error) = outcome {
                    failures += 1
                    logger.warning("cannot program a remote entry", metadata: [
                        "network": "\(network.shortID)", "operation": "\(operation)", "error": "\(error)"])
                } else {
                    logger.debug("programmed a remote entry", metadata: ["network": "\(network.shortID)", "operation": "\(operation)"])
                }
            }
            // After a failed write the kernel is not what was planned: the next pass reads it back.
            if failures > 0 { programmedRemote[network.vni] = nil }
            remoteCorrections += allowed.count
            let removed = allowed.count { if case .deleteFDB = $0 { true } else if case .deleteNeighbour = $0 { true } else { false } }
            Counter(label: "weft_reconcile_corrections_total", dimensions: [("kind", "written")]).increment(by: allowed.count - removed)
            Counter(label: "weft_reconcile_corrections_total", dimensions: [("kind", "removed")]).increment(by: removed)
            if failures > 0 {
                Counter(label: "weft_kernel_operation_errors_total", dimensions: [("operation", "remote_entry")]).increment(by: failures)
                EventJournal.shared.record("error", subject: Self.netTag(network), "\(failures) remote entry write(s) failed (\(pass) pass)")
            }
            EventJournal.shared.record(
                "correction", subject: Self.netTag(network),
                "\(pass) pass: \(allowed.count - removed) entries written, \(removed) removed, \(failures) failed")
            if pass == .repair {
                repairTally?.written += allowed.count - removed
                repairTally?.removed += removed
                repairTally?.failed += failures
            }
            logger.info("\(Self.netTag(network)): +\(allowed.count - removed) −\(removed) remote entries", metadata: [
                "pass": "\(pass)", "failed": "\(failures)",
                "remote endpoints": "\(programmedRemote[network.vni]?.program.neighbours.count ?? remotes.count)",
                "remote hosts": "\(programmedRemote[network.vni]?.program.hosts.count ?? hosts.count)",
            ])
            announceMoves(in: network, session: session, written: allowed, previous: oldNeighbours)
        } catch {
            programmedRemote[network.vni] = nil
            Counter(label: "weft_kernel_operation_errors_total", dimensions: [("operation", "remote_pass")]).increment()
            EventJournal.shared.record("error", subject: Self.netTag(network), "cannot program remote entries: \(error)")
            logger.warning("cannot program remote entries", metadata: ["network": "\(network.shortID)", "error": "\(error)"])
        }
    }

    /// What a network's remote entries are made with besides the cluster's tables: the relays its entries
    /// follow and, for an encrypted network, each reachable host's tunnel address.
    func remoteInputs(of network: NetworkRecord) -> (relays: RelayRoutes, tunnels: [IPAddress: IPAddress]?) {
        (relays(for: network), network.isEncrypted ? encryptedReachable[network.vni] ?? [:] : nil)
    }

    /// One remote endpoint's entries as the full pass would program them: none behind a VTEP of the other
    /// address family or, on an encrypted network, behind a host not reachable through its tunnel.
    func remoteEntry(
        _ remote: RemoteEndpoint, family isIPv4: Bool, tunnels: [IPAddress: IPAddress]?, relays: RelayRoutes
    ) -> RemoteProgram.Entry? {
        guard remote.vtep.isIPv4 == isIPv4 else { return nil }
        guard let tunnels else { return RemoteProgram.Entry(mac: remote.mac, target: relays.target(for: remote.vtep)) }
        return tunnels[remote.vtep].map { RemoteProgram.Entry(mac: remote.mac, target: relays.target(for: $0)) }
    }

    /// `net 00002a`: a network as the per-pass summary names it (by VNI, the name every host shares).
    static func netTag(_ network: NetworkRecord) -> String {
        "net \(KernelLayout(vni: network.vni, namespaceDirectory: "").vniTag)"
    }

    /// Local containers may still have a moved address's old MAC in their ARP caches, and the VXLAN device
    /// (answering ARP itself) lets no ARP from the new place through: a gratuitous ARP on the bridge, from the
    /// new MAC, updates them at once. Sent for every remote address that is written or changes its MAC.
    func announceMoves(
        in network: NetworkRecord, session: NetlinkSession, written: [NetlinkOperation], previous old: [IPAddress: MACAddress]
    ) {
        var bridgeIndex: Int32?
        for case .writeNeighbour(let entry, _) in written {
            // Also when the address had no entry: it may have been local a moment ago, or its old entry may
            // have been withdrawn before the new one arrived. A gratuitous ARP changes only caches that hold it.
            guard let mac = entry.mac, old[entry.address] != mac else { continue }
            do throws(NetlinkError) {
                let bridge: Int32
                if let bridgeIndex { bridge = bridgeIndex } else { bridge = try session.index(of: .name(layout(for: network).bridgeName)) }
                try backend.send(GratuitousARP(address: entry.address, mac: mac, device: bridge), in: session.namespace)
                bridgeIndex = bridge
                logger.debug("announced a moved address", metadata: ["network": "\(network.shortID)", "address": "\(entry.address)", "mac": "\(mac)"])
            } catch {
                logger.warning("cannot announce a moved address", metadata: ["address": "\(entry.address)", "error": "\(error)"])
            }
        }
    }

    /// A new endpoint may take an address that was elsewhere a moment ago (a container moved here with the same
    /// `--ip`): tell the local containers its MAC, as for a remote move.
    func announceLocally(_ endpoint: EndpointRecord, in network: NetworkRecord) {
        guard cluster != nil, let session = try? networkNamespace(network),
            let bridge = try? session.index(of: .name(layout(for: network).bridgeName))
        else { return }
        let addresses: [IPAddress] = [.v4(endpoint.address)] + (endpoint.address6.map { [.v6($0)] } ?? [])
        for address in addresses {
            do throws(NetlinkError) {
                try backend.send(GratuitousARP(address: address, mac: endpoint.mac, device: bridge), in: session.namespace)
            } catch {
                logger.debug("cannot announce an endpoint", metadata: ["endpoint": "\(endpoint.shortID)", "error": "\(error)"])
            }
        }
    }

    func announcement(of network: NetworkRecord) -> NetworkAnnouncement {
        NetworkAnnouncement(vni: network.vni, subnet: network.subnet, host: cluster?.node ?? "", vtep: host.advertiseAddress,
                            subnet6: network.subnet6, wireGuard: wireGuardAnnouncement(of: network))
    }

    func announcement(of endpoint: EndpointRecord, in network: NetworkRecord) -> EndpointAnnouncement {
        EndpointAnnouncement(
            vni: network.vni, endpointID: endpoint.id, address: endpoint.address, mac: endpoint.mac,
            host: cluster?.node ?? "", vtep: host.advertiseAddress, address6: endpoint.address6)
    }
}

/// A network's programmed remote entries and what they were made with: a change pass patches them only while
/// the relays and tunnels are the same.
struct ProgrammedRemote: Sendable {
    var program: RemoteProgram
    var relays: RelayRoutes
    /// Each reachable host's tunnel address, for an encrypted network; nil for a plaintext one.
    var tunnels: [IPAddress: IPAddress]?
}
