import CoreMetrics
import Logging
import Netlink
import Overlay
import ServiceLifecycle

/// Resilient paths, run by the daemon: probes every peer's VXLAN port through the probe namespace, chooses per peer
/// the direct path or a relay host (``PathSelector``), programs the choice into the networks' FDB entries, publishes
/// this host's view and relays in a signed path advert, and relays for the hosts that relay through this one
/// (``RelaySocket``).
actor PathService {
    struct Settings: Sendable {
        var relayPort: UInt16 = RelayRoutes.defaultPort
        var vxlanPort: UInt16 = 4789
        /// Relaying on (`--relay auto`) or off (probes still run, every peer is direct).
        var relay = true
        var holdDown: Double = 5
        /// Latency path selection (`--path-selection latency`).
        var latency = false
        var probeInterval: Duration = .milliseconds(300)
        /// An advert goes out at least this often, so that late joiners and relays learn it.
        var advertEvery: Double = 2
    }

    let cluster: ClusterState
    let driver: OverlayDriver
    let local: IPAddress
    let settings: Settings
    let logger: Logger
    let socket: RelaySocket
    private var paths = DirectPaths()
    private var selector: PathSelector
    private var probedPeers: Set<IPAddress>?
    private var lastAdvert: (at: Double, view: [IPAddress: Bool], relays: [IPAddress: IPAddress])?
    private var since: [IPAddress: ContinuousClock.Instant] = [:]
    private let start = ContinuousClock.now

    init(cluster: ClusterState, driver: OverlayDriver, local: IPAddress, settings: Settings, logger: Logger) throws {
        self.cluster = cluster
        self.driver = driver
        self.local = local
        self.settings = settings
        self.logger = logger
        self.selector = PathSelector(holdDown: settings.holdDown, latency: settings.latency ? PathSelector.LatencyPolicy() : nil)
        self.socket = try RelaySocket(local: local, port: settings.relayPort, vxlanPort: settings.vxlanPort)
    }

    private var now: Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private func seconds(_ instant: ContinuousClock.Instant) -> Double {
        let elapsed = instant - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    func run() async {
        socket.start()
        logger.info("resilient paths running", metadata: [
            "relay": "\(settings.relay ? "auto" : "off")", "relay port": "\(settings.relayPort)", "hold-down": "\(settings.holdDown) s",
            "path selection": "\(settings.latency ? "latency" : "off")"])
        await withTaskGroup(of: Void.self) { group in
            // A relayed host's advert changes what this host forwards for it: at once, not at the next tick.
            group.addTask { [cluster, socket, local] in
                for await _ in cluster.pathAdvertChanges { socket.update(await cluster.relayTable(local: local)) }
            }
            group.addTask {
                let clock = ContinuousClock()
                var deadline = clock.now
                while !Task.isCancelled {
                    await self.tick()
                    deadline = max(deadline.advanced(by: self.settings.probeInterval), clock.now.advanced(by: .milliseconds(50)))
                    try? await Task.sleep(until: deadline, clock: clock)
                }
            }
            await group.next()
            group.cancelAll()
        }
    }

    /// Back to direct everywhere, the probe namespace gone, the socket closed: nothing relayed is left behind.
    func stop() async {
        socket.stop()
        await driver.setRelays(RelayRoutes(via: [:], port: settings.relayPort))
        await driver.removeProbe()
        await driver.report([:])
    }


    private func tick() async {
        let members = await cluster.memberVTEPs()
        let names = Dictionary(members.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
        let peers = Set(members.values.filter { $0 != local && $0.isIPv4 })
        let current = now
        paths.retain(peers, now: current)
        if probedPeers != peers {
            do throws(DriverError) {
                try await driver.programProbe(peers: peers, relayPort: settings.relayPort)
                probedPeers = peers
            } catch {
                logger.warning("cannot set up the path probes", metadata: ["error": "\(error)"])
            }
        }
        // Answers first, each against the probe it answers (they arrive before the next probe leaves).
        for (peer, instant) in socket.takeAnswers() where paths.answered(by: peer, at: seconds(instant)) {
            logger.info("data path up", metadata: ["peer": "\(Self.label(peer, names))"])
        }
        for peer in peers.sorted() {
            guard let request = PathProbe.request(from: local, to: peer) else { continue }
            if paths.sent(to: peer, at: current) {
                logger.warning("data path down", metadata: [
                    "peer": "\(Self.label(peer, names))", "lost probes": "\(paths.paths[peer]?.misses ?? 0)"])
                Counter(label: "weft_path_datapath_down_total").increment()
            }
            socket.send(request, to: peer, port: settings.vxlanPort)
        }

        let adverts = await cluster.livePathAdverts()
        var views: [IPAddress: [IPAddress: PeerPathView]] = [:]
        for (vtep, advert) in adverts where vtep != local { views[vtep] = advert.view }
        let changes = selector.update(now: current, own: paths.paths, views: views, relayAllowed: settings.relay)
        for change in changes {
            since[change.peer] = .now
            let to = change.to.relay.map { "via \(Self.label($0, names))" } ?? "direct"
            let from = change.from.map { "via \(Self.label($0, names))" } ?? "direct"
            logger.notice("path changed", metadata: [
                "peer": "\(Self.label(change.peer, names))", "from": "\(from)", "to": "\(to)", "why": "\(change.to.reason)"])
            Counter(label: "weft_path_changes_total", dimensions: [("to", change.to.relay == nil ? "direct" : "relay")]).increment()
            EventJournal.shared.record("path", subject: names[change.peer] ?? "\(change.peer)", "\(from) → \(to): \(change.to.reason)")
        }
        let relays = selector.relays
        if !changes.isEmpty { await driver.setRelays(RelayRoutes(via: relays, port: settings.relayPort)) }

        let view = paths.paths.mapValues { PeerPathView(isUp: $0.isUp, rtt: $0.rtt) }
        let upDown = view.mapValues(\.isUp)
        if lastAdvert == nil || lastAdvert?.view != upDown || lastAdvert?.relays != relays || current - (lastAdvert?.at ?? 0) >= settings.advertEvery {
            let sequence = UInt64(ClusterState.wallClockMilliseconds())
            await cluster.publish(PathAdvert(owner: "", vtep: local, sequence: sequence, view: PathAdvert.trimmed(view), relays: relays))
            lastAdvert = (current, upDown, relays)
        }
        socket.update(await cluster.relayTable(local: local))
        await report(names: names)
    }

    /// A host as log lines name it: its gossip name, with its VTEP when that is not the name.
    static func label(_ vtep: IPAddress, _ names: [IPAddress: String]) -> String {
        guard let name = names[vtep], name != "\(vtep)" else { return "\(vtep)" }
        return "\(name) (\(vtep))"
    }

    private func report(names: [IPAddress: String]) async {
        var report: [IPAddress: PeerPathReport] = [:]
        for (peer, direct) in paths.paths {
            let choice = selector.choices[peer]
            report[peer] = PeerPathReport(
                dataPathUp: direct.isUp, dataPathRtt: direct.rtt, dataPathMisses: direct.misses, relay: choice?.relay,
                relayName: choice?.relay.flatMap { names[$0] }, since: since[peer] ?? start, reason: choice?.reason ?? "direct")
            let name = names[peer] ?? "\(peer)"
            Gauge(label: "weft_peer_datapath_up", dimensions: [("peer", name)]).record(direct.isUp ? 1 : 0)
            if let rtt = direct.rtt { Gauge(label: "weft_peer_datapath_rtt_seconds", dimensions: [("peer", name)]).record(rtt) }
            Gauge(label: "weft_peer_relayed", dimensions: [("peer", name)]).record(choice?.relay == nil ? 0 : 1)
        }
        await driver.report(report)
        let counts = socket.takeCounts()
        if counts.forwarded > 0 { Counter(label: "weft_relay_packets_total", dimensions: [("result", "forwarded")]).increment(by: counts.forwarded) }
        if counts.sendErrors > 0 { Counter(label: "weft_relay_packets_total", dimensions: [("result", "send_error")]).increment(by: counts.sendErrors) }
        for (reason, count) in counts.dropped {
            Counter(label: "weft_relay_packets_total", dimensions: [("result", reason.rawValue)]).increment(by: count)
        }
    }
}

/// Runs the path service in the daemon's service group; on shutdown it returns every peer to direct.
struct PathServiceRunner: Service {
    let service: PathService

    func run() async throws {
        await cancelWhenGracefulShutdown { await service.run() }
        await service.stop()
    }
}

extension Daemon {
    /// The path service for a gossiping host with an IPv4 underlay; nil otherwise (said in the log).
    func pathService(cluster: ClusterState?, driver: OverlayDriver, host: HostSettings) -> PathService? {
        guard let cluster else { return nil }
        guard host.advertiseAddress.isIPv4 else {
            logger.notice("no data-path probes or relays: they need an IPv4 underlay", metadata: ["advertise": "\(host.advertiseAddress)"])
            return nil
        }
        let paths = configuration.paths
        var settings = PathService.Settings()
        settings.relayPort = paths.relayPort
        settings.vxlanPort = host.vxlanPort
        settings.relay = paths.relay == .auto
        settings.holdDown = paths.holdDown
        settings.latency = paths.selection == .latency
        do {
            return try PathService(cluster: cluster, driver: driver, local: host.advertiseAddress, settings: settings, logger: logger)
        } catch {
            logger.error("no data-path probes or relays: \(error)")
            return nil
        }
    }
}
