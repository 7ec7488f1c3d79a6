import FoundationEssentials
import Glibc
import Gossip
import Logging
import Netlink
import Overlay
import Testing
import TestSupport

/// Issue 12's attacks on the cluster tables, each through the gossip delegate's entry points (`notifyMessage`,
/// `mergeRemoteState`): what the table holds, what the kernel would be programmed with (`remoteEndpoints`,
/// `remoteHosts`) and that the process is still there to answer.
struct ClusterRecordAttackTests {
    typealias Update = ClusterCodec.Update
    static let vni = ClusterStateTests.vni
    static let (a, b, c) = (ClusterStateTests.a, ClusterStateTests.b, ClusterStateTests.c)
    /// A member with the cluster key and valid gossip, that lies.
    static let mallory = SimulatedHost("m", vtep: "192.0.2.66")

    static func endpoint(_ id: String, _ ip: String, on host: SimulatedHost, mac: String = "02:00:00:00:00:01") -> EndpointAnnouncement {
        ClusterStateTests.endpoint(id, ip, on: host, mac: mac)
    }

    static func record(_ value: EndpointAnnouncement, owner: String? = nil, node: String? = nil, clock: UInt64? = nil) -> Update {
        .endpoint(key: value.key, entry: ReplicatedEntry(
            version: EntryVersion(clock: clock ?? ClusterState.wallClockMilliseconds() + 1000, node: node ?? value.host),
            owner: owner ?? value.host, value: value))
    }

    /// a, b, c and mallory, all members of each other; b and mallory define network 42 (10.1.0.0/24); b has
    /// endpoint e1 at 10.1.0.2.
    static func cluster() async -> (SimulatedCluster, [ClusterState]) {
        let cluster = SimulatedCluster()
        var states: [ClusterState] = []
        for host in [a, b, c, mallory] { states.append(await cluster.add(host)) }
        await states[1].announce(ClusterStateTests.network(on: b))
        await states[3].announce(ClusterStateTests.network(on: mallory))
        await states[1].announce(endpoint("e1", "10.1.0.2", on: b))
        return (cluster, states)
    }

    static func send(_ updates: [Update], to state: ClusterState) async {
        _ = await state.notifyMessage(ClusterCodec.encode(updates))
    }

    static let legitimate = [RemoteEndpoint(address: IPAddress("10.1.0.2")!, mac: MACAddress("02:00:00:00:00:01")!, vtep: b.vtep)]

    @Test func theIssuesReproductionAForgedOwnerIsRefused() async throws {
        let (_, states) = await Self.cluster()
        let a = states[0]
        #expect(await a.remoteEndpoints(vni: Self.vni) == Self.legitimate)
        // From node "x" claiming owner "b": 10.1.0.2 at VTEP 203.0.113.66 with the sender's MAC.
        var forged = Self.endpoint("e1", "10.1.0.2", on: Self.b, mac: "02:66:66:66:66:66")
        forged.vtep = IPAddress("203.0.113.66")!
        await Self.send([Self.record(forged, owner: "b", node: "x")], to: a)
        #expect(await a.remoteEndpoints(vni: Self.vni) == Self.legitimate)
        #expect(await a.rejections == [.ownerMismatch: 1])
    }

    @Test func aClockAtItsMaximumIsRefusedAndALocalWriteDoesNotTrap() async throws {
        let (_, states) = await Self.cluster()
        let a = states[0]
        let before = await a.endpointTable.entries
        // Signed by b itself: even the owner cannot write that far ahead.
        let huge = Self.b.signed(Self.record(Self.endpoint("e2", "10.1.0.3", on: Self.b), clock: .max))
        await Self.send([huge], to: a)
        #expect(await a.rejections == [.clockAhead: 1])
        #expect(await a.endpointTable.entries == before)
        await a.announce(ClusterStateTests.network(on: Self.a))
        await a.announce(Self.endpoint("e3", "10.1.0.4", on: Self.a))
        let own = try #require(await a.endpointTable.entries[Self.endpoint("e3", "10.1.0.4", on: Self.a).key])
        #expect(own.version.clock < UInt64.max / 2, "the local clock did not follow the forged one")
        #expect(await a.remoteEndpoints(vni: Self.vni) == Self.legitimate)
    }

    @Test func aClockWithinTheSkewIsTakenOneBeyondItIsNot() async throws {
        let now = ClusterState.wallClockMilliseconds()
        let a = Self.a.state(wallClock: { now })
        let b = Self.b.state()
        await a.apply(.join(Self.b.member))
        await b.announce(ClusterStateTests.network(on: Self.b))
        await a.mergeRemoteState(await b.localState(join: true), join: true)
        let skew = ClusterLimits.standard.maxClockSkewMilliseconds
        await Self.send([Self.b.signed(Self.record(Self.endpoint("e1", "10.1.0.2", on: Self.b), clock: now + skew))], to: a)
        await Self.send([Self.b.signed(Self.record(Self.endpoint("e2", "10.1.0.3", on: Self.b), clock: now + skew + 1))], to: a)
        #expect(await a.remoteEndpoints(vni: Self.vni).map(\.address) == [IPAddress("10.1.0.2")!])
        #expect(await a.rejections == [.clockAhead: 1])
    }

    /// Every forged variant of one record, each signed by the key that would make it pass if the check it
    /// targets were missing, is refused for that reason, and changes nothing.
    @Test(arguments: [
        ("value names another endpoint than the key", ClusterRejection.keyMismatch),
        ("value names another host than the owner", .keyMismatch),
        ("VTEP is not the owner's", .vtepMismatch),
        ("address outside the subnet", .outsideSubnet),
        ("the network address", .reservedAddress),
        ("the gateway address", .reservedAddress),
        ("the broadcast address", .reservedAddress),
        ("multicast MAC", .badMAC),
        ("all-zeros MAC", .badMAC),
        ("unsigned", .badSignature),
        ("signed by another member", .badSignature),
        ("a network definition at another VTEP", .vtepMismatch),
        ("a claim past the last block", .blockOutOfRange),
        ("a tombstone naming another host in its key", .keyMismatch),
    ])
    func forgedVariantsAreRefused(_ variant: String, _ reason: ClusterRejection) async throws {
        let (_, states) = await Self.cluster()
        let (a, c) = (states[0], states[2])
        let b = Self.b
        var value = Self.endpoint("e7", "10.1.0.7", on: b)
        var update: Update?
        var signer = b
        switch variant {
        case "value names another endpoint than the key":
            update = .endpoint(key: value.key, entry: ReplicatedEntry(version: EntryVersion(clock: 1, node: "b"), owner: "b",
                                                                      value: Self.endpoint("e1", "10.1.0.2", on: b, mac: "02:66:66:66:66:66")))
        case "value names another host than the owner":
            value.host = "c"
            update = .endpoint(key: "42/e7/b", entry: ReplicatedEntry(version: EntryVersion(clock: 1, node: "b"), owner: "b", value: value))
        case "VTEP is not the owner's": value.vtep = IPAddress("203.0.113.66")!
        case "address outside the subnet": value.address = address("10.9.0.7")
        case "the network address": value.address = address("10.1.0.0")
        case "the gateway address": value.address = address("10.1.0.1")
        case "the broadcast address": value.address = address("10.1.0.255")
        case "multicast MAC": value.mac = MACAddress("01:00:5e:00:00:01")!
        case "all-zeros MAC": value.mac = .zero
        case "unsigned": update = Self.record(value)
        case "signed by another member": signer = Self.mallory
        case "a network definition at another VTEP":
            var network = ClusterStateTests.network(on: b)
            network.vtep = IPAddress("203.0.113.66")!
            update = .network(key: network.key, entry: ReplicatedEntry(version: EntryVersion(clock: ClusterState.wallClockMilliseconds() + 1000, node: "b"), owner: "b", value: network))
        case "a claim past the last block":
            let claim = BlockClaim(subnet: subnet("10.1.0.0/24"), block: 16, host: "b")  // 16 blocks of 16: 0...15
            update = .claim(key: claim.key, entry: ReplicatedEntry(version: EntryVersion(clock: 1, node: "b"), owner: "b", value: claim))
        case "a tombstone naming another host in its key":
            update = .endpoint(key: "42/e1/a", entry: ReplicatedEntry(version: EntryVersion(clock: ClusterState.wallClockMilliseconds() + 1000, node: "b"), owner: "b", value: nil))
        default: Issue.record("unknown variant \(variant)")
        }
        var forged = update ?? Self.record(value)
        if variant != "unsigned" { forged = signer.signed(forged) }
        let tables = (await a.endpointTable, await a.networkTable, await a.claimTable)
        for state in [a, c] {
            await Self.send([forged], to: state)
            #expect(await state.rejections == [reason: 1], "\(variant)")
            #expect(await state.remoteEndpoints(vni: Self.vni) == Self.legitimate)
            #expect(await state.remoteHosts(vni: Self.vni) == [Self.b.vtep, Self.mallory.vtep])
        }
        #expect(await a.endpointTable == tables.0)
        #expect(await a.networkTable == tables.1)
        #expect(await a.claimTable == tables.2)
    }

    /// A member holding the cluster key announces a record for another host's container, signed with its own
    /// key (the only one it has): refused on every host, counted.
    @Test func aMemberCannotSpeakForAnotherHost() async throws {
        let (_, states) = await Self.cluster()
        var hijack = Self.endpoint("e1", "10.1.0.2", on: Self.b, mac: "02:66:66:66:66:66")
        hijack.vtep = Self.b.vtep
        let forged = Self.mallory.signed(Self.record(hijack))
        // As a broadcast and in a push/pull, to every host but mallory itself.
        for state in states.prefix(3) {
            _ = await state.notifyMessage(ClusterCodec.encode([forged]))
            await state.mergeRemoteState(ClusterCodec.encode([forged]), join: false)
        }
        for (index, state) in states.prefix(3).enumerated() {
            if index != 1 {
                #expect(await state.remoteEndpoints(vni: Self.vni) == Self.legitimate)
                #expect(await state.rejections == [.badSignature: 2])
            } else {
                #expect(await state.rejections == [.aboutThisHost: 2], "b never takes a record about itself")
            }
            let entry = await state.endpointTable.entries[hijack.key]
            #expect(entry?.value?.mac == MACAddress("02:00:00:00:00:01")!)
        }
        // Mallory's own record for b's container's address (its own endpoint, at its own VTEP, signed by it) is
        // valid as mallory's, but b's host never takes its own address for remote.
        let squat = Self.mallory.signed(Self.record(Self.endpoint("m1", "10.1.0.2", on: Self.mallory)))
        await Self.send([squat], to: states[1])
        #expect(await states[1].remoteEndpoints(vni: Self.vni).isEmpty)
        // On the other hosts, the host that owns the address's IPAM block keeps it, however new mallory's record.
        _ = await states[1].claim(BlockClaim(subnet: subnet("10.1.0.0/24"), block: 0, host: "b"))
        for state in [states[0], states[2]] {
            await Self.send([squat], to: state)
            #expect(await state.remoteEndpoints(vni: Self.vni) == Self.legitimate)
        }
    }

    @Test func aChangedIdentityKeyIsRefusedUntilUnpinned() async throws {
        let (_, states) = await Self.cluster()
        let a = states[0]
        let impostor = SimulatedHost("b", vtep: "192.0.2.12")  // b's name and address, another key
        await a.apply(.update(impostor.member))
        let record = impostor.signed(Self.record(Self.endpoint("e5", "10.1.0.5", on: impostor)))
        await Self.send([record], to: a)
        #expect(await a.rejections == [.identityChanged: 1])
        #expect(await a.remoteEndpoints(vni: Self.vni) == Self.legitimate)
        // The operator removes the pin: the next key seen is pinned.
        try a.pins.unpin("b")
        await a.apply(.update(impostor.member))
        await Self.send([record], to: a)
        #expect(await a.remoteEndpoints(vni: Self.vni).count == 2)
    }

    @Test func remoteRecordsAboutThisHostAreIgnoredAndAForgedTombstoneIsHealedInOnePass() async throws {
        let (_, states) = await Self.cluster()
        let (a, b) = (states[0], states[1])
        await a.announce(ClusterStateTests.network(on: Self.a))
        let mine = Self.endpoint("a1", "10.1.0.20", on: Self.a)
        await a.announce(mine)
        #expect(await b.remoteEndpoints(vni: Self.vni).map(\.address) == [IPAddress("10.1.0.20")!])

        // A tombstone for a's endpoint, signed with a's key (as a copy from before a restart would be), newer
        // than a's record: b takes it, a does not.
        let future = ClusterState.wallClockMilliseconds() + 60_000
        let tombstone = Self.a.signed(.endpoint(key: mine.key, entry: ReplicatedEntry(
            version: EntryVersion(clock: future, node: "a"), owner: "a", value: nil)))
        await Self.send([tombstone], to: b)
        #expect(await b.remoteEndpoints(vni: Self.vni).isEmpty)
        await Self.send([tombstone], to: a)
        #expect(await a.endpointTable.live[mine.key] == mine)
        #expect(await a.rejections[.aboutThisHost] == 1)
        // A forged record for a's address from another host's view: never displaces a's own endpoint on a.
        await Self.send([Self.c.signed(Self.record(Self.endpoint("c1", "10.1.0.20", on: Self.c, mac: "02:00:00:00:00:0c")))], to: a)
        #expect(!(await a.remoteEndpoints(vni: Self.vni).contains { $0.address == IPAddress("10.1.0.20")! }))

        // One repair pass: a writes its record above the tombstone, everyone has it again.
        #expect(await a.reassertOwnRecords() == 1)
        let healed = try #require(await b.endpointTable.entries[mine.key])
        #expect(healed.value == mine && healed.version.clock > future)
        #expect(await b.remoteEndpoints(vni: Self.vni).map(\.address).contains(IPAddress("10.1.0.20")!))
        #expect(await a.reassertOwnRecords() == 0, "nothing left to heal")
    }

    @Test func aCopyOfARecordThisHostNoLongerHoldsIsBuried() async throws {
        let (_, states) = await Self.cluster()
        let (a, b) = (states[0], states[1])
        await a.announce(ClusterStateTests.network(on: Self.a))
        // An endpoint a had before a restart, still live on b; a's fresh table does not know it.
        let stale = Self.a.signed(Self.record(Self.endpoint("old", "10.1.0.30", on: Self.a), clock: ClusterState.wallClockMilliseconds() - 5000))
        await Self.send([stale], to: b)
        #expect(await b.remoteEndpoints(vni: Self.vni).map(\.address).contains(IPAddress("10.1.0.30")!))
        await a.mergeRemoteState(await b.localState(join: false), join: false)
        #expect(await a.reassertOwnRecords() == 1)
        #expect(!(await b.remoteEndpoints(vni: Self.vni).map(\.address).contains(IPAddress("10.1.0.30")!)))
        // A forged live copy (not signed by a) is not answered: it is refused everywhere anyway.
        let forged = Self.mallory.signed(Self.record(Self.endpoint("fake", "10.1.0.31", on: Self.a)))
        await Self.send([forged], to: a)
        #expect(await a.reassertOwnRecords() == 0)
    }

    @Test func capsBoundTheTablesAndTheKernelPlan() async throws {
        var limits = ClusterLimits()
        limits.maxNetworks = 3
        limits.maxVTEPs = 4
        limits.maxEndpointsPerNetwork = 5
        limits.maxRecordsPerOwner = 8
        let a = Self.a.state(limits: limits)
        let hosts = (1...6).map { SimulatedHost("h\($0)", vtep: "192.0.2.\(100 + $0)") }
        for host in hosts { await a.apply(.join(host.member)) }
        var updates: [Update] = []
        // h1..h6 each define networks 1...5 and 10 endpoints in network 1.
        for host in hosts {
            for number in 1...5 {
                let network = NetworkAnnouncement(vni: VNI(UInt32(number))!, subnet: subnet("10.\(number).0.0/24"), host: host.name, vtep: host.vtep)
                updates.append(host.signed(.network(key: network.key, entry: ReplicatedEntry(
                    version: EntryVersion(clock: 1, node: host.name), owner: host.name, value: network))))
            }
            for index in 0..<10 {
                let endpoint = EndpointAnnouncement(vni: VNI(1)!, endpointID: "\(host.name)-\(index)", address: address("10.1.0.\(10 + index)"),
                                                    mac: MACAddress("02:00:00:00:00:01")!, host: host.name, vtep: host.vtep)
                updates.append(host.signed(Self.record(endpoint)))
            }
        }
        await a.mergeRemoteState(ClusterCodec.encode(updates), join: true)
        let networks = Set(await a.networkTable.entries.values.compactMap { $0.value?.vni })
        #expect(networks.count == 3)
        #expect(Set(await a.networkTable.entries.values.map(\.owner)).count == 4)
        #expect(await a.endpointTable.entries.count == 5)
        #expect(await a.remoteEndpoints(vni: VNI(1)!).count <= 5)
        let rejections = await a.rejections
        #expect(rejections[.tooManyVTEPs, default: 0] > 0 && rejections[.tooManyNetworks, default: 0] > 0)
        #expect(rejections[.networkFull, default: 0] > 0)
    }

    @Test func aHundredThousandFakeRecordsStayBounded() async throws {
        let (_, states) = await Self.cluster()
        let a = states[0]
        let limits = ClusterLimits.standard
        // 100,000 endpoints in one push/pull, all in mallory's network: the first 6,000 signed by their owner
        // mallory (a member; more than its cap), the rest unsigned (signing is slow in a debug build, and a
        // record past the cap is refused before its signature is checked).
        var updates: [Update] = []
        updates.reserveCapacity(100_000)
        for index in 0..<100_000 {
            let value = EndpointAnnouncement(
                vni: Self.vni, endpointID: "fake-\(index)", address: IPv4Address(address("10.1.0.2").value + UInt32(index % 250)),
                mac: MACAddress("02:66:00:00:00:01")!, host: "m", vtep: Self.mallory.vtep)
            let update = Self.record(value)
            updates.append(index < 6000 ? Self.mallory.signed(update) : update)
        }
        await a.mergeRemoteState(ClusterCodec.encode(updates), join: true)
        let table = await a.endpointTable.entries
        #expect(table.count <= limits.maxRecordsPerOwner + 1)
        #expect(table.count >= limits.maxRecordsPerOwner - 2, "the cap, not something else, stopped them")
        #expect(await a.remoteEndpoints(vni: Self.vni).count <= 254)
        let rejections = await a.rejections
        #expect(rejections[.ownerFull, default: 0] == 100_000 - (limits.maxRecordsPerOwner - 1))
        // Still answering, and still taking b's records.
        await states[1].announce(Self.endpoint("e2", "10.1.0.3", on: Self.b))
        #expect(await a.endpointTable.entries[Self.endpoint("e2", "10.1.0.3", on: Self.b).key] != nil)
    }
}

/// The identity key and the pins on disk.
struct NodeIdentityFileTests {
    @Test func theIdentityKeyIsCreatedPrivateAndLoadedAgain() async throws {
        try await withTemporaryDirectory { directory in
            let first = try NodeIdentity.loadOrCreate(directory: directory)
            let path = directory + "/" + NodeIdentity.fileName
            var info = stat()
            #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
            #expect(try NodeIdentity.loadOrCreate(directory: directory).publicKey == first.publicKey)
            #expect(first.tag.utf8.count == 44 && NodeIdentity.publicKey(tag: first.tag) == first.publicKey)
            #expect(chmod(path, 0o644) == 0)
            #expect(throws: NodeIdentity.IdentityError.self) { _ = try NodeIdentity.loadOrCreate(directory: directory) }
            // A daemon's tags with the key still fit serf's 512-byte meta.
            let tags = ["role": "weft", "vtep": "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"].merging(first.tags) { $1 }
            #expect(SerfTags.encode(tags).count < 512)
        }
    }

    @Test func pinsSurviveARestartAndCanBeRemoved() async throws {
        try await withTemporaryDirectory { directory in
            let key = NodeIdentity().tag
            let other = NodeIdentity().tag
            let pins = try PinnedIdentities(directory: directory)
            #expect(try pins.check(node: "b", key: key) == .pinned)
            let reloaded = try PinnedIdentities(directory: directory)
            #expect(try reloaded.check(node: "b", key: key) == .matches)
            #expect(try reloaded.check(node: "b", key: other) == .differs(pinned: key))
            try reloaded.unpin("b")
            #expect(try PinnedIdentities(directory: directory).check(node: "b", key: other) == .pinned)
        }
    }
}
