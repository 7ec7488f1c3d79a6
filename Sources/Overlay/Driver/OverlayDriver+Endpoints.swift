import Logging
import Netlink

/// Endpoints: CreateEndpoint, Join, Leave, DeleteEndpoint.
extension OverlayDriver {
    /// Creates the endpoint's veth pair: one end in the host namespace for Docker to move into the container,
    /// the other a port of the network's bridge. Returns the endpoint, whose MAC is weft's choice unless Docker
    /// gave one.
    public func createEndpoint(_ request: EndpointCreation) async throws(DriverError) -> EndpointRecord {
        guard let network = store.current.networks[request.networkID] else { throw .unknownNetwork(request.networkID) }
        let object = "endpoint \(request.endpointID.prefix(12))"
        let address = request.address.address
        guard network.subnet.contains(address) else {
            throw .invalidAddress(object: "\(object) (network subnet \(network.subnet))", value: "\(request.address)")
        }
        let address6 = request.address6?.address
        if let address6 {
            guard let subnet6 = network.subnet6 else {
                throw .invalidOption(name: "--ip6", value: "\(address6)", reason: "\(object): network \(network.shortID) has no IPv6 subnet")
            }
            guard subnet6.contains(address6) else {
                throw .invalidOption(name: "--ip6", value: "\(address6)", reason: "\(object): outside the network's IPv6 subnet \(subnet6)")
            }
        }
        var record: EndpointRecord
        if let existing = store.current.endpoints[request.endpointID] {
            guard existing.networkID == request.networkID, existing.address == address, existing.address6 == address6 else {
                throw .endpointRedefined(endpoint: request.endpointID,
                                         reason: "it has address \(existing.address) on network \(existing.networkID.prefix(12))")
            }
            record = existing
            try checkLinkNames(of: record, in: network)
        } else {
            try checkLinkNameFree(endpoint: request.endpointID)
            let mac = request.mac ?? .randomLocallyAdministered()
            record = EndpointRecord(id: request.endpointID, networkID: network.id, address: address,
                                    prefixLength: request.address.prefixLength, mac: mac, macChosenByWeft: request.mac == nil,
                                    address6: address6)
            try checkLinkNames(of: record, in: network)
            try save(.endpoint(record.id, record))
        }
        do throws(DriverError) {
            try attach(record, to: network)
        } catch {
            try? save(.endpoint(record.id, nil))
            detach(record, from: network)
            throw error
        }
        logger.info("endpoint ready", metadata: ["endpoint": "\(record.shortID)", "network": "\(network.shortID)",
                                                 "address": "\(record.address)", "address6": "\(record.address6.map { "\($0)" } ?? "none")",
                                                 "mac": "\(record.mac)"])
        await cluster?.announce(announcement(of: record, in: network))
        announceLocally(record, in: network)
        return record
    }

    public func endpoint(network: String, endpoint: String) throws(DriverError) -> EndpointRecord {
        guard let record = store.current.endpoints[endpoint], record.networkID == network else {
            if store.current.networks[network] == nil { throw .unknownNetwork(network) }
            throw .unknownEndpoint(endpoint: endpoint, network: network)
        }
        return record
    }

    /// Names the link Docker moves into the container; it must still be in the host namespace.
    public func join(network: String, endpoint: String) throws(DriverError) -> JoinInfo {
        let record = try self.endpoint(network: network, endpoint: endpoint)
        let name = KernelLayout.hostEnd(endpoint: record.id)
        let session = try hostNamespace()
        guard try kernel("look up \(name)", { () throws(NetlinkError) in try session.link(.name(name)) }) != nil else {
            throw .kernel(action: "endpoint \(record.shortID)",
                          error: .unknownLink(name: name, namespace: session.namespace.reference.description))
        }
        return JoinInfo(interfaceName: name)
    }

    /// Leave needs no kernel change: Docker moves the interface back and DeleteEndpoint removes it.
    public func leave(network: String, endpoint: String) throws(DriverError) {
        if store.current.networks[network] == nil { throw .unknownNetwork(network) }
    }

    /// Removes the endpoint's veth pair. Unknown endpoints succeed: Docker may retry.
    public func deleteEndpoint(network: String, endpoint: String) async throws(DriverError) {
        guard let record = store.current.endpoints[endpoint], record.networkID == network else { return }
        try save(.endpoint(endpoint, nil))
        if let networkRecord = store.current.networks[network] {
            detach(record, from: networkRecord)
            await cluster?.withdraw(endpoint: announcement(of: record, in: networkRecord).key)
        }
        logger.info("endpoint removed", metadata: ["endpoint": "\(record.shortID)", "network": "\(network.prefix(12))"])
    }
}
