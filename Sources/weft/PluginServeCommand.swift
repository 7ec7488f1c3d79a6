import ArgumentParser
import DockerPlugin
import Logging
import Overlay
import ServiceLifecycle
import UnixSignals

/// `weft plugin-serve`: serves Docker's plugin API by hand, before the daemon exists. IPAM works (in memory,
/// lost on exit); every NetworkDriver call except GetCapabilities fails with a clear message.
struct PluginServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin-serve",
        abstract: "Serve Docker's plugin API on a Unix socket (in-memory IPAM; no network driver yet)."
    )

    @Option(name: .long, help: "The Unix socket to listen on.")
    var socket: String = PluginServerConfiguration.defaultSocketPath

    @Option(name: .long, help: "The range pools come from when a network has no --subnet.")
    var defaultRange: String = AllocatorConfiguration.standardRange.description

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    func run() async throws {
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level: \"\(logLevel)\" is not one of trace, debug, info, notice, warning, error, critical")
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "weft.plugin")
        let range: IPv4Subnet
        do {
            range = try IPv4Subnet(parsing: defaultRange)
        } catch {
            throw ValidationError("--default-range: \(error)")
        }
        let allocator = LocalAddressAllocator(configuration: try AllocatorConfiguration(defaultRange: range))
        let router = PluginRouter(network: UnavailableNetworkDriver(), ipam: AllocatorIpamBackend(allocator: allocator))
        let server = PluginServer(
            configuration: PluginServerConfiguration(socketPath: socket), router: router, logger: logger)
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [server], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Stands in for the overlay driver until it exists: Docker can register the driver, and every network call
/// fails with an error that says why.
struct UnavailableNetworkDriver: NetworkDriverBackend {
    struct NotAvailable: Error, CustomStringConvertible {
        var description: String { "network driver not available yet (weft plugin-serve serves only IPAM)" }
    }

    func capabilities() async throws -> NetworkDriverCapabilities {
        NetworkDriverCapabilities(scope: .local, connectivityScope: .global)
    }

    func createNetwork(_ request: CreateNetworkRequest) async throws { throw NotAvailable() }
    func deleteNetwork(_ request: DeleteNetworkRequest) async throws { throw NotAvailable() }
    func createEndpoint(_ request: CreateEndpointRequest) async throws -> CreateEndpointResponse {
        throw NotAvailable()
    }
    func endpointOperationalInfo(_ request: EndpointOperInfoRequest) async throws -> EndpointOperInfoResponse {
        throw NotAvailable()
    }
    func deleteEndpoint(_ request: DeleteEndpointRequest) async throws { throw NotAvailable() }
    func join(_ request: JoinRequest) async throws -> JoinResponse { throw NotAvailable() }
    func leave(_ request: LeaveRequest) async throws { throw NotAvailable() }
}
