import Overlay

/// Resilient paths as configured: whether peers may be reached through relay hosts, the relay port (where this
/// host's weft reads relayed packets and probe answers), and how long a healed direct path must stay up before
/// traffic returns to it.
public struct PathConfiguration: Sendable, Equatable {
    public enum Relay: String, Sendable, Equatable, CaseIterable {
        /// Relay through the best third host when a direct path fails.
        case auto
        /// Never relay; the data-path probes still run and are reported.
        case off
    }

    /// `--path-selection`: which paths a relay may replace.
    public enum Selection: String, Sendable, Equatable, CaseIterable {
        /// Only failed direct paths.
        case off
        /// Also direct paths much slower than the best relay path (``PathSelector/LatencyPolicy``).
        case latency
    }

    public var relay: Relay
    public var relayPort: UInt16
    /// Seconds.
    public var holdDown: Double
    public var selection: Selection

    public init(relay: Relay = .auto, relayPort: UInt16 = RelayRoutes.defaultPort, holdDown: Double = 5, selection: Selection = .off) {
        self.relay = relay
        self.relayPort = relayPort
        self.holdDown = holdDown
        self.selection = selection
    }
}
