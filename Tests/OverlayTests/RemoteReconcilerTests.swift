import Netlink
import Overlay
import Testing

struct RemoteReconcilerTests {
    let device = LinkReference.index(5)
    let hostB = IPAddress("192.0.2.2")!
    let hostC = IPAddress("192.0.2.3")!
    let mac1 = MACAddress("02:00:00:00:00:01")!
    let mac2 = MACAddress("02:00:00:00:00:02")!
    let ip1 = IPAddress("10.1.0.11")!
    let ip2 = IPAddress("10.1.0.12")!

    var remotes: [RemoteEndpoint] {
        [RemoteEndpoint(address: ip1, mac: mac1, vtep: hostB), RemoteEndpoint(address: ip2, mac: mac2, vtep: hostC)]
    }

    /// The kernel state `remotes` should produce.
    var programmed: (fdb: [FDBEntry], neighbours: [NeighbourEntry]) {
        ([.vtep(.zero, via: hostB, on: device), .vtep(.zero, via: hostC, on: device),
          .vtep(mac1, via: hostB, on: device), .vtep(mac2, via: hostC, on: device)],
         [NeighbourEntry(address: ip1, mac: mac1, device: device), NeighbourEntry(address: ip2, mac: mac2, device: device)])
    }

    @Test func emptyDeviceGetsEveryEntry() {
        let plan = Reconciler.planRemote(vxlan: device, remotes: remotes, remoteHosts: [hostB, hostC], fdb: [], neighbours: [])
        #expect(plan == [
            .writeFDB(.vtep(.zero, via: hostB, on: device), .append),
            .writeFDB(.vtep(.zero, via: hostC, on: device), .append),
            .writeFDB(.vtep(mac1, via: hostB, on: device), .replace),
            .writeNeighbour(NeighbourEntry(address: ip1, mac: mac1, device: device), .replace),
            .writeFDB(.vtep(mac2, via: hostC, on: device), .replace),
            .writeNeighbour(NeighbourEntry(address: ip2, mac: mac2, device: device), .replace),
        ])
    }

    @Test func programmedDeviceNeedsNothingAndKernelEntriesAreLeftAlone() {
        var fdb = programmed.fdb
        fdb.append(FDBEntry(mac: MACAddress("33:33:00:00:00:01")!, device: device, state: .permanent))  // no destination
        fdb.append(FDBEntry(mac: mac1, device: device, table: .bridge, state: .permanent, master: 2))
        var neighbours = programmed.neighbours
        neighbours.append(NeighbourEntry(address: IPAddress("ff02::16")!, mac: nil, device: device, state: .noARP))
        #expect(Reconciler.planRemote(vxlan: device, remotes: remotes, remoteHosts: [hostB, hostC], fdb: fdb, neighbours: neighbours).isEmpty)
    }

    @Test func aMovedEndpointIsReplacedAndAGoneOneRemoved() {
        // Endpoint 1 moved to host C with a new MAC; endpoint 2 and host B are gone.
        let moved = MACAddress("02:00:00:00:00:09")!
        let plan = Reconciler.planRemote(
            vxlan: device, remotes: [RemoteEndpoint(address: ip1, mac: moved, vtep: hostC)], remoteHosts: [hostC],
            fdb: programmed.fdb, neighbours: programmed.neighbours)
        #expect(plan == [
            .deleteFDB(.vtep(.zero, via: hostB, on: device)),
            .deleteFDB(.vtep(mac1, via: hostB, on: device)),
            .deleteFDB(.vtep(mac2, via: hostC, on: device)),
            .deleteNeighbour(NeighbourEntry(address: ip2, mac: nil, device: device)),
            .writeFDB(.vtep(moved, via: hostC, on: device), .replace),
            .writeNeighbour(NeighbourEntry(address: ip1, mac: moved, device: device), .replace),
        ])
    }

    /// The plan, applied to the dry-run kernel model, converges: a second plan is empty.
    @Test func applyingThePlanConverges() throws {
        let backend = DryRunBackend(seedFromCurrentNamespace: false) { _ in }
        let session = try backend.session(in: try backend.createNamespace(.named("remote")))
        try session.perform(.createLink(LinkSpec(name: "wvx-000001", kind: .vxlan(VXLANConfig(vni: VNI(1)!)))))
        let vxlan = LinkReference.index(try session.index(of: "wvx-000001"))
        func plan() throws -> [NetlinkOperation] {
            Reconciler.planRemote(
                vxlan: vxlan, remotes: remotes, remoteHosts: [hostB, hostC],
                fdb: try session.forwardingDatabase(device: vxlan), neighbours: try session.neighbours(device: vxlan))
        }
        try session.perform(try plan())
        #expect(try plan().isEmpty)
        #expect(try session.forwardingDatabase(device: vxlan).count == 4)
    }
}

/// The change plan and the full plan agree: from a device programmed with one desired state, applying the
/// difference to another leaves nothing for the full comparison to correct.
struct RemoteChangePlanTests {
    static let hosts = [IPAddress("192.0.2.2")!, IPAddress("192.0.2.3")!, IPAddress("192.0.2.4")!]

    /// A pseudo-random desired state: up to 40 endpoints out of 60 addresses, MACs and VTEPs drawn from small sets
    /// so that moves (same address, new MAC; same MAC, new VTEP) happen.
    static func desired(_ generator: inout some RandomNumberGenerator) -> (remotes: [RemoteEndpoint], hosts: Set<IPAddress>) {
        var remotes: [IPAddress: RemoteEndpoint] = [:]
        for _ in 0..<Int.random(in: 0...40, using: &generator) {
            let address = IPAddress("10.1.0.\(Int.random(in: 2...61, using: &generator))")!
            let mac = MACAddress(bytes: [2, 0, 0, 0, 0, UInt8.random(in: 1...50, using: &generator)])!
            remotes[address] = RemoteEndpoint(address: address, mac: mac, vtep: hosts.randomElement(using: &generator)!)
        }
        let list = remotes.values.sorted { $0.address < $1.address }
        return (list, Set(hosts.filter { _ in Bool.random(using: &generator) }).union(list.map(\.vtep)))
    }

    @Test func applyingTheChangeLeavesNothingForTheRepairPass() throws {
        var generator = SystemRandomNumberGenerator()
        let backend = DryRunBackend(seedFromCurrentNamespace: false) { _ in }
        let session = try backend.session(in: try backend.createNamespace(.named("change")))
        try session.perform(.createLink(LinkSpec(name: "wvx-000001", kind: .vxlan(VXLANConfig(vni: VNI(1)!)))))
        let vxlan = LinkReference.index(try session.index(of: "wvx-000001"))
        func repair(_ state: (remotes: [RemoteEndpoint], hosts: Set<IPAddress>)) throws -> [NetlinkOperation] {
            Reconciler.planRemote(
                vxlan: vxlan, remotes: state.remotes, remoteHosts: state.hosts,
                fdb: try session.forwardingDatabase(device: vxlan), neighbours: try session.neighbours(device: vxlan))
        }
        var current = Self.desired(&generator)
        try session.perform(try repair(current))
        for round in 0..<200 {
            let next = Self.desired(&generator)
            let change = Reconciler.planRemoteChange(
                vxlan: vxlan, from: RemoteProgram(remotes: current.remotes, hosts: current.hosts),
                to: RemoteProgram(remotes: next.remotes, hosts: next.hosts))
            for (operation, outcome) in zip(change, session.apply(change)) {
                if case .failure(let error) = outcome { Issue.record("round \(round): \(operation) failed: \(error)") }
            }
            let left = try repair(next)
            #expect(left == [], "round \(round): from \(current) to \(next), planned \(change)")
            current = next
        }
    }
}
