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
    /// Writes use replace semantics, so an address that moved to another MAC or a MAC that moved to another VTEP
    /// is corrected in place; removals come first so a moved entry never coexists with its old self.
    public static func planRemote(
        vxlan device: LinkReference, remotes: [RemoteEndpoint], remoteHosts: Set<IPAddress>,
        fdb: [FDBEntry], neighbours: [NeighbourEntry]
    ) -> [NetlinkOperation] {
        var removals: [NetlinkOperation] = []
        var writes: [NetlinkOperation] = []
        var wantedMAC: [MACAddress: IPAddress] = [:]
        var wantedNeighbour: [IPAddress: MACAddress] = [:]
        for remote in remotes {
            wantedMAC[remote.mac] = remote.vtep
            wantedNeighbour[remote.address] = remote.mac
        }

        var presentMAC: [MACAddress: IPAddress] = [:]
        var presentFlood: Set<IPAddress> = []
        for entry in fdb where entry.table == .device && entry.state.contains(.permanent) {
            guard let destination = entry.destination else { continue }
            if entry.mac == .zero {
                if remoteHosts.contains(destination) {
                    presentFlood.insert(destination)
                } else {
                    removals.append(.deleteFDB(.vtep(.zero, via: destination, on: device)))
                }
            } else if let wanted = wantedMAC[entry.mac] {
                if wanted == destination { presentMAC[entry.mac] = destination }
            } else {
                removals.append(.deleteFDB(.vtep(entry.mac, via: destination, on: device)))
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

        for host in remoteHosts.sorted() where !presentFlood.contains(host) {
            writes.append(.writeFDB(.vtep(.zero, via: host, on: device), .append))
        }
        for remote in remotes.sorted(by: { $0.address < $1.address }) {
            if presentMAC[remote.mac] != remote.vtep {
                writes.append(.writeFDB(.vtep(remote.mac, via: remote.vtep, on: device), .replace))
            }
            if presentNeighbour[remote.address] != .some(remote.mac) {
                writes.append(.writeNeighbour(NeighbourEntry(address: remote.address, mac: remote.mac, device: device), .replace))
            }
        }
        return removals + writes
    }
}
