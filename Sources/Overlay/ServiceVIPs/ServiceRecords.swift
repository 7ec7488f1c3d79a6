import FoundationEssentials

/// A swarm service's virtual IP on one network and the addresses of its tasks there, as Docker's own service
/// records (libnetwork's networkdb, gossiped between the engines) list them.
public struct ServiceVIP: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    public var vip: IPv4Address
    /// The tasks' addresses, sorted, without duplicates.
    public var backends: [IPv4Address]

    public init(name: String, vip: IPv4Address, backends: [IPv4Address]) {
        self.name = name
        self.vip = vip
        self.backends = Array(Set(backends)).sorted()
    }

    public var description: String { "\(name) \(vip) → \(backends.map(\.description).joined(separator: ", "))" }
}

/// Reads the services of a network from Docker's `GET /networks/<id>?verbose=true` answer (its `Services` map:
/// name → `VIP` and `Tasks[].EndpointIP`). Docker is trusted, but its answer is bounded and checked: only
/// addresses inside the network's subnet are taken, services without a VIP (endpoint mode dnsrr) are skipped,
/// and at most ``maximumServices`` services of at most ``maximumTasks`` tasks are kept.
public enum ServiceRecords {
    public static let maximumServices = 1_024
    public static let maximumTasks = 4_096
    /// The largest answer read.
    public static let maximumBodySize = 8 << 20

    /// Why an answer was not taken.
    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case tooLarge(network: String, bytes: Int)
        case malformed(network: String, reason: String)

        public var description: String {
            switch self {
            case .tooLarge(let network, let bytes):
                "Docker's description of network \(network) is \(bytes) bytes, over the \(ServiceRecords.maximumBodySize) read"
            case .malformed(let network, let reason): "Docker's description of network \(network) is not understood: \(reason)"
            }
        }
    }

    private struct Inspect: Decodable {
        struct Service: Decodable {
            struct Task: Decodable {
                var EndpointIP: String?
            }
            var VIP: String?
            var Tasks: [Task]?
        }
        var Id: String?
        var Services: [String: Service]?
    }

    /// The services with a VIP in `subnet`, sorted by name; a truncated list is reported through `truncated`.
    public static func parse(
        _ body: [UInt8], network: String, subnet: IPv4Subnet, truncated: inout Bool
    ) throws(ParseError) -> [ServiceVIP] {
        guard body.count <= maximumBodySize else { throw .tooLarge(network: network, bytes: body.count) }
        let inspect: Inspect
        do { inspect = try JSONDecoder().decode(Inspect.self, from: Data(body)) } catch {
            throw .malformed(network: network, reason: "\(error)")
        }
        if let id = inspect.Id, id != network { throw .malformed(network: network, reason: "it describes network \(id)") }
        var services: [ServiceVIP] = []
        for (name, service) in (inspect.Services ?? [:]).sorted(by: { $0.key < $1.key }) {
            guard let vipText = service.VIP, let vip = address(vipText), subnet.contains(vip) else { continue }
            guard services.count < maximumServices else {
                truncated = true
                break
            }
            var backends: [IPv4Address] = []
            for task in service.Tasks ?? [] {
                guard let text = task.EndpointIP, let backend = address(text), subnet.contains(backend), backend != vip else { continue }
                guard backends.count < maximumTasks else {
                    truncated = true
                    break
                }
                backends.append(backend)
            }
            services.append(ServiceVIP(name: name, vip: vip, backends: backends))
        }
        return services
    }

    /// An address as Docker writes it: `10.0.0.2`, or with a prefix length.
    private static func address(_ text: String) -> IPv4Address? {
        let bare = text.split(separator: "/", maxSplits: 1).first.map(String.init) ?? text
        return try? IPv4Address(parsing: bare)
    }
}
