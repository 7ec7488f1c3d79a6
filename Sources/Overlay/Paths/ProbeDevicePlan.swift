import Netlink

/// What the probe namespace should hold: one VXLAN device on ``PathProbe/vni`` with this host's advertise address
/// and probe MAC, and per peer an FDB entry sending the probe answers for that peer's MAC to the peer's relay
/// port (where the peer's weft reads them).
public struct ProbeDevicePlan: Sendable, Equatable {
    public var steps: [(scope: NetworkPlan.Scope, operation: NetlinkOperation)] = []

    public static func == (lhs: ProbeDevicePlan, rhs: ProbeDevicePlan) -> Bool {
        lhs.steps.elementsEqual(rhs.steps) { $0.scope == $1.scope && $0.operation == $1.operation }
    }

    /// nil for an IPv6 advertise address (the probe is IPv4 only). `links`, `addresses` and `fdb` are dumps of
    /// the probe namespace (empty when it was just made), `hostLinks` one of the host namespace.
    public static func plan(
        local: IPAddress, vxlanPort: UInt16, relayPort: UInt16, peers: Set<IPAddress>, links: [Link], hostLinks: [Link],
        addresses: [AssignedAddress], fdb: [FDBEntry], namespaceFD: Int32
    ) -> ProbeDevicePlan? {
        guard let mac = PathProbe.mac(for: local), let address = IPInterface(address: local, prefixLength: 32) else { return nil }
        var plan = ProbeDevicePlan()
        let name = PathProbe.deviceName
        let config = VXLANConfig(vni: PathProbe.vni, port: vxlanPort, local: local, proxy: false)
        let existing = links.first { $0.name == name }
        let fresh = existing?.kind != "vxlan" || existing?.mac != mac || existing?.vxlan.map { Reconciler.matches($0, config) } != true
        if fresh {
            if existing != nil { plan.steps.append((.network, .deleteLink(.name(name)))) }
            if hostLinks.contains(where: { $0.name == name }) { plan.steps.append((.host, .deleteLink(.name(name)))) }
            plan.steps.append((.host, .createLink(LinkSpec(name: name, kind: .vxlan(config), mac: mac))))
            plan.steps.append((.host, .setLink(.name(name), LinkChanges(namespaceFD: namespaceFD))))
        }
        let hasAddress = !fresh && addresses.contains { $0.device == existing?.index && $0.address == address }
        if !hasAddress { plan.steps.append((.network, .addAddress(address, device: .name(name)))) }
        if fresh || existing?.isUp != true { plan.steps.append((.network, .setLink(.name(name), LinkChanges(up: true)))) }

        var wanted: [MACAddress: ForwardingTarget] = [:]
        for peer in peers where peer != local {
            if let peerMAC = PathProbe.mac(for: peer) { wanted[peerMAC] = ForwardingTarget(address: peer, port: relayPort) }
        }
        var present: Set<MACAddress> = []
        if !fresh, let existing {
            for entry in fdb where entry.table == .device && entry.state.contains(.permanent) && entry.device == .index(existing.index) {
                if let target = ForwardingTarget(entry), wanted[entry.mac] == target {
                    present.insert(entry.mac)
                } else if let destination = entry.destination {
                    plan.steps.append((.network, .deleteFDB(.vtep(entry.mac, via: destination, port: entry.port, on: .name(name)))))
                }
            }
        }
        for (peerMAC, target) in wanted.sorted(by: { $0.value < $1.value }) where !present.contains(peerMAC) {
            plan.steps.append((.network, .writeFDB(.vtep(peerMAC, via: target.address, port: target.port, on: .name(name)), .replace)))
        }
        return plan
    }
}
