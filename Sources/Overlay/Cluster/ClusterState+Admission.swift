import Logging
import Netlink

/// Judging a record from another host before it is merged: cheap checks first, the signature last.
extension ClusterState {
    /// Whether a remote update may be merged. Refusals are counted by reason and logged once per interval;
    /// records that cannot be judged yet (owner not a member, network not defined) are held back.
    func admit(_ update: ClusterCodec.Update) -> Bool {
        let envelope = update.envelope
        let (limit, overflow) = wallClock().addingReportingOverflow(limits.maxClockSkewMilliseconds)
        guard envelope.version.clock <= (overflow ? .max : limit) else { return refuse(update, .clockAhead) }
        guard envelope.owner == envelope.version.node else { return refuse(update, .ownerMismatch) }
        guard keyAgrees(update) else { return refuse(update, .keyMismatch) }
        if envelope.owner == node {
            noteAboutSelf(update)
            return false
        }
        if let existing = version(of: update), existing >= envelope.version { return false }
        guard let member = members[envelope.owner] else { return hold(update, .unknownOwner) }
        if member.identityChanged { return refuse(update, .identityChanged) }
        guard let publicKey = member.publicKey else { return refuse(update, .noIdentity) }
        if let problem = valueProblem(update, vtep: member.vtep) {
            return problem == .unknownNetwork ? hold(update, problem) : refuse(update, problem)
        }
        if version(of: update) == nil, let full = capacityProblem(envelope) { return refuse(update, full) }
        guard NodeIdentity.isValid(signature: update.signature, of: ClusterCodec.signedBytes(update), publicKey: publicKey) else {
            return refuse(update, .badSignature)
        }
        return true
    }

    /// The key is the one the value gives (a tombstone's key names its owner as the host).
    private func keyAgrees(_ update: ClusterCodec.Update) -> Bool {
        let owner = update.envelope.owner
        switch update {
        case .endpoint(let key, let entry):
            if let value = entry.value { return value.key == key && value.host == owner }
            let parts = key.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
            return parts.count == 3 && Self.vni(inKey: key) != nil && !parts[1].isEmpty && parts[2] == owner
        case .network(let key, let entry):
            if let value = entry.value { return value.key == key && value.host == owner }
            let parts = key.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
            return parts.count == 2 && Self.vni(inKey: key) != nil && parts[1] == owner
        case .claim(let key, let entry):
            if let value = entry.value { return value.key == key && value.host == owner }
            guard let (subnet, block) = Self.claimKey(key), BlockClaim(subnet: subnet, block: block, host: owner).key == key
            else { return false }
            return true
        }
    }

    /// What is wrong with the value, if anything: its VTEP, MAC, address or block.
    private func valueProblem(_ update: ClusterCodec.Update, vtep: IPAddress?) -> ClusterRejection? {
        switch update {
        case .endpoint(_, let entry):
            guard let endpoint = entry.value else { return nil }
            guard endpoint.vtep == vtep else { return .vtepMismatch }
            let mac = endpoint.mac.bytes
            guard mac[0] & 1 == 0, mac.contains(where: { $0 != 0 }) else { return .badMAC }
            guard let subnet = subnet(of: endpoint.vni, preferring: endpoint.host) else { return .unknownNetwork }
            guard let usable = subnet.usableRange, subnet.contains(endpoint.address) else { return .outsideSubnet }
            let gateway = IPv4Address(subnet.network.value + 1)  // the IPAM's gateway (PoolState.gateway)
            guard usable.contains(endpoint.address), endpoint.address != gateway else { return .reservedAddress }
            if let address6 = endpoint.address6 {
                guard let subnet6 = subnet6(of: endpoint.vni, preferring: endpoint.host), subnet6.contains(address6) else {
                    return .outsideSubnet
                }
                // The subnet-router address and the IPAM's gateway (IPv6PoolState.gateway).
                guard address6 != subnet6.network, address6.value != subnet6.network.value + 1 else { return .reservedAddress }
            }
            return nil
        case .network(_, let entry):
            guard let network = entry.value else { return nil }
            guard network.vtep == vtep else { return .vtepMismatch }
            if let wireGuard = network.wireGuard {
                guard wireGuard.key != nil else { return .badWireGuardKey }
                guard let endpoint = wireGuard.endpoint, endpoint.address == vtep else { return .wireGuardEndpointMismatch }
            }
            return nil
        case .claim(_, let entry):
            let block: Int
            let subnet: IPSubnet
            if let claim = entry.value {
                (block, subnet) = (claim.block, claim.subnet)
            } else {
                guard let (parsed, index) = Self.claimKey(update.envelope.key) else { return .keyMismatch }
                (block, subnet) = (index, parsed)
            }
            switch subnet {
            case .v4(let subnet):
                let blocks = BlockGeometry(subnet: subnet, blockSize: limits.blockSize).count
                return block >= 0 && block < blocks ? nil : .blockOutOfRange
            case .v6(let subnet):
                // Hosts agree on the block size per pool; the wire bounds it at 2^48 blocks inside the subnet.
                let bits = min(PoolRequest6.maxBlockBits, subnet.hostBits)
                return block >= 0 && UInt64(block) < UInt64(1) << UInt64(bits) ? nil : .blockOutOfRange
            }
        }
    }

    /// The pool subnet and block a claim key (`SUBNET/PREFIX/BLOCK/HOST`) names.
    static func claimKey(_ key: String) -> (IPSubnet, Int)? {
        let parts = key.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, let subnet = try? IPSubnet(parsing: "\(parts[0])/\(parts[1])"), let block = Int(parts[2])
        else { return nil }
        return (subnet, block)
    }

    /// The subnet of a network: its host's definition, or any live one.
    private func subnet(of vni: VNI, preferring host: String) -> IPv4Subnet? {
        if let own = networks.entries[NetworkAnnouncement.key(vni: vni, host: host)]?.value { return own.subnet }
        return networks.entries.values.lazy
            .filter { !self.networks.suspendedOwners.contains($0.owner) }
            .compactMap(\.value).first { $0.vni == vni }?.subnet
    }

    /// The IPv6 subnet of a dual-stack network: its host's definition, or any live one that has one.
    private func subnet6(of vni: VNI, preferring host: String) -> IPv6Subnet? {
        if let own = networks.entries[NetworkAnnouncement.key(vni: vni, host: host)]?.value { return own.subnet6 }
        return networks.entries.values.lazy
            .filter { !self.networks.suspendedOwners.contains($0.owner) }
            .compactMap(\.value).first { $0.vni == vni && $0.subnet6 != nil }?.subnet6
    }

    /// Which cap a new key would pass, if any.
    private func capacityProblem(_ envelope: ClusterCodec.Envelope) -> ClusterRejection? {
        guard census.total < limits.maxRecords else { return .tablesFull }
        let owned = census.perOwner[envelope.owner]
        guard owned != nil || census.perOwner.count < limits.maxVTEPs else { return .tooManyVTEPs }
        guard (owned ?? 0) < limits.maxRecordsPerOwner else { return .ownerFull }
        guard let vni = Self.vni(inKey: envelope.key) else { return nil }
        switch envelope.table {
        case .endpoints:
            guard census.endpointsPerVNI[vni, default: 0] < limits.maxEndpointsPerNetwork else { return .networkFull }
        case .networks:
            guard census.networkDefinitions[vni] != nil || census.networkDefinitions.count < limits.maxNetworks else {
                return .tooManyNetworks
            }
        case .claims:
            break
        }
        return nil
    }

    /// The version this host holds of the update's key, if any.
    private func version(of update: ClusterCodec.Update) -> EntryVersion? {
        switch update {
        case .endpoint(let key, _): endpoints.entries[key]?.version
        case .network(let key, _): networks.entries[key]?.version
        case .claim(let key, _): claims.entries[key]?.version
        }
    }

    /// A record about this host from elsewhere: never merged; if it is above this host's own version, it is
    /// remembered for ``reassertOwnRecords()``. A live copy of a key this host does not hold is remembered only
    /// when this host signed it (a record from before a restart): a forged one is refused everywhere anyway.
    private func noteAboutSelf(_ update: ClusterCodec.Update) {
        let envelope = update.envelope
        let own = version(of: update)
        if let own, own >= envelope.version { return }  // this host's own record, coming back
        _ = refuse(update, .aboutThisHost)
        if own == nil, !envelope.isTombstone {
            guard NodeIdentity.isValid(signature: update.signature, of: ClusterCodec.signedBytes(update), publicKey: identity.publicKey)
            else { return }
        }
        let id = "\(envelope.table.rawValue)/\(envelope.key)"
        if let seen = foreignAboutSelf[id] {
            if seen.version < envelope.version { foreignAboutSelf[id] = (update, envelope.version) }
        } else if foreignAboutSelf.count < limits.maxForeignAboutSelf {
            foreignAboutSelf[id] = (update, envelope.version)
        }
    }

    private func hold(_ update: ClusterCodec.Update, _ reason: ClusterRejection) -> Bool {
        guard pending.hold(update, vni: reason == .unknownNetwork ? Self.vni(inKey: update.envelope.key) : nil, at: now) else {
            return refuse(update, .pendingFull)
        }
        rejections[reason, default: 0] += 1
        if refusalLog.allows(reason.rawValue) {
            logger.debug("held back a cluster record", metadata: describe(update, reason))
        }
        return false
    }

    private func refuse(_ update: ClusterCodec.Update, _ reason: ClusterRejection) -> Bool {
        rejections[reason, default: 0] += 1
        if refusalLog.allows(reason.rawValue) {
            logger.warning("refused a cluster record (one line per reason per interval)", metadata: describe(update, reason))
        }
        return false
    }

    private func describe(_ update: ClusterCodec.Update, _ reason: ClusterRejection) -> Logger.Metadata {
        let envelope = update.envelope
        return [
            "reason": "\(reason)", "table": "\(envelope.table)", "key": "\(envelope.key.prefix(200))",
            "owner": "\(envelope.owner.prefix(100))", "version": "\(envelope.version.clock)", "count": "\(rejections[reason] ?? 0)",
        ]
    }
}
