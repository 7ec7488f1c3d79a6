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

    var namespaces: [String: Namespace] = [:]
    /// Placeholder descriptors handed out for namespaces: the path of each, and the descriptor of each path.
    private(set) var descriptors: [Int32: String] = [:]
    private var descriptorsByPath: [String: Int32] = [:]
    private var nextDescriptor: Int32 = 1000
    private var nextIndex: Int32 = 1000

    mutating func descriptor(for path: String) -> Int32 {
        if let existing = descriptorsByPath[path] { return existing }
        nextDescriptor += 1
        descriptors[nextDescriptor] = path
        descriptorsByPath[path] = nextDescriptor
        return nextDescriptor
    }

    func linkName(_ index: Int32, in path: String) -> String {
        namespaces[path]?.links[index]?.link.name ?? "#\(index)"
    }

    /// Applies one operation to the namespace at `path`; returns 0 or the errno the kernel would give.
    mutating func apply(_ operation: NetlinkOperation, in path: String) -> Int32 {
        // Taken out of the dictionary while it changes: changed in place there, its tables would be copied.
        guard var namespace = namespaces.removeValue(forKey: path) else { return ENOENT }
        defer { namespaces[path] = namespace }
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
                namespace.insert(SimulatedLink(link: link))
            case .wireguard:
                link.mtu = spec.mtu ?? 1420
                namespace.insert(SimulatedLink(link: link))
            case .vxlan(var config):
                if let lower = config.lowerDevice {
                    guard let lowerIndex = index(lower) else { return ENODEV }
                    config.lowerDevice = .index(lowerIndex)
                }
                link.mtu = spec.mtu ?? 1450
                link.vxlan = config
                namespace.insert(SimulatedLink(link: link))
            case .veth(let peerSpec):
                let peerPath = peerSpec.namespaceFD.map { descriptors[$0] } ?? path
                guard let peerPath else { return EBADF }
                let peerLink = Link(
                    index: allocateIndex(), name: peerSpec.name, kind: "veth", mtu: peerSpec.mtu ?? 1500,
                    mac: peerSpec.mac ?? MACAddress.randomLocallyAdministered())
                if peerPath == path {
                    if peerSpec.name == spec.name || namespace.index(named: peerSpec.name) != nil { return EEXIST }
                    namespace.insert(SimulatedLink(link: peerLink, peer: (path, link.index)))
                } else {
                    guard namespaces[peerPath] != nil else { return EBADF }
                    if namespaces[peerPath]!.index(named: peerSpec.name) != nil { return EEXIST }
                    namespaces[peerPath]!.insert(SimulatedLink(link: peerLink, peer: (path, link.index)))
                }
                namespace.insert(SimulatedLink(link: link, peer: (peerPath, peerLink.index)))
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
            guard let target = index(reference), let entry = namespace.links[target] else { return ENODEV }
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
                guard let destination = descriptors[fd], destination == path || namespaces[destination] != nil else {
                    return EINVAL
                }
                let finalName = changes.name ?? entry.link.name
                if destination != path, namespaces[destination]!.index(named: finalName) != nil { return EEXIST }
                targetPath = destination
            }
            namespace.update(target) { entry in
                if let up = changes.up { entry.link.isUp = up }
                if let mtu = changes.mtu { entry.link.mtu = mtu }
                if let mac = changes.mac { entry.link.mac = mac }
                if let masterIndex { entry.link.master = masterIndex }
                if let newName = changes.name { entry.link.name = newName }
            }
            if let targetPath, targetPath != path {
                move(target, from: &namespace, fromPath: path, to: targetPath)
            }
            return 0

        case .setBridgePort(let reference, let changes):
            guard let target = index(reference), let entry = namespace.links[target] else { return ENODEV }
            guard entry.link.master != nil else { return EOPNOTSUPP }
            namespace.update(target) { entry in
                if let learning = changes.learning { entry.port.learning = learning }
                if let suppress = changes.neighbourSuppression { entry.port.neighbourSuppression = suppress }
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
            return namespace.fdb.write(entry, on: target, mode: mode)

        case .deleteFDB(var entry):
            guard let target = index(entry.device) else { return ENODEV }
            entry.device = .index(target)
            return namespace.fdb.delete(entry, on: target) ? 0 : ENOENT

        case .writeNeighbour(var entry, let mode):
            guard let target = index(entry.device) else { return ENODEV }
            entry.device = .index(target)
            return namespace.neighbours.write(entry, on: target, mode: mode)

        case .deleteNeighbour(let entry):
            guard let target = index(entry.device) else { return ENODEV }
            return namespace.neighbours.delete(entry.address, on: target) ? 0 : ENOENT
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
                namespace.fdb.dump().flatMap { entry in
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
                namespace.neighbours.dump().filter { $0.address.family == family }.flatMap { entry in
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
        namespace.removeLink(index)
        namespace.addresses[index] = nil
        namespace.fdb.removeAll(of: index)
        namespace.neighbours.removeAll(of: index)
    }

    /// Moves a link to another namespace: it leaves its bridge, addresses and neighbours behind and keeps its
    /// own FDB, and its index when that is free there.
    private mutating func move(_ index: Int32, from namespace: inout Namespace, fromPath: String, to path: String) {
        guard var entry = namespace.links[index] else { return }
        let ownFDB = namespace.fdb.deviceEntries(of: index)
        Self.remove(index, from: &namespace)
        entry.link.master = nil
        entry.port = BridgePortChanges()
        let newIndex = namespaces[path]!.links[index] == nil ? index : allocateIndex()
        entry.link.index = newIndex
        namespaces[path]!.insert(entry)
        namespaces[path]!.fdb.append(
            ownFDB.map { fdb in
                var moved = fdb
                moved.device = .index(newIndex)
                return moved
            }, on: newIndex)
        if let peer = entry.peer {
            if peer.namespace == fromPath {
                namespace.update(peer.index) { $0.peer = (path, newIndex) }
            } else {
                namespaces[peer.namespace]?.update(peer.index) { $0.peer = (path, newIndex) }
            }
        }
    }
}
