/// Renders a decoded operation as the iproute2 command that makes the same change.
///
/// The commands are runnable: executed in order in a fresh namespace they produce the state the kernel
/// transport would have produced, which the dry-run replay test checks.
struct IPRoute2Renderer {
    /// How commands enter the namespace: `ip -n NAME`, `nsenter --net=PATH ip`, or plain `ip`.
    let namespace: NamespaceReference

    /// - Parameters:
    ///   - linkName: the name of the link with an index in this namespace.
    ///   - namespaceArgument: how `netns` arguments name the namespace open at a descriptor.
    func render(
        _ operation: NetlinkOperation, linkName: (Int32) -> String, namespaceArgument: (Int32) -> String
    ) -> String {
        func name(_ reference: LinkReference) -> String {
            switch reference {
            case .name(let name): name
            case .index(let index): linkName(index)
            }
        }
        func fdbWords(_ entry: FDBEntry) -> [String] {
            var words = ["\(entry.mac)", "dev", name(entry.device)]
            if let destination = entry.destination { words += ["dst", "\(destination)"] }
            if let port = entry.port { words += ["port", "\(port)"] }
            words.append(entry.table == .device ? "self" : "master")
            return words
        }

        switch operation {
        case .createLink(let spec):
            var words = ["link", "add", spec.name]
            words += linkOptions(mtu: spec.mtu, mac: spec.mac)
            words += ["type", spec.kind.kernelName]
            switch spec.kind {
            case .bridge, .wireguard:
                break
            case .vxlan(let config):
                words += ["id", "\(config.vni)"]
                if let local = config.local { words += ["local", "\(local)"] }
                if let lower = config.lowerDevice { words += ["dev", name(lower)] }
                words += ["dstport", "\(config.port)", "ttl", config.ttl == 0 ? "auto" : "\(config.ttl)"]
                words.append(config.learning ? "learning" : "nolearning")
                words.append(config.proxy ? "proxy" : "noproxy")
                words.append(config.l2miss ? "l2miss" : "nol2miss")
                words.append(config.l3miss ? "l3miss" : "nol3miss")
                words.append(config.udpChecksum ? "udpcsum" : "noudpcsum")
            case .veth(let peer):
                words += ["peer", "name", peer.name] + linkOptions(mtu: peer.mtu, mac: peer.mac)
                if let fd = peer.namespaceFD { words += ["netns", namespaceArgument(fd)] }
            }
            return command("ip", words)

        case .deleteLink(let link):
            return command("ip", ["link", "del", name(link)])

        case .setLink(let link, let changes):
            var words = ["link", "set", "dev", name(link)]
            if let up = changes.up { words.append(up ? "up" : "down") }
            words += linkOptions(mtu: changes.mtu, mac: changes.mac)
            switch changes.master {
            case .bridge(let bridge)?: words += ["master", name(bridge)]
            case .none?: words.append("nomaster")
            case nil: break
            }
            if let newName = changes.name { words += ["name", newName] }
            if let fd = changes.namespaceFD { words += ["netns", namespaceArgument(fd)] }
            if let forwarding = changes.ipv4Forwarding {
                let sysctl = sysctlCommand("net.ipv4.conf.\(name(link)).forwarding=\(forwarding ? 1 : 0)")
                return words.count == 4 ? sysctl : command("ip", words) + "\n" + sysctl
            }
            return command("ip", words)

        case .setBridgePort(let link, let changes):
            var words = ["link", "set", "dev", name(link)]
            if let learning = changes.learning { words += ["learning", learning ? "on" : "off"] }
            if let suppress = changes.neighbourSuppression { words += ["neigh_suppress", suppress ? "on" : "off"] }
            return command("bridge", words)

        case .addAddress(let address, let device):
            return command("ip", ["addr", "add", "\(address)", "dev", name(device)])
        case .deleteAddress(let address, let device):
            return command("ip", ["addr", "del", "\(address)", "dev", name(device)])

        case .writeFDB(let entry, let mode):
            return command("bridge", ["fdb", verb(mode)] + fdbWords(entry) + [state(entry.state)])
        case .deleteFDB(let entry):
            return command("bridge", ["fdb", "del"] + fdbWords(entry))

        case .writeNeighbour(let entry, let mode):
            var words = ["neigh", verb(mode), "\(entry.address)"]
            if let mac = entry.mac { words += ["lladdr", "\(mac)"] }
            words += ["dev", name(entry.device), "nud", neighbourState(entry.state)]
            return command("ip", words)
        case .deleteNeighbour(let entry):
            return command("ip", ["neigh", "del", "\(entry.address)", "dev", name(entry.device)])
        }
    }

    /// The commands that create and delete a persistent namespace.
    static func createNamespace(_ reference: NamespaceReference, ipNetnsName: String?) -> String {
        if let ipNetnsName { return "ip netns add \(ipNetnsName)" }
        let path = reference.path
        let directory = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        return "mkdir -p \(directory) && touch \(path) && unshare --net=\(path) true"
    }

    static func deleteNamespace(_ reference: NamespaceReference, ipNetnsName: String?) -> String {
        if let ipNetnsName { return "ip netns del \(ipNetnsName)" }
        return "umount \(reference.path) && rm \(reference.path)"
    }

    private func command(_ tool: String, _ words: [String]) -> String {
        let prefix: String
        switch namespace {
        case .current: prefix = tool
        case .named(let name): prefix = "\(tool) -n \(name)"
        case .path(let path):
            if let name = NetworkNamespace(reference: namespace, fd: -1, ownsDescriptor: false).ipNetnsName {
                prefix = "\(tool) -n \(name)"
            } else {
                prefix = "nsenter --net=\(path) \(tool)"
            }
        }
        return ([prefix] + words).joined(separator: " ")
    }

    /// `sysctl -qw` in the namespace (sysctl has no namespace option of its own).
    private func sysctlCommand(_ setting: String) -> String {
        switch namespace {
        case .current: return "sysctl -qw \(setting)"
        case .named(let name): return "ip netns exec \(name) sysctl -qw \(setting)"
        case .path(let path):
            if let name = NetworkNamespace(reference: namespace, fd: -1, ownsDescriptor: false).ipNetnsName {
                return "ip netns exec \(name) sysctl -qw \(setting)"
            }
            return "nsenter --net=\(path) sysctl -qw \(setting)"
        }
    }

    private func linkOptions(mtu: UInt32?, mac: MACAddress?) -> [String] {
        var words: [String] = []
        if let mtu { words += ["mtu", "\(mtu)"] }
        if let mac { words += ["address", "\(mac)"] }
        return words
    }

    private func verb(_ mode: WriteMode) -> String {
        switch mode {
        case .add: "add"
        case .replace: "replace"
        case .append: "append"
        }
    }

    private func state(_ state: NeighbourState) -> String {
        if state.contains(.permanent) { return "permanent" }
        if state.contains(.noARP) { return "static" }
        return "dynamic"
    }

    private func neighbourState(_ state: NeighbourState) -> String {
        if state.contains(.permanent) { return "permanent" }
        if state.contains(.noARP) { return "noarp" }
        if state.contains(.reachable) { return "reachable" }
        return "stale"
    }
}
