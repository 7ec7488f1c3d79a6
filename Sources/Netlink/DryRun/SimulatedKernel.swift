import Glibc

/// A model of the kernel state weft programs, kept by the dry-run backend so that reads answer with what
/// earlier writes would have left, and so that refusals (an existing name, a missing device) show up in a
/// dry run as they would for real. It models links, bridge ports, addresses, FDB and neighbour entries per
/// namespace: what weft uses, not the whole kernel.
struct SimulatedKernel {
    struct SimulatedLink {
        var link: Link
        /// The other end of a veth pair: its namespace path and index.
        var peer: (namespace: String, index: Int32)?
        var port = BridgePortChanges()
    }

    struct Namespace {
        var links: [Int32: SimulatedLink] = [:]
        var addresses: [Int32: [IPInterface]] = [:]
        var fdb: [FDBEntry] = []
        var neighbours: [NeighbourEntry] = []

        func index(named name: String) -> Int32? { links.first { $0.value.link.name == name }?.key }
    }

    var namespaces: [String: Namespace] = [:]
    /// Placeholder descriptors handed out for namespaces, by path.
    var descriptors: [Int32: String] = [:]
    private var nextDescriptor: Int32 = 1000
    private var nextIndex: Int32 = 1000

    mutating func descriptor(for path: String) -> Int32 {
        if let existing = descriptors.first(where: { $0.value == path })?.key { return existing }
        nextDescriptor += 1
        descriptors[nextDescriptor] = path
        return nextDescriptor
    }

    func linkName(_ index: Int32, in path: String) -> String {
        namespaces[path]?.links[index]?.link.name ?? "#\(index)"
    }

    /// Applies one operation to the namespace at `path`; returns 0 or the errno the kernel would give.
    mutating func apply(_ operation: NetlinkOperation, in path: String) -> Int32 {
        guard var namespace = namespaces[path] else { return ENOENT }
        defer { if namespaces[path] != nil { namespaces[path] = namespace } }
        func index(_ reference: LinkReference) -> Int32? {
            switch reference {
            case .index(let index): namespace.links[index] != nil ? index : nil
            case .name(let name): namespace.index(named: name)
            }
        }

        switch operation {
        case .createLink(let spec):
            if namespace.index(named: spec.name) != nil { return EEXIST }
            var link = Link(
                index: allocateIndex(), name: spec.name, kind: spec.kind.kernelName, mtu: spec.mtu ?? 1500,
                mac: spec.mac ?? MACAddress.randomLocallyAdministered())
            switch spec.kind {
            case .bridge:
                namespace.links[link.index] = SimulatedLink(link: link)
            case .wireguard:
                link.mtu = spec.mtu ?? 1420
                namespace.links[link.index] = SimulatedLink(link: link)
            case .vxlan(var config):
                if let lower = config.lowerDevice {
                    guard let lowerIndex = index(lower) else { return ENODEV }
                    config.lowerDevice = .index(lowerIndex)
                }
                link.mtu = spec.mtu ?? 1450
                link.vxlan = config
                namespace.links[link.index] = SimulatedLink(link: link)
            case .veth(let peerSpec):
                let peerPath = peerSpec.namespaceFD.map { descriptors[$0] } ?? path
                guard let peerPath else { return EBADF }
                let peerLink = Link(
                    index: allocateIndex(), name: peerSpec.name, kind: "veth", mtu: peerSpec.mtu ?? 1500,
                    mac: peerSpec.mac ?? MACAddress.randomLocallyAdministered())
                if peerPath == path {
                    if peerSpec.name == spec.name || namespace.index(named: peerSpec.name) != nil { return EEXIST }
                    namespace.links[peerLink.index] = SimulatedLink(link: peerLink, peer: (path, link.index))
                } else {
                    guard namespaces[peerPath] != nil else { return EBADF }
                    if namespaces[peerPath]!.index(named: peerSpec.name) != nil { return EEXIST }
                    namespaces[peerPath]!.links[peerLink.index] = SimulatedLink(link: peerLink, peer: (path, link.index))
                }
                namespace.links[link.index] = SimulatedLink(link: link, peer: (peerPath, peerLink.index))
            }
            return 0

        case .deleteLink(let reference):
            guard let target = index(reference), let removed = namespace.links[target] else { return ENODEV }
            Self.remove(target, from: &namespace)
            if let peer = removed.peer {
                if peer.namespace == path {
                    Self.remove(peer.index, from: &namespace)
                } else if namespaces[peer.namespace] != nil {
                    Self.remove(peer.index, from: &namespaces[peer.namespace]!)
                }
            }
            return 0

        case .setLink(let reference, let changes):
            guard let target = index(reference), var entry = namespace.links[target] else { return ENODEV }
            var masterIndex: Int32??
            switch changes.master {
            case .bridge(let bridge)?:
                guard let bridgeIndex = index(bridge), namespace.links[bridgeIndex]?.link.kind == "bridge" else {
                    return index(bridge) == nil ? ENODEV : EINVAL
                }
                masterIndex = .some(bridgeIndex)
            case .none?: masterIndex = .some(nil)
            case nil: masterIndex = nil
            }
            if let newName = changes.name, let holder = namespace.index(named: newName), holder != target {
                return EEXIST
            }
            var targetPath: String?
            if let fd = changes.namespaceFD {
                guard let destination = descriptors[fd], namespaces[destination] != nil else { return EINVAL }
                let finalName = changes.name ?? entry.link.name
                if destination != path, namespaces[destination]!.index(named: finalName) != nil { return EEXIST }
                targetPath = destination
            }
            if let up = changes.up { entry.link.isUp = up }
            if let mtu = changes.mtu { entry.link.mtu = mtu }
            if let mac = changes.mac { entry.link.mac = mac }
            if let masterIndex { entry.link.master = masterIndex }
            if let newName = changes.name { entry.link.name = newName }
            namespace.links[target] = entry
            if let targetPath, targetPath != path {
                move(target, from: &namespace, fromPath: path, to: targetPath)
            }
            return 0

        case .setBridgePort(let reference, let changes):
            guard let target = index(reference), namespace.links[target] != nil else { return ENODEV }
            guard namespace.links[target]!.link.master != nil else { return EOPNOTSUPP }
            if let learning = changes.learning { namespace.links[target]!.port.learning = learning }
            if let suppress = changes.neighbourSuppression {
                namespace.links[target]!.port.neighbourSuppression = suppress
            }
            return 0

        case .addAddress(let address, let device):
            guard let target = index(device) else { return ENODEV }
            if namespace.addresses[target, default: []].contains(address) { return EEXIST }
            namespace.addresses[target, default: []].append(address)
            return 0

        case .deleteAddress(let address, let device):
            guard let target = index(device) else { return ENODEV }
            guard let position = namespace.addresses[target]?.firstIndex(of: address) else { return EADDRNOTAVAIL }
            namespace.addresses[target]!.remove(at: position)
            return 0

        case .writeFDB(var entry, let mode):
            guard let target = index(entry.device) else { return ENODEV }
            entry.device = .index(target)
            if entry.table == .bridge { entry.master = namespace.links[target]?.link.master }
            let sameMAC = namespace.fdb.indices.filter {
                namespace.fdb[$0].device == entry.device && namespace.fdb[$0].mac == entry.mac
                    && namespace.fdb[$0].table == entry.table
            }
            switch mode {
            case .add:
                if !sameMAC.isEmpty { return EEXIST }
                namespace.fdb.append(entry)
            case .replace:
                if let first = sameMAC.first { namespace.fdb[first] = entry } else { namespace.fdb.append(entry) }
            case .append:
                if !sameMAC.contains(where: { namespace.fdb[$0].destination == entry.destination && namespace.fdb[$0].port == entry.port }) {
                    namespace.fdb.append(entry)
                }
            }
            return 0

        case .deleteFDB(var entry):
            guard let target = index(entry.device) else { return ENODEV }
            entry.device = .index(target)
            let before = namespace.fdb.count
            namespace.fdb.removeAll {
                $0.device == entry.device && $0.mac == entry.mac && $0.table == entry.table
                    && (entry.destination == nil || ($0.destination == entry.destination && $0.port == entry.port))
            }
            return namespace.fdb.count == before ? ENOENT : 0

        case .writeNeighbour(var entry, let mode):
            guard let target = index(entry.device) else { return ENODEV }
            entry.device = .index(target)
            if let existing = namespace.neighbours.firstIndex(where: {
                $0.device == entry.device && $0.address == entry.address
            }) {
                if mode == .add { return EEXIST }
                namespace.neighbours[existing] = entry
            } else {
                namespace.neighbours.append(entry)
            }
            return 0

        case .deleteNeighbour(let entry):
            guard let target = index(entry.device) else { return ENODEV }
            let before = namespace.neighbours.count
            namespace.neighbours.removeAll { $0.device == .index(target) && $0.address == entry.address }
            return namespace.neighbours.count == before ? ENOENT : 0
        }
    }

    /// Answers a read with reply messages as the kernel would send them, or the errno it would give.
    func answer(_ query: NetlinkQuery, in path: String, sequence: UInt32) -> Result<[UInt8], NetlinkError> {
        guard let namespace = namespaces[path] else { return .failure(.notFound(object: path, kernelMessage: nil)) }
        switch query {
        case .link(let reference):
            let target: Int32? =
                switch reference {
                case .index(let index): namespace.links[index] != nil ? index : nil
                case .name(let name): namespace.index(named: name)
                }
            guard let target, let entry = namespace.links[target] else {
                return .failure(.notFound(object: "link \(reference)", kernelMessage: nil))
            }
            return .success(OperationEncoder.encodeLinkReply(entry.link, sequence: sequence))
        case .links:
            return .success(
                namespace.links.keys.sorted().flatMap {
                    OperationEncoder.encodeLinkReply(namespace.links[$0]!.link, sequence: sequence)
                })
        case .forwardingDatabase:
            return .success(
                namespace.fdb.flatMap { entry in
                    guard case .index(let index) = entry.device else { return [UInt8]() }
                    return OperationEncoder.encodeNeighbourReply(fdb: entry, index: index, sequence: sequence)
                })
        case .addresses(let family):
            return .success(
                namespace.addresses.keys.sorted().flatMap { index in
                    namespace.addresses[index]!.filter { $0.address.family == family }.flatMap { address in
                        OperationEncoder.encodeAddressReply(AssignedAddress(device: index, address: address), sequence: sequence)
                    }
                })
        case .neighbours(let family):
            return .success(
                namespace.neighbours.filter { $0.address.family == family }.flatMap { entry in
                    guard case .index(let index) = entry.device else { return [UInt8]() }
                    return OperationEncoder.encodeNeighbourReply(neighbour: entry, index: index, sequence: sequence)
                })
        }
    }

    private mutating func allocateIndex() -> Int32 {
        nextIndex += 1
        return nextIndex
    }

    /// Removes a link and everything that hangs off it, as unregistering a device does.
    private static func remove(_ index: Int32, from namespace: inout Namespace) {
        namespace.links[index] = nil
        namespace.addresses[index] = nil
        namespace.fdb.removeAll { $0.device == .index(index) || $0.master == index }
        namespace.neighbours.removeAll { $0.device == .index(index) }
        for (other, entry) in namespace.links where entry.link.master == index {
            namespace.links[other]!.link.master = nil
        }
    }

    /// Moves a link to another namespace: it leaves its bridge, addresses and neighbours behind and keeps its
    /// own FDB, and its index when that is free there.
    private mutating func move(_ index: Int32, from namespace: inout Namespace, fromPath: String, to path: String) {
        guard var entry = namespace.links[index] else { return }
        let ownFDB = namespace.fdb.filter { $0.device == .index(index) && $0.table == .device }
        Self.remove(index, from: &namespace)
        entry.link.master = nil
        entry.port = BridgePortChanges()
        let newIndex = namespaces[path]!.links[index] == nil ? index : allocateIndex()
        entry.link.index = newIndex
        namespaces[path]!.links[newIndex] = entry
        namespaces[path]!.fdb += ownFDB.map { fdb in
            var moved = fdb
            moved.device = .index(newIndex)
            return moved
        }
        if let peer = entry.peer {
            if peer.namespace == fromPath {
                namespace.links[peer.index]?.peer = (path, newIndex)
            } else {
                namespaces[peer.namespace]?.links[peer.index]?.peer = (path, newIndex)
            }
        }
    }
}
