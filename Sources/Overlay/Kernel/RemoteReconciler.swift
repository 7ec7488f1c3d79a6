import Netlink

/// An endpoint on another host, as the VXLAN device must know it: its IP and MAC, and the VTEP it is behind.
public struct RemoteEndpoint: Hashable, Sendable {
    public var address: IPAddress
    public var mac: MACAddress
    public var vtep: IPAddress

    public init(address: IPAddress, mac: MACAddress, vtep: IPAddress) {
        self.address = address
        self.mac = mac
        self.vtep = vtep
    }
}

extension Reconciler {
    /// Plans the VXLAN device's forwarding state: for each remote endpoint a permanent neighbour entry (IP → MAC,
    /// answered locally by the device's ARP proxy) and a permanent FDB entry (MAC → VTEP); for each remote host
    /// an all-zeros FDB entry (head-end replication of broadcast and multicast). Entries that no record wants are
    /// removed; kernel-made entries (not permanent, or in the bridge's table) are left alone.
    ///
    /// A remote host in `relays` is reached through its relay: its MACs' entries and its flooding entry name the
    /// relay's VTEP at the relay port instead (one flooding entry per relay, however many hosts it serves).
    ///
    /// Writes use replace semantics, so an address that moved to another MAC or a MAC that moved to another VTEP
    /// is corrected in place; removals come first so a moved entry never coexists with its old self.
    public static func planRemote(
        vxlan device: LinkReference, remotes: [RemoteEndpoint], remoteHosts: Set<IPAddress>,
        fdb: [FDBEntry], neighbours: [NeighbourEntry], relays: RelayRoutes = .direct
    ) -> [NetlinkOperation] {
        var removals: [NetlinkOperation] = []
        var writes: [NetlinkOperation] = []
        var wantedMAC: [MACAddress: ForwardingTarget] = [:]
        var wantedNeighbour: [IPAddress: MACAddress] = [:]
        for remote in remotes {
            wantedMAC[remote.mac] = relays.target(for: remote.vtep)
            wantedNeighbour[remote.address] = remote.mac
        }
        // Hosts reached through one relay share its flooding entry: the relay floods to each of them once.
        let wantedFlood = Set(remoteHosts.map(relays.target(for:)))

        var presentMAC: [MACAddress: ForwardingTarget] = [:]
        var presentFlood: Set<ForwardingTarget> = []
        for entry in fdb where entry.table == .device && entry.state.contains(.permanent) {
            guard let target = ForwardingTarget(entry) else { continue }
            if entry.mac == .zero {
                if wantedFlood.contains(target) {
                    presentFlood.insert(target)
                } else {
                    removals.append(.deleteFDB(.vtep(.zero, via: target.address, port: target.port, on: device)))
                }
            } else if let wanted = wantedMAC[entry.mac] {
                if wanted == target { presentMAC[entry.mac] = target }
            } else {
                removals.append(.deleteFDB(.vtep(entry.mac, via: target.address, port: target.port, on: device)))
            }
        }
        var presentNeighbour: [IPAddress: MACAddress] = [:]
        for entry in neighbours where entry.state.contains(.permanent) {
            if wantedNeighbour[entry.address] != nil {
                presentNeighbour[entry.address] = entry.mac
            } else {
                removals.append(.deleteNeighbour(NeighbourEntry(address: entry.address, mac: nil, device: device)))
            }
        }

        for target in wantedFlood.sorted() where !presentFlood.contains(target) {
            writes.append(.writeFDB(.vtep(.zero, via: target.address, port: target.port, on: device), .append))
        }
        // A MAC has one FDB entry: where two remotes share one, the VTEP `wantedMAC` kept, written once (writing
        // each would flip the entry on every pass).
        var writtenMAC: Set<MACAddress> = []
        for remote in remotes.sorted(by: { $0.address < $1.address }) {
            if let target = wantedMAC[remote.mac], presentMAC[remote.mac] != target, writtenMAC.insert(remote.mac).inserted {
                writes.append(.writeFDB(.vtep(remote.mac, via: target.address, port: target.port, on: device), .replace))
            }
            if presentNeighbour[remote.address] != .some(remote.mac) {
                writes.append(.writeNeighbour(NeighbourEntry(address: remote.address, mac: remote.mac, device: device), .replace))
            }
        }
        return removals + writes
    }
}

/// What a network's VXLAN device is programmed with for other hosts, as the desired state last written: an FDB
/// entry per remote MAC (to its VTEP), a neighbour entry per remote address (to its MAC) and a flooding entry
/// per remote host. Kept per network so that one remote change is applied as its difference, without reading
/// the kernel back: ``patch(_:floodTargets:)`` changes a few addresses in place.
public struct RemoteProgram: Sendable, Equatable {
    public var fdb: [MACAddress: ForwardingTarget]
    public var neighbours: [IPAddress: MACAddress]
    /// The flooding entries' targets.
    public var hosts: Set<ForwardingTarget>
    /// Each address's own target (its MAC's FDB entry names the target of the highest address using the MAC).
    private var targets: [IPAddress: ForwardingTarget] = [:]
    /// The addresses using each MAC: an endpoint's IPv4 and IPv6 addresses share one, and its FDB entry goes
    /// only with the last of them.
    private var macUsers: [MACAddress: Set<IPAddress>] = [:]
    /// How many addresses are behind each target: every remote endpoint's host gets a flooding entry.
    private var targetUse: [ForwardingTarget: Int] = [:]

    /// One address's entries: its MAC, and where frames for the MAC go.
    public struct Entry: Sendable, Equatable {
        public var mac: MACAddress
        public var target: ForwardingTarget

        public init(mac: MACAddress, target: ForwardingTarget) {
            self.mac = mac
            self.target = target
        }
    }

    /// The entries `remotes` and `hosts` ask for; where two remotes share a MAC, the later one's VTEP wins, as in
    /// ``Reconciler/planRemote(vxlan:remotes:remoteHosts:fdb:neighbours:)``. A program that will be patched must
    /// be made from remotes in ascending address order (as ``ClusterState/remoteEndpoints(vni:)`` gives them):
    /// a patch gives a shared MAC the target of its highest address.
    public init(remotes: [RemoteEndpoint], hosts: Set<IPAddress>, relays: RelayRoutes = .direct) {
        var fdb: [MACAddress: ForwardingTarget] = [:]
        var neighbours: [IPAddress: MACAddress] = [:]
        var targets: [IPAddress: ForwardingTarget] = [:]
        var macUsers: [MACAddress: Set<IPAddress>] = [:]
        var targetUse: [ForwardingTarget: Int] = [:]
        fdb.reserveCapacity(remotes.count)
        neighbours.reserveCapacity(remotes.count)
        targets.reserveCapacity(remotes.count)
        macUsers.reserveCapacity(remotes.count)
        for remote in remotes {
            let target = relays.target(for: remote.vtep)
            fdb[remote.mac] = target
            neighbours[remote.address] = remote.mac
            targets[remote.address] = target
            macUsers[remote.mac, default: []].insert(remote.address)
            targetUse[target, default: 0] += 1
        }
        self.fdb = fdb
        self.neighbours = neighbours
        self.hosts = Set(hosts.map(relays.target(for:)))
        self.targets = targets
        self.macUsers = macUsers
        self.targetUse = targetUse
    }

    private init() {
        fdb = [:]
        neighbours = [:]
        hosts = []
    }

    /// Sets the entries of the changed addresses (nil: the address has none any more) and the flooding targets
    /// of the hosts that define the network (the remote endpoints' own hosts are added), in place. Returns what
    /// the change touched, before and after, as two programs holding only those entries (and every flooding
    /// target), for ``Reconciler/planRemoteChange(vxlan:from:to:)``: the work is that of the changed addresses,
    /// whatever the size of the program.
    public mutating func patch(
        _ changes: [IPAddress: Entry?], floodTargets: Set<ForwardingTarget>
    ) -> (before: RemoteProgram, after: RemoteProgram) {
        var before = RemoteProgram()
        var after = RemoteProgram()
        var macs: Set<MACAddress> = []
        for (address, entry) in changes {
            if let mac = neighbours.removeValue(forKey: address) {
                before.neighbours[address] = mac
                macs.insert(mac)
                macUsers[mac]?.remove(address)
                if macUsers[mac]?.isEmpty == true { macUsers[mac] = nil }
            }
            if let target = targets.removeValue(forKey: address) {
                targetUse[target, default: 1] -= 1
                if targetUse[target] == 0 { targetUse[target] = nil }
            }
            guard let entry else { continue }
            neighbours[address] = entry.mac
            targets[address] = entry.target
            macUsers[entry.mac, default: []].insert(address)
            targetUse[entry.target, default: 0] += 1
            after.neighbours[address] = entry.mac
            macs.insert(entry.mac)
        }
        for mac in macs {
            before.fdb[mac] = fdb[mac]
            fdb[mac] = macUsers[mac]?.max().flatMap { targets[$0] }
            after.fdb[mac] = fdb[mac]
        }
        before.hosts = hosts
        hosts = floodTargets.union(targetUse.keys)
        after.hosts = hosts
        return (before, after)
    }
}

extension Reconciler {
    /// Plans the change from one programmed desired state to the next without reading the kernel: only the
    /// entries that differ are removed or written, so one remote endpoint that comes or goes costs the same few
    /// operations whatever the size of the network. Removals come first; writes replace, as in ``planRemote``.
    /// The kernel itself is compared only by the periodic repair pass (``planRemote``).
    public static func planRemoteChange(
        vxlan device: LinkReference, from old: RemoteProgram, to new: RemoteProgram
    ) -> [NetlinkOperation] {
        let goneHosts = old.hosts.subtracting(new.hosts).sorted()
        let goneMACs = old.fdb.filter { new.fdb[$0.key] == nil }.sorted { $0.key < $1.key }
        let goneAddresses = old.neighbours.keys.filter { new.neighbours[$0] == nil }.sorted()
        let newHosts = new.hosts.subtracting(old.hosts).sorted()
        let changedMACs = new.fdb.filter { old.fdb[$0.key] != $0.value }.sorted { $0.key < $1.key }
        let changedAddresses = new.neighbours.filter { old.neighbours[$0.key] != $0.value }.sorted { $0.key < $1.key }
        let removals: [NetlinkOperation] =
            goneHosts.map { .deleteFDB(.vtep(.zero, via: $0.address, port: $0.port, on: device)) }
            + goneMACs.map { .deleteFDB(.vtep($0.key, via: $0.value.address, port: $0.value.port, on: device)) }
            + goneAddresses.map { .deleteNeighbour(NeighbourEntry(address: $0, mac: nil, device: device)) }
        let writes: [NetlinkOperation] =
            newHosts.map { .writeFDB(.vtep(.zero, via: $0.address, port: $0.port, on: device), .append) }
            + changedMACs.map { .writeFDB(.vtep($0.key, via: $0.value.address, port: $0.value.port, on: device), .replace) }
            + changedAddresses.map { .writeNeighbour(NeighbourEntry(address: $0.key, mac: $0.value, device: device), .replace) }
        return removals + writes
    }
}
