import DockerPlugin
import Logging
import ServiceLifecycle

/// The metrics HTTP listener as a service: the plugin server's stack on TCP with the ``MetricsRouter``. A port
/// that cannot be bound (another weft in the same network namespace) costs the metrics, never the daemon: the
/// error is logged and the service ends (the daemon runs it with `successTerminationBehavior: .ignore`).
public struct MetricsListener: Service {
    public let server: PluginServer
    let logger: Logger

    public init(address: PluginServerConfiguration.TCPAddress, exporter: MetricsExporter, logger: Logger) {
        server = PluginServer(
            configuration: PluginServerConfiguration(
                maxBodySize: 4096, requestTimeout: .seconds(10), idleTimeout: .seconds(60), name: "metrics", tcpAddress: address),
            responder: MetricsRouter(exporter: exporter), logger: logger)
        self.logger = logger
    }

    public func run() async throws {
        let listener: PluginListener
        do {
            listener = try await server.bind()
        } catch {
            logger.error(
                "cannot listen for Prometheus: weft runs without metrics (--metrics-address, or none)",
                metadata: ["address": "\(server.configuration.tcpAddress.map { "\($0)" } ?? "-")", "error": "\(error)"])
            return
        }
        try await listener.serve()
    }
}
