import DockerPlugin
import Logging
import Netlink
import Overlay
import ServiceLifecycle

extension Daemon {
    /// The service-VIP server when a Docker socket is configured: `nft` from the system (the managed plugin's
    /// rootfs carries it); in a dry run the rulesets are printed.
    /// Without `nft` weft still runs, serving no VIPs, and says so.
    func serviceVIPServer(store: StateStore, host: HostSettings, backend: any NetlinkBackend) -> ServiceVIPServer? {
        guard let socket = configuration.dockerSocket else { return nil }
        let loader: any RulesetLoader
        if configuration.dryRun {
            loader = PrintingRulesetLoader(output: { print($0) })
        } else {
            do { loader = try NftRulesetLoader() } catch {
                logger.error("serving no swarm service VIPs: \(error)")
                return nil
            }
        }
        logger.info("serving swarm services' VIPs on weft networks", metadata: ["docker": "\(socket)"])
        return ServiceVIPServer(
            store: store, namespaceDirectory: host.namespaceDirectory, backend: backend,
            source: DockerAPIClient(socketPath: socket), loader: loader, logger: logger)
    }
}

/// Runs the VIP server in the daemon's service group; on shutdown it removes the VIPs it served.
struct ServiceVIPService: Service {
    let server: ServiceVIPServer

    func run() async throws {
        await cancelWhenGracefulShutdown { await server.run() }
    }
}
