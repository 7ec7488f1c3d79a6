import Netlink

/// What a network's namespace should hold: the bridge, the VXLAN port, and one bridge port per endpoint.
public struct DesiredNetwork: Sendable, Equatable {
    public var layout: KernelLayout
    public var mtu: UInt32
    public var vxlan: VXLANConfig
    /// Names of the endpoints' bridge ends.
    public var bridgeEnds: Set<String>

    public init(layout: KernelLayout, mtu: UInt32, vxlan: VXLANConfig, bridgeEnds: Set<String>) {
        self.layout = layout
        self.mtu = mtu
        self.vxlan = vxlan
        self.bridgeEnds = bridgeEnds
    }

    public static func == (lhs: DesiredNetwork, rhs: DesiredNetwork) -> Bool {
        lhs.layout.vni == rhs.layout.vni && lhs.mtu == rhs.mtu && lhs.vxlan == rhs.vxlan && lhs.bridgeEnds == rhs.bridgeEnds
    }
}

/// Ordered kernel changes that bring a network's namespace to its desired state.
public struct NetworkPlan: Sendable, Equatable {
    /// Where a step runs. The VXLAN device is created in the host namespace, so its socket lives there.
    public enum Scope: Sendable, Equatable {
        case host
        case network
    }

    public var steps: [(scope: Scope, operation: NetlinkOperation)] = []
    /// Bridge ends that should exist and do not: their endpoints lost their link to the bridge.
    public var lostBridgeEnds: [String] = []

    public var isEmpty: Bool { steps.isEmpty }

    public static func == (lhs: NetworkPlan, rhs: NetworkPlan) -> Bool {
        lhs.steps.elementsEqual(rhs.steps) { $0.scope == $1.scope && $0.operation == $1.operation }
            && lhs.lostBridgeEnds == rhs.lostBridgeEnds
    }

    mutating func add(_ scope: Scope, _ operation: NetlinkOperation) { steps.append((scope, operation)) }
}

/// Compares desired state with what the kernel reports and plans the difference. Level-triggered: the same
/// plan is right whatever happened before (a crash half-way through a create, a link removed by hand), and an
/// empty plan means the namespace is as it should be.
public enum Reconciler {
    /// Plans one network. `networkLinks` is a dump of the network's namespace (empty when it was just made),
    /// `hostLinks` one of the host namespace, `namespaceFD` the open network namespace.
    public static func plan(
        _ desired: DesiredNetwork, networkLinks: [Link], hostLinks: [Link], namespaceFD: Int32
    ) -> NetworkPlan {
        var plan = NetworkPlan()
        let layout = desired.layout
        let byName = Dictionary(networkLinks.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let bridge = byName[layout.bridgeName]

        // The bridge.
        var bridgeIsNew = false
        if let bridge, bridge.kind == "bridge" {
            if bridge.mtu != desired.mtu || !bridge.isUp {
                plan.add(.network, .setLink(.name(layout.bridgeName), LinkChanges(up: true, mtu: desired.mtu)))
            }
        } else {
            if bridge != nil { plan.add(.network, .deleteLink(.name(layout.bridgeName))) }
            plan.add(.network, .createLink(LinkSpec(name: layout.bridgeName, kind: .bridge, mtu: desired.mtu)))
            plan.add(.network, .setLink(.name(layout.bridgeName), LinkChanges(up: true)))
            bridgeIsNew = true
        }
        let bridgeIndex = bridgeIsNew ? nil : bridge?.index

        // The VXLAN port: made in the host namespace, then moved in; replaced when any attribute differs.
        let existing = byName[layout.vxlanName]
        let vxlanMatches = existing?.kind == "vxlan" && existing?.vxlan.map { matches($0, desired.vxlan) } == true
        if !vxlanMatches {
            if existing != nil { plan.add(.network, .deleteLink(.name(layout.vxlanName))) }
            if hostLinks.contains(where: { $0.name == layout.vxlanName }) {
                plan.add(.host, .deleteLink(.name(layout.vxlanName)))
            }
            plan.add(.host, .createLink(LinkSpec(name: layout.vxlanName, kind: .vxlan(desired.vxlan), mtu: desired.mtu)))
            plan.add(.host, .setLink(.name(layout.vxlanName), LinkChanges(namespaceFD: namespaceFD)))
        }
        if let port = existing, vxlanMatches {
            if port.master != bridgeIndex || bridgeIndex == nil || !port.isUp || port.mtu != desired.mtu {
                plan.add(.network, enslave(layout.vxlanName, to: layout.bridgeName, mtu: desired.mtu))
                plan.add(.network, .setBridgePort(.name(layout.vxlanName), BridgePortChanges(learning: false)))
            }
        } else {
            plan.add(.network, enslave(layout.vxlanName, to: layout.bridgeName, mtu: desired.mtu))
            plan.add(.network, .setBridgePort(.name(layout.vxlanName), BridgePortChanges(learning: false)))
        }

        // Endpoint ports: kept attached; those of no endpoint removed (which removes the pair).
        for name in desired.bridgeEnds.sorted() {
            guard let end = byName[name] else {
                plan.lostBridgeEnds.append(name)
                continue
            }
            if end.master != bridgeIndex || bridgeIndex == nil || !end.isUp || end.mtu != desired.mtu {
                plan.add(.network, enslave(name, to: layout.bridgeName, mtu: desired.mtu))
            }
        }
        for link in networkLinks.sorted(by: { $0.name < $1.name })
        where link.name.hasPrefix(KernelLayout.bridgeEndPrefix) && !desired.bridgeEnds.contains(link.name) {
            plan.add(.network, .deleteLink(.name(link.name)))
        }
        return plan
    }

    /// Host-namespace leftovers: VXLAN devices stranded before their move, and endpoint host ends that belong
    /// to no endpoint (a host end of a joined endpoint is inside its container, out of sight).
    public static func planHostCleanup(hostLinks: [Link], knownHostEnds: Set<String>) -> [NetlinkOperation] {
        hostLinks.sorted { $0.name < $1.name }.compactMap { link in
            if link.name.hasPrefix(KernelLayout.vxlanPrefix), link.kind == "vxlan" { return .deleteLink(.name(link.name)) }
            if link.name.hasPrefix(KernelLayout.hostEndPrefix), link.kind == "veth", !knownHostEnds.contains(link.name) {
                return .deleteLink(.name(link.name))
            }
            return nil
        }
    }

    private static func enslave(_ name: String, to bridge: String, mtu: UInt32) -> NetlinkOperation {
        .setLink(.name(name), LinkChanges(up: true, mtu: mtu, master: .bridge(.name(bridge))))
    }

    /// Whether a dumped VXLAN device has every attribute weft sets (the lower device is not compared: weft
    /// does not bind one).
    static func matches(_ actual: VXLANConfig, _ desired: VXLANConfig) -> Bool {
        actual.vni == desired.vni && actual.port == desired.port && actual.local == desired.local
            && actual.learning == desired.learning && actual.proxy == desired.proxy && actual.l2miss == desired.l2miss
            && actual.l3miss == desired.l3miss && actual.udpChecksum == desired.udpChecksum && actual.ttl == desired.ttl
    }
}
