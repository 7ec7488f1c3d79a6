import Netlink
import Overlay
import Testing

/// The FDB entries of a network whose peer C is reached through relay B, on the dry-run kernel's encoder.
struct RelayFDBPlanTests {
    let device = LinkReference.index(5)
    let b = IPAddress("192.0.2.2")!
    let c = IPAddress("192.0.2.3")!
    let d = IPAddress("192.0.2.4")!
    let macB = MACAddress("02:00:00:00:00:0b")!
    let macC = MACAddress("02:00:00:00:00:0c")!
    let macD = MACAddress("02:00:00:00:00:0d")!

    var remotes: [RemoteEndpoint] {
        [RemoteEndpoint(address: IPAddress("10.1.0.2")!, mac: macB, vtep: b),
         RemoteEndpoint(address: IPAddress("10.1.0.3")!, mac: macC, vtep: c),
         RemoteEndpoint(address: IPAddress("10.1.0.4")!, mac: macD, vtep: d)]
    }

    @Test func relayedHostsShareTheRelaysFloodEntryAndTheirMACsPointAtTheRelayPort() {
        let relays = RelayRoutes(via: [c: b, d: b], port: 4790)
        let plan = Reconciler.planRemote(vxlan: device, remotes: remotes, remoteHosts: [b, c, d], fdb: [], neighbours: [], relays: relays)
        let floods = plan.compactMap { operation -> FDBEntry? in
            if case .writeFDB(let entry, .append) = operation, entry.mac == .zero { entry } else { nil }
        }
        #expect(floods == [.vtep(.zero, via: b, on: device), .vtep(.zero, via: b, port: 4790, on: device)])
        #expect(plan.contains(.writeFDB(.vtep(macC, via: b, port: 4790, on: device), .replace)))
        #expect(plan.contains(.writeFDB(.vtep(macD, via: b, port: 4790, on: device), .replace)))
        #expect(plan.contains(.writeFDB(.vtep(macB, via: b, on: device), .replace)))
    }

    @Test func switchingToTheRelayReplacesTheDirectEntriesAndBackLeavesNothing() {
        let direct: [FDBEntry] = [
            .vtep(.zero, via: b, on: device), .vtep(.zero, via: c, on: device), .vtep(.zero, via: d, on: device),
            .vtep(macB, via: b, on: device), .vtep(macC, via: c, on: device), .vtep(macD, via: d, on: device),
        ]
        let neighbours = remotes.map { NeighbourEntry(address: $0.address, mac: $0.mac, device: device) }
        let relays = RelayRoutes(via: [c: b], port: 4790)
        let toRelay = Reconciler.planRemote(
            vxlan: device, remotes: remotes, remoteHosts: [b, c, d], fdb: direct, neighbours: neighbours, relays: relays)
        #expect(toRelay == [
            .deleteFDB(.vtep(.zero, via: c, on: device)),
            .writeFDB(.vtep(.zero, via: b, port: 4790, on: device), .append),
            .writeFDB(.vtep(macC, via: b, port: 4790, on: device), .replace),
        ])
        // The same as a difference of programs.
        let change = Reconciler.planRemoteChange(
            vxlan: device, from: RemoteProgram(remotes: remotes, hosts: [b, c, d]),
            to: RemoteProgram(remotes: remotes, hosts: [b, c, d], relays: relays))
        #expect(Set(change) == Set(toRelay))
        // Back: the relay's entries go, the direct ones return.
        let relayed = direct.filter { $0 != .vtep(.zero, via: c, on: device) && $0 != .vtep(macC, via: c, on: device) }
            + [.vtep(.zero, via: b, port: 4790, on: device), .vtep(macC, via: b, port: 4790, on: device)]
        let back = Reconciler.planRemote(vxlan: device, remotes: remotes, remoteHosts: [b, c, d], fdb: relayed, neighbours: neighbours)
        #expect(back == [
            .deleteFDB(.vtep(.zero, via: b, port: 4790, on: device)),
            .writeFDB(.vtep(.zero, via: c, on: device), .append),
            .writeFDB(.vtep(macC, via: c, on: device), .replace),
        ])
    }

    @Test func anEntryNamesItsRelayPort() {
        #expect(FDBEntry.vtep(.zero, via: b, port: 4790, on: .name("wvx-00002a")).description == "fdb 00:00:00:00:00:00 dev wvx-00002a dst 192.0.2.2 port 4790 self")
    }
}
