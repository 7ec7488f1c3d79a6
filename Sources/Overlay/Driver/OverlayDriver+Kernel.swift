import Logging
import Netlink

/// The kernel plumbing: namespaces and their sockets, the reconciler's plan applied, veths attached and
/// detached, link names checked; and the saving of state.
extension OverlayDriver {
    func layout(for network: NetworkRecord) -> KernelLayout {
        KernelLayout(vni: network.vni, namespaceDirectory: host.namespaceDirectory)
    }

    func desired(_ network: NetworkRecord) -> DesiredNetwork {
        let ends = store.current.endpoints(of: network.id).map { KernelLayout.bridgeEnd(endpoint: $0.id) }
        return DesiredNetwork(
            layout: layout(for: network), mtu: network.mtu,
            vxlan: VXLANConfig(vni: network.vni, port: host.vxlanPort, local: vxlanLocal(network)),
            bridgeEnds: Set(ends))
    }

    /// Why a network's namespace is reconciled: at start its corrections are drift (counted, logged), at create
    /// they are the network being built.
    enum ReconcileReason: String {
        case start
        case create
    }

    /// Brings the network's namespace to its desired state and logs every correction.
    func reconcile(_ network: NetworkRecord, reason: ReconcileReason) throws(DriverError) {
        let action = "network \(network.shortID) (VNI \(network.vni))"
        let session = try networkNamespace(network)
        let hostSession = try hostNamespace()
        let plan = Reconciler.plan(
            desired(network),
            networkLinks: try kernel(action) { () throws(NetlinkError) in try session.links() },
            hostLinks: try kernel(action) { () throws(NetlinkError) in try hostSession.links() },
            namespaceFD: session.namespace.fd)
        var index = plan.steps.startIndex
        while index < plan.steps.endIndex {
            let scope = plan.steps[index].scope
            let end = plan.steps[index...].firstIndex { $0.scope != scope } ?? plan.steps.endIndex
            let operations = plan.steps[index..<end].map { $0.operation }
            for operation in operations {
                logger.debug("reconcile", metadata: ["reason": "\(reason)", "network": "\(network.shortID)", "operation": "\(operation)"])
            }
            try kernel(action) { () throws(NetlinkError) in try (scope == .host ? hostSession : session).perform(operations) }
            index = end
        }
        if reason == .start, !plan.isEmpty {
            corrections += plan.steps.count
            logger.notice("corrected kernel state", metadata: ["network": "\(network.shortID)", "changes": "\(plan.steps.count)"])
        }
        for lost in plan.lostBridgeEnds {
            logger.warning("endpoint lost its bridge port", metadata: ["network": "\(network.shortID)", "link": "\(lost)"])
        }
    }

    /// Link names hold 11 characters of the endpoint ID: refuses an ID whose names another endpoint has, or that
    /// cannot be an interface name.
    func checkLinkNameFree(endpoint id: String) throws(DriverError) {
        let hostEnd = KernelLayout.hostEnd(endpoint: id)
        if let problem = LinkName.problem(with: hostEnd) ?? LinkName.problem(with: KernelLayout.bridgeEnd(endpoint: id)) {
            throw .invalidOption(name: "EndpointID", value: id, reason: problem)
        }
        let endpoints = store.current.endpoints
        if !linkNames.matches(endpoints) { linkNames = LinkNameIndex(endpoints.keys) }
        if let other = linkNames.sharingLinkNames(with: id).lazy.compactMap({ endpoints[$0] }).first {
            throw .linkNameTaken(
                endpoint: id, link: hostEnd,
                reason: "endpoint \(other.id.prefix(12)) on network \(other.networkID.prefix(12)) has it (both IDs begin with \(id.prefix(11)))")
        }
    }

    /// Links already named as the endpoint's ends are adopted only when they are its own: veths, the host end with
    /// the endpoint's MAC. Anything else under the name is refused, never taken over (nor removed).
    func checkLinkNames(of endpoint: EndpointRecord, in network: NetworkRecord) throws(DriverError) {
        let action = "endpoint \(endpoint.shortID)"
        let hostEnd = KernelLayout.hostEnd(endpoint: endpoint.id)
        let bridgeEnd = KernelLayout.bridgeEnd(endpoint: endpoint.id)
        let hostSession = try hostNamespace()
        if let link = try kernel(action, { () throws(NetlinkError) in try hostSession.link(.name(hostEnd)) }), link.kind != "veth" || link.mac != endpoint.mac {
            let found = "a \(link.kind ?? "link") with MAC \(link.mac.map { "\($0)" } ?? "none")"
            throw .linkNameTaken(endpoint: endpoint.id, link: hostEnd,
                                 reason: "the host namespace has \(found), not this endpoint's veth (MAC \(endpoint.mac))")
        }
        let session = try networkNamespace(network)
        if let link = try kernel(action, { () throws(NetlinkError) in try session.link(.name(bridgeEnd)) }), link.kind != "veth" {
            throw .linkNameTaken(endpoint: endpoint.id, link: bridgeEnd,
                                 reason: "the network namespace has a \(link.kind ?? "link") of that name, not this endpoint's veth")
        }
    }

    func attach(_ endpoint: EndpointRecord, to network: NetworkRecord) throws(DriverError) {
        let action = "endpoint \(endpoint.shortID)"
        let session = try networkNamespace(network)
        let hostSession = try hostNamespace()
        let hostEnd = KernelLayout.hostEnd(endpoint: endpoint.id)
        let bridgeEnd = KernelLayout.bridgeEnd(endpoint: endpoint.id)
        let bridgeEndExists = try kernel(action) { () throws(NetlinkError) in try session.link(.name(bridgeEnd)) } != nil
        let hostEndExists = try kernel(action) { () throws(NetlinkError) in try hostSession.link(.name(hostEnd)) } != nil
        if !(bridgeEndExists && hostEndExists) {
            let pair = LinkSpec(
                name: hostEnd,
                kind: .veth(peer: VethPeer(name: bridgeEnd, mtu: network.mtu, namespaceFD: session.namespace.fd)),
                mtu: network.mtu, mac: endpoint.mac)
            try kernel(action) { () throws(NetlinkError) in try hostSession.perform(.createLink(pair)) }
        }
        let layout = layout(for: network)
        try kernel(action) { () throws(NetlinkError) in
            try session.perform(.setLink(.name(bridgeEnd), LinkChanges(up: true, mtu: network.mtu, master: .bridge(.name(layout.bridgeName)))))
        }
    }

    /// Best effort: removing the bridge end removes the pair, wherever its other end is.
    func detach(_ endpoint: EndpointRecord, from network: NetworkRecord) {
        let bridgeEnd = KernelLayout.bridgeEnd(endpoint: endpoint.id)
        let hostEnd = KernelLayout.hostEnd(endpoint: endpoint.id)
        if let session = try? networkNamespace(network), case .failure(let error) = session.apply([.deleteLink(.name(bridgeEnd))])[0] {
            logger.debug("bridge end already gone", metadata: ["link": "\(bridgeEnd)", "error": "\(error)"])
        }
        if let session = try? hostNamespace(), (try? session.link(.name(hostEnd))) != nil {
            _ = session.apply([.deleteLink(.name(hostEnd))])
        }
    }

    func removeNamespace(of network: NetworkRecord) {
        let reference = layout(for: network).namespace
        networkSessions[network.vni] = nil
        if backend.namespaceExists(reference) {
            do throws(NetlinkError) {
                try backend.deleteNamespace(reference)
            } catch {
                logger.warning("cannot remove namespace", metadata: ["namespace": "\(reference)", "error": "\(error)"])
            }
        }
    }

    func hostNamespace() throws(DriverError) -> NetlinkSession {
        if let hostSession { return hostSession }
        let session = try kernel("open the host namespace") { () throws(NetlinkError) in try backend.session(in: hostNamespaceReference) }
        hostSession = session
        return session
    }

    /// The network's namespace, made if missing, with a socket kept open for later requests.
    func networkNamespace(_ network: NetworkRecord) throws(DriverError) -> NetlinkSession {
        if let session = networkSessions[network.vni] { return session }
        let reference = layout(for: network).namespace
        let session = try kernel("namespace \(reference)") { () throws(NetlinkError) -> NetlinkSession in
            let namespace: NetworkNamespace
            if backend.namespaceExists(reference) {
                namespace = try backend.openNamespace(reference)
            } else {
                namespace = try backend.createNamespace(reference)
            }
            return try backend.session(in: namespace)
        }
        networkSessions[network.vni] = session
        return session
    }

    /// Runs netlink work, naming `action` in its failure.
    func kernel<T>(_ action: String, _ body: () throws(NetlinkError) -> T) throws(DriverError) -> T {
        do throws(NetlinkError) {
            return try body()
        } catch {
            throw .kernel(action: action, error: error)
        }
    }

    func save(_ change: (inout PersistentState) -> Void) throws(DriverError) {
        do { try store.update(change) } catch { throw .persistence("\(error)") }
    }

    /// Saves a change named key by key (an endpoint's): costs the change, not the state's size.
    func save(_ delta: StateDelta) throws(DriverError) {
        do throws(StateStore.StoreError) { try store.apply(delta) } catch { throw .persistence("\(error)") }
        guard let endpoints = delta.endpoints else { return }
        for id in endpoints.removed { linkNames.remove(id) }
        for id in endpoints.set.keys { linkNames.insert(id) }
    }

    static func summary(_ record: NetworkRecord) -> String {
        "VNI \(record.vni), subnet \(record.subnet)\(record.subnet6.map { " and \($0)" } ?? ""), MTU \(record.mtu)"
            + (record.isInternal ? ", internal" : "")
    }
}
