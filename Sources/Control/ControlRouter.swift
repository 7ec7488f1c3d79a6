import DockerPlugin
import FoundationEssentials
import Overlay

/// weft's control API, served as JSON on the control socket (root only, beside the plugin socket):
///
/// - `GET /status`, `GET /status/peers`, `GET /status/networks`, `GET /status/networks/{id, prefix or VNI}`
/// - `GET /diff`, `GET /diff/{network}`: the kernel compared with what weft wants
/// - `GET /events?after=N`: the events after sequence number N, as one batch
/// - `GET /events?follow[&after=N]`: the events as JSON lines as they happen (`weft events`), streamed until the
///   client leaves; bounded by ``EventWatchers``
/// - `POST /encryption/rotate`: a new WireGuard key for this host, made before the old one breaks
///
/// Failures are `{"Err": "..."}` with 400, 404 or 405, as on the plugin socket.
public struct ControlRouter: HTTPResponder {
    public let source: StatusSource
    /// Who follows the event journal live.
    public let watchers: EventWatchers

    /// - Parameter watchers: the bounds on `GET /events?follow`; by default 8 watchers, 256 events behind.
    public init(source: StatusSource, watchers: EventWatchers? = nil) {
        self.source = source
        self.watchers = watchers ?? EventWatchers(journal: source.journal)
    }

    /// The paths served, for error messages.
    public static let paths = ["/status", "/status/peers", "/status/networks", "/status/networks/NETWORK", "/diff", "/diff/NETWORK", "/events?after=N", "/events?follow", "/encryption/rotate"]

    public func respond(method: String, path: String, body: [UInt8]) async -> PluginResponse {
        let target = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? path
        let parts = target.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        if parts == ["encryption", "rotate"] {
            guard method == "POST" else { return Self.failure(405, "\(target) accepts only POST, not \(method)") }
            guard body.isEmpty else { return Self.failure(400, "\(target) takes no request body (\(body.count) bytes sent)") }
            do { return Self.reply(try await source.driver.rotateWireGuardKey()) } catch {
                if case .unavailable = error { return Self.failure(409, "\(error)") }
                return Self.failure(500, "\(error)")
            }
        }
        let known: Bool
        switch parts.count {
        case 1: known = parts[0] == "status" || parts[0] == "diff" || parts[0] == "events"
        case 2: known = parts[0] == "diff" || (parts[0] == "status" && (parts[1] == "peers" || parts[1] == "networks"))
        case 3: known = parts[0] == "status" && parts[1] == "networks"
        default: known = false
        }
        guard known else {
            return Self.failure(404, "unknown control path \(path): the control socket serves \(Self.paths.joined(separator: ", "))")
        }
        guard method == "GET" || method == "HEAD" else {
            return Self.failure(405, "\(target) accepts only GET, not \(method)")
        }
        guard body.isEmpty else { return Self.failure(400, "\(target) takes no request body (\(body.count) bytes sent)") }
        do throws(ControlError) {
            switch (parts[0], parts.count > 1 ? parts[1] : nil, parts.count > 2 ? parts[2] : nil) {
            case ("status", nil, _): return Self.reply(await source.status())
            case ("status", "peers", _): return Self.reply(await source.peers())
            case ("status", "networks", nil): return Self.reply(await source.networks())
            case ("status", "networks", let selector?): return Self.reply(try await source.network(selector))
            case ("diff", let selector, _): return Self.reply(try await source.diff(selector))
            case ("events", _, _):
                guard let query = EventsQuery(path: path) else {
                    return Self.failure(
                        400, "/events takes ?after=N (N the last sequence number seen, 0 for all kept) and/or ?follow")
                }
                guard query.follow else {
                    let (events, latest) = source.journal.events(after: query.after ?? 0)
                    return Self.reply(EventBatch(latest: latest, events: events))
                }
                guard let stream = watchers.follow(after: query.after) else {
                    return Self.failure(
                        503, "too many event watchers: \(watchers.maxWatchers) already follow this daemon's events")
                }
                var response = PluginResponse(status: 200, body: [], endpoint: nil)
                response.mediaType = "application/x-ndjson"
                response.stream = stream
                return response
            default: return Self.failure(404, "unknown control path \(path)")
            }
        } catch {
            switch error {
            case .unknownNetwork, .ambiguousNetwork: return Self.failure(404, "\(error)")
            case .kernel: return Self.failure(500, "\(error)")
            }
        }
    }

    /// The query of `/events`: `after=N` and `follow`, in any order; nil for anything else.
    struct EventsQuery {
        var after: UInt64?
        var follow = false

        init?(path: String) {
            guard let query = path.split(separator: "?", maxSplits: 1).dropFirst().first else { return }
            for item in query.split(separator: "&") {
                let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                switch (pair[0], pair.count > 1 ? pair[1] : nil) {
                case ("after", let value?):
                    guard let number = UInt64(value) else { return nil }
                    after = number
                case ("follow", nil), ("follow", "1"), ("follow", "true"): follow = true
                default: return nil
                }
            }
        }
    }

    static func reply(_ value: some Encodable) -> PluginResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return PluginResponse(status: 200, body: Array(try encoder.encode(value)), endpoint: nil)
        } catch {
            return failure(500, "cannot encode the reply: \(error)")
        }
    }

    static func failure(_ status: Int, _ message: String) -> PluginResponse {
        .failure(status: status, endpoint: nil, message: message)
    }
}
