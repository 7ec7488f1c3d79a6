// Decode → judge → merge → local write sequences on one ClusterState, as a host lives them: the input is a
// list of operations, each an op byte and (for messages) a 2-byte length and that many bytes.
//
// Messages from the input are re-signed with their owner's key when the owner is one of the simulated members
// ("b", "m"), so the fuzzer reaches the checks behind the signature (values, caps, self-authority) instead of
// stopping at it. After every operation the invariants hold: no trap, the tables within their caps, no remote
// endpoint at an address this host holds, no clock beyond the allowed skew.

import Dispatch
import Gossip
import Logging
import Netlink
import Overlay

private let vni = VNI(42)!
private let clusterLimits: ClusterLimits = {
    var limits = ClusterLimits()
    limits.maxRecordsPerOwner = 64
    limits.maxEndpointsPerNetwork = 96
    limits.maxNetworks = 8
    limits.maxVTEPs = 4
    limits.maxRecords = 256
    limits.maxPending = 32
    limits.maxForeignAboutSelf = 32
    return limits
}()
/// A fixed wall clock, so the fuzzer can reach both sides of the skew bound.
private let fuzzNow: UInt64 = 1_800_000_000_000
private let members: [(name: String, vtep: String, identity: NodeIdentity)] = [
    ("b", "192.0.2.12", NodeIdentity()), ("m", "192.0.2.66", NodeIdentity()),
]
private let own = NodeIdentity()

private func member(_ entry: (name: String, vtep: String, identity: NodeIdentity)) -> Member {
    let vtep = IPAddress(entry.vtep)!
    let tags = ["role": "weft", "vtep": entry.vtep].merging(entry.identity.tags) { $1 }
    return Member(name: entry.name, address: GossipAddress(ip: vtep, port: 7946), meta: SerfTags.encode(tags),
                  incarnation: 1, state: .alive, versions: [])
}

/// Re-signs each update whose owner is a simulated member (or this host) with that owner's key.
private func resign(_ payload: [UInt8]) -> [UInt8] {
    guard let updates = try? ClusterCodec.decode(payload) else { return payload }
    return ClusterCodec.encode(updates.map { update in
        let owner = update.envelope.owner
        if owner == "a" { return own.signing(update) }
        return members.first { $0.name == owner }.map { $0.identity.signing(update) } ?? update
    })
}

private func runCluster(_ input: [UInt8]) async {
    var logger = Logger(label: "fuzz")
    logger.logLevel = .critical
    let state = ClusterState(node: "a", identity: own, limits: clusterLimits, logger: logger, wallClock: { fuzzNow })
    for entry in members { await state.apply(.join(member(entry))) }
    var cursor = 0
    var steps = 0
    while cursor < input.count, steps < 64 {
        steps += 1
        let op = input[cursor]
        cursor += 1
        switch op % 6 {
        case 0, 1:
            guard cursor + 2 <= input.count else { return }
            let length = Int(input[cursor]) << 8 | Int(input[cursor + 1])
            cursor += 2
            let payload = [ClusterCodec.magic] + Array(input[cursor..<min(input.count, cursor + length)])
            cursor = min(input.count, cursor + length)
            let signed = op & 0x80 == 0 ? resign(payload) : payload
            if op % 6 == 0 { _ = await state.notifyMessage(signed) } else { await state.mergeRemoteState(signed, join: false) }
        case 2:
            guard cursor + 2 <= input.count else { return }
            let host = UInt32(input[cursor]) | 2
            await state.announce(NetworkAnnouncement(vni: vni, subnet: try! IPv4Subnet(parsing: "10.1.0.0/24"), host: "a",
                                                     vtep: IPAddress("192.0.2.11")!))
            await state.announce(EndpointAnnouncement(
                vni: vni, endpointID: "e\(input[cursor + 1] % 8)", address: IPv4Address(0x0A01_0000 | host),
                mac: MACAddress("02:00:00:00:00:01")!, host: "a", vtep: IPAddress("192.0.2.11")!))
            cursor += 2
        case 3:
            _ = await state.reassertOwnRecords()
        case 4:
            guard cursor < input.count else { return }
            let entry = members[Int(input[cursor]) % members.count]
            cursor += 1
            switch input[cursor - 1] % 4 {
            case 0: await state.apply(.dead(member(entry)))
            case 1: await state.apply(.left(member(entry)))
            case 2: await state.expire(failedHostGrace: 0)
            default: await state.apply(.join(member(entry)))
            }
        default:
            guard cursor < input.count else { return }
            await state.withdraw(endpoint: "42/e\(input[cursor] % 8)/a")
            cursor += 1
        }
        await check(state)
    }
}

private func check(_ state: ClusterState) async {
    let endpoints = await state.endpointTable
    let networks = await state.networkTable
    let claims = await state.claimTable
    // Caps bound what others make this host hold; its own records are its own business.
    let remoteRecords = endpoints.entries.values.filter { $0.owner != "a" }.count
        + networks.entries.values.filter { $0.owner != "a" }.count + claims.entries.values.filter { $0.owner != "a" }.count
    precondition(remoteRecords <= clusterLimits.maxRecords, "the tables grew past their cap: \(remoteRecords)")
    for owner in Set(endpoints.entries.values.map(\.owner)) where owner != "a" {
        let owned = endpoints.entries.values.filter { $0.owner == owner }.count
        precondition(owned <= clusterLimits.maxRecordsPerOwner, "\(owner) holds \(owned) records")
    }
    let limit = fuzzNow + clusterLimits.maxClockSkewMilliseconds
    for entry in endpoints.entries.values where entry.owner != "a" {
        precondition(entry.version.clock <= limit, "a remote clock beyond the skew was merged")
        precondition(entry.value.map { $0.host == entry.owner } ?? true, "a record speaks for another host")
    }
    let local = Set(endpoints.entries.values.filter { $0.owner == "a" }.compactMap { $0.value?.address })
    let remote = await state.remoteEndpoints(vni: vni)
    precondition(remote.count <= clusterLimits.maxEndpointsPerNetwork, "remote endpoints past the cap")
    precondition(!remote.contains { endpoint in local.contains { .v4($0) == endpoint.address } },
                 "a remote endpoint at an address this host holds")
}

/// Runs one decode-merge-write sequence to completion (libFuzzer's entry point is synchronous).
func checkClusterSequence(_ input: [UInt8]) {
    let done = DispatchSemaphore(value: 0)
    Task {
        await runCluster(input)
        done.signal()
    }
    done.wait()
}
