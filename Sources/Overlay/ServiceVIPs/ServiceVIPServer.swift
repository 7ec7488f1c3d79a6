import Logging
import Netlink

/// Where a network's service records come from: Docker's API (`GET /networks/<id>?verbose=true`), a fake in
/// tests.
public protocol ServiceRecordSource: Sendable {
    /// Docker's verbose description of the network, as its API returns it.
    func networkDescription(_ id: String) async throws -> [UInt8]
}

/// Loads an nftables script into a namespace (`nft -f -` there; printed in a dry run).
public protocol RulesetLoader: Sendable {
    func load(_ script: String, into namespace: NetworkNamespace) throws
}

/// Serves swarm services' virtual IPs on weft networks, since Docker makes no load balancer for a remote
/// driver's network (see the README): every `interval` it reads each weft network's services and tasks from
/// Docker, and where they changed it makes the VIPs answer in the network's namespace (``VIPRuleset``).
/// Level-triggered: a failed change is tried again at the next pass, and every `repairEvery` passes the
/// namespaces are set again whether or not anything changed. On shutdown it removes what it made.
public actor ServiceVIPServer {
    public struct Timing: Sendable {
        public var interval: Duration = .seconds(1)
        public var repairEvery = 30

        public init() {}
    }

    private struct Applied: Equatable {
        var vni: VNI
        var subnet: IPv4Subnet
        var ruleset: VIPRuleset
    }

    private let store: StateStore
    private let namespaceDirectory: String
    private let backend: any NetlinkBackend
    private let source: any ServiceRecordSource
    private let loader: any RulesetLoader
    private let timing: Timing
    private let logger: Logger
    private var applied: [String: Applied] = [:]
    private var passes = 0
    private var rateLimited = RateLimitedLog(interval: .seconds(60))
    /// Answers from Docker that were cut to the limits (``ServiceRecords``).
    public private(set) var truncatedAnswers = 0

    public init(
        store: StateStore, namespaceDirectory: String, backend: any NetlinkBackend, source: any ServiceRecordSource,
        loader: any RulesetLoader, timing: Timing = Timing(), logger: Logger
    ) {
        self.store = store
        self.namespaceDirectory = namespaceDirectory
        self.backend = backend
        self.source = source
        self.loader = loader
        self.timing = timing
        self.logger = logger
    }

    /// Passes until cancelled; then removes every VIP it serves.
    public func run() async {
        while !Task.isCancelled {
            await pass()
            do { try await Task.sleep(for: timing.interval) } catch { break }
        }
        removeAll()
    }

    /// The services served on `network`, as last applied.
    public func services(on network: String) -> [ServiceVIP] { applied[network]?.ruleset.services ?? [] }

    /// One pass over every weft network of this host.
    public func pass() async {
        passes &+= 1
        let repair = passes % max(timing.repairEvery, 1) == 0
        let networks = store.current.networks.values.sorted { $0.id < $1.id }
        for network in networks {
            let body: [UInt8]
            do { body = try await source.networkDescription(network.id) } catch {
                if rateLimited.allows("docker \(network.id)") {
                    logger.warning("cannot read the network's services from Docker; its VIPs stay as they are",
                                   metadata: ["network": "\(network.shortID)", "error": "\(error)"])
                }
                continue
            }
            var truncated = false
            let services: [ServiceVIP]
            do { services = try ServiceRecords.parse(body, network: network.id, subnet: network.subnet, truncated: &truncated) } catch {
                if rateLimited.allows("parse \(network.id)") { logger.warning("\(error)") }
                continue
            }
            if truncated {
                truncatedAnswers &+= 1
                if rateLimited.allows("truncated \(network.id)") {
                    logger.warning("Docker lists more services or tasks than weft serves; the rest are left out",
                                   metadata: ["network": "\(network.shortID)", "services": "\(ServiceRecords.maximumServices)", "tasks": "\(ServiceRecords.maximumTasks)"])
                }
            }
            // The network may have gone while Docker answered.
            guard let current = store.current.networks[network.id], current.vni == network.vni else { continue }
            let desired = Applied(vni: network.vni, subnet: network.subnet, ruleset: VIPRuleset(services: services))
            guard repair || applied[network.id] != desired else { continue }
            if applied[network.id] == nil, desired.ruleset.isEmpty, !repair { continue }
            do {
                try apply(desired.ruleset, vni: desired.vni, subnet: desired.subnet)
                if applied[network.id]?.ruleset != desired.ruleset {
                    logger.info("service VIPs", metadata: [
                        "network": "\(network.shortID)", "services": "\(services.map(\.description).joined(separator: "; "))",
                    ])
                }
                applied[network.id] = desired
            } catch {
                if rateLimited.allows("apply \(network.id)") {
                    logger.warning("cannot serve the network's VIPs", metadata: ["network": "\(network.shortID)", "error": "\(error)"])
                }
            }
        }
        // A network that went took its namespace, and so its VIPs, with it.
        for id in applied.keys where store.current.networks[id] == nil { applied[id] = nil }
    }

    /// Removes every VIP this server made (shutdown).
    public func removeAll() {
        for (id, entry) in applied.sorted(by: { $0.key < $1.key }) {
            do { try apply(VIPRuleset(services: []), vni: entry.vni, subnet: entry.subnet) } catch {
                logger.warning("cannot remove the network's VIPs", metadata: ["network": "\(id.prefix(12))", "error": "\(error)"])
            }
        }
        applied.removeAll()
    }

    /// Makes the namespace of network `vni` serve `ruleset`: rules before addresses when VIPs come (a VIP never
    /// answers without its rule), addresses before rules when they go.
    private func apply(_ ruleset: VIPRuleset, vni: VNI, subnet: IPv4Subnet) throws {
        let layout = KernelLayout(vni: vni, namespaceDirectory: namespaceDirectory)
        let namespace = try backend.openNamespace(layout.namespace)
        let session = try backend.session(in: namespace)
        let bridge = LinkReference.name(layout.bridgeName)
        let bridgeIndex = try session.index(of: bridge)
        let present = Set(try session.addresses().filter { $0.device == bridgeIndex && $0.address.address.isIPv4 }.map(\.address))
        let desired = ruleset.bridgeAddresses(subnet: subnet)
        for address in present.subtracting(desired).sorted(by: { $0.description < $1.description }) {
            try session.perform(.deleteAddress(address, device: bridge))
        }
        if !ruleset.isEmpty { try session.perform(.setLink(bridge, LinkChanges(ipv4Forwarding: true))) }
        try loader.load(ruleset.script, into: namespace)
        for address in desired.subtracting(present).sorted(by: { $0.description < $1.description }) {
            try session.perform(.addAddress(address, device: bridge))
        }
    }
}
