import Gossip
import Logging
import Netlink

/// Path adverts: each host's signed view of its direct data paths and the relays it uses (``PathAdvert``), kept
/// per owner as soft state beside the replicated tables.
extension ClusterState {
    /// Signs and gossips this host's advert, and keeps it as this host's own.
    public func publish(_ advert: PathAdvert) async {
        var signed = advert
        signed.owner = node
        signed.signature = identity.sign(signed.signedBytes)
        pathAdverts[node] = (signed, now)
        await broadcaster?(signed.encoded(), "paths/\(node)")
    }

    /// Merges another host's advert when its owner is a member whose pinned key signed it, it names the owner's
    /// own VTEP, and it is newer than the one held; anything else is counted and dropped.
    func mergePathAdvert(_ payload: [UInt8]) -> MessageHandling {
        let advert: PathAdvert
        do throws(PathAdvert.DecodingFailure) {
            advert = try PathAdvert.decode(payload)
        } catch {
            malformedMessages += 1
            logger.debug("dropped a path advert", metadata: ["error": "\(error)"])
            return .done
        }
        // This host's own advert, gossiped back to it.
        if advert.owner == node { return .done }
        guard let member = members[advert.owner], let key = member.publicKey, member.vtep == advert.vtep,
            NodeIdentity.isValid(signature: advert.signature, of: advert.verifiedBytes, publicKey: key)
        else {
            rejections[.pathAdvert, default: 0] += 1
            if refusalLog.allows(ClusterRejection.pathAdvert.rawValue) {
                logger.warning("refused a path advert", metadata: ["owner": "\(advert.owner)", "vtep": "\(advert.vtep)"])
            }
            return .done
        }
        let held = pathAdverts[advert.owner]
        if let held, held.advert.sequence >= advert.sequence { return .done }
        pathAdverts[advert.owner] = (advert, now)
        if held?.advert.relays != advert.relays { pathAdvertSink.yield() }
        return .rebroadcast(key: "paths/\(advert.owner)")
    }

    /// The current members' VTEPs, by gossip name (members whose tags name no valid VTEP are left out).
    public func memberVTEPs() -> [String: IPAddress] {
        members.compactMapValues(\.vtep)
    }

    /// The live adverts of the current members (this host's own included), by owner VTEP.
    public func livePathAdverts() -> [IPAddress: PathAdvert] {
        var result: [IPAddress: PathAdvert] = [:]
        let current = now
        for (owner, held) in pathAdverts {
            guard current - held.received <= PathAdvert.lifetime, owner == node || members[owner]?.vtep == held.advert.vtep else { continue }
            result[held.advert.vtep] = held.advert
        }
        return result
    }

    /// The relay's table for `local` (this host's VTEP): who relays what through it, from the live adverts; who
    /// owns each MAC and who has each network, from the tables.
    public func relayTable(local: IPAddress) -> RelayTable {
        var table = RelayTable(local: local)
        for (vtep, advert) in livePathAdverts() where vtep != local {
            let relayed = Set(advert.relays.filter { $0.value == local && $0.key != local && $0.key != vtep }.keys)
            if !relayed.isEmpty { table.clients[vtep] = relayed }
        }
        guard !table.clients.isEmpty else { return table }
        // Encrypted networks are never relayed: a packet on their VNIs has nowhere to go.
        let encrypted = Set(networks.live.values.filter { $0.wireGuard != nil }.map(\.vni))
        for entry in endpoints.live.values where !encrypted.contains(entry.vni) {
            table.owners[entry.vni, default: [:]][entry.mac] = entry.vtep
            table.members[entry.vni, default: []].insert(entry.vtep)
        }
        for network in networks.live.values where !encrypted.contains(network.vni) {
            table.members[network.vni, default: []].insert(network.vtep)
        }
        return table
    }
}
