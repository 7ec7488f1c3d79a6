import DockerPlugin
import Logging

/// The control socket's server: the plugin server's HTTP stack with the ``ControlRouter``, on its own socket,
/// mode 0600 and root only (`SO_PEERCRED`), so only an administrator reads the cluster's state.
public enum ControlServer {
    /// The default path, beside the runtime files.
    public static let defaultSocketPath = "/run/weft/control.sock"

    /// A server for `source` at `socketPath`; `allowedUserIDs` is `[0]` but in tests.
    public static func make(
        socketPath: String, source: StatusSource, allowedUserIDs: Set<UInt32> = [0], logger: Logger
    ) -> PluginServer {
        PluginServer(
            configuration: PluginServerConfiguration(
                socketPath: socketPath, socketPermissions: 0o600, maxBodySize: 4096, requestTimeout: .seconds(10),
                idleTimeout: .seconds(60), allowedPeerUserIDs: allowedUserIDs, name: "control API"),
            responder: ControlRouter(source: source, watchers: EventWatchers(journal: source.journal, logger: logger)),
            logger: logger)
    }
}
