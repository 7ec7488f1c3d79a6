/// A small, complete exercise of the netlink layer, laid out as weft lays out a network: a namespace
/// holding a bridge and a VXLAN port (created in the host namespace, then moved), endpoint veths whose host
/// ends are moved in and enslaved, remote FDB and neighbour entries, head-end replication entries, and a
/// few deletions. `weft netlink scenario` runs it, and the replay test runs it through both backends.
///
/// Every MAC address comes from `seed`, so two runs program identical state.
public struct NetlinkScenario: Sendable {
    public var vni: VNI
    public var local: IPAddress
    public var endpoints: Int
    public var remoteEndpoints: Int
    public var remoteHosts: Int
    public var deletions: Int
    public var mtu: UInt32
    public var seed: UInt64

    public init(
        vni: VNI = VNI(42)!, local: IPAddress = IPAddress("192.0.2.1")!, endpoints: Int = 3,
        remoteEndpoints: Int = 50, remoteHosts: Int = 3, deletions: Int = 5, mtu: UInt32 = 1450, seed: UInt64 = 42
    ) {
        self.vni = vni
        self.local = local
        self.endpoints = endpoints
        self.remoteEndpoints = remoteEndpoints
        self.remoteHosts = remoteHosts
        self.deletions = deletions
        self.mtu = mtu
        self.seed = seed
    }

    public var bridgeName: String { "wbr-" + hex(vni.value) }
    public var vxlanName: String { "wvx-" + hex(vni.value) }

    /// Builds the network in a new namespace at `network`, with `host` standing for the host namespace.
    /// Returns the network namespace, still open.
    @discardableResult
    public func run(
        on backend: any NetlinkBackend, host: NetworkNamespace, network: NamespaceReference
    ) throws(NetlinkError) -> NetworkNamespace {
        var generator = SplitMix64(seed: seed)
        let namespace = try backend.createNamespace(network)
        let hostSession = try backend.session(in: host)
        let session = try backend.session(in: namespace)
        let vxlan = VXLANConfig(vni: vni, local: local)

        // The VXLAN device is created in the host namespace so its UDP socket lives there, then moved.
        try hostSession.perform([
            .createLink(
                LinkSpec(
                    name: vxlanName, kind: .vxlan(vxlan), mtu: mtu,
                    mac: .randomLocallyAdministered(using: &generator))),
            .setLink(.name(vxlanName), LinkChanges(namespaceFD: namespace.fd)),
        ])
        var operations: [NetlinkOperation] = [
            .createLink(
                LinkSpec(name: bridgeName, kind: .bridge, mtu: mtu, mac: .randomLocallyAdministered(using: &generator))),
            .setLink(.name(vxlanName), LinkChanges(master: .bridge(.name(bridgeName)))),
            .setBridgePort(.name(vxlanName), BridgePortChanges(learning: false)),
            .setLink(.name(vxlanName), LinkChanges(up: true)),
            .setLink(.name(bridgeName), LinkChanges(up: true)),
        ]

        // Endpoints: the pair is made in the host namespace with the bridge end created in the network's.
        var hostEnds: [NetlinkOperation] = []
        for endpoint in 0..<endpoints {
            let hostEnd = "wve-\(hex(vni.value))-\(endpoint)"
            let bridgeEnd = "wvp-\(hex(vni.value))-\(endpoint)"
            hostEnds.append(
                .createLink(
                    LinkSpec(
                        name: hostEnd,
                        kind: .veth(
                            peer: VethPeer(
                                name: bridgeEnd, mtu: mtu, mac: .randomLocallyAdministered(using: &generator),
                                namespaceFD: namespace.fd)),
                        mtu: mtu, mac: .randomLocallyAdministered(using: &generator))))
            operations.append(.setLink(.name(bridgeEnd), LinkChanges(up: true, master: .bridge(.name(bridgeName)))))
        }
        try hostSession.perform(hostEnds)

        // Remote endpoints behind their VTEPs, and one flooding entry per remote host.
        let hosts = (0..<remoteHosts).map { IPAddress.v4(IPv4Address(192, 0, 2, UInt8(10 + $0))) }
        var remotes: [(ip: IPAddress, mac: MACAddress, vtep: IPAddress)] = []
        for remote in 0..<remoteEndpoints {
            let ip = IPAddress.v4(IPv4Address(10, 1, UInt8(remote / 250), UInt8(2 + remote % 250)))
            remotes.append((ip, .randomLocallyAdministered(using: &generator), hosts[remote % hosts.count]))
        }
        let device = LinkReference.name(vxlanName)
        for host in hosts { operations.append(.writeFDB(.vtep(.zero, via: host, on: device), .append)) }
        for remote in remotes {
            operations.append(.writeFDB(.vtep(remote.mac, via: remote.vtep, on: device), .replace))
            operations.append(.writeNeighbour(NeighbourEntry(address: remote.ip, mac: remote.mac, device: device), .replace))
        }
        for remote in remotes.prefix(deletions) {
            operations.append(.deleteFDB(.vtep(remote.mac, via: remote.vtep, on: device)))
            operations.append(.deleteNeighbour(NeighbourEntry(address: remote.ip, mac: nil, device: device)))
        }
        if let lastHost = hosts.last { operations.append(.deleteFDB(.vtep(.zero, via: lastHost, on: device))) }
        try session.perform(operations)

        if endpoints > 0 { try hostSession.perform(.deleteLink(.name("wve-\(hex(vni.value))-\(endpoints - 1)"))) }
        return namespace
    }

    private func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }
}

/// A small deterministic generator (SplitMix64), so scenario runs are reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
