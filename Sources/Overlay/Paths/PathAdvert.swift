import MessagePack
import Netlink

/// What a host publishes about its paths, in a signed gossip message of its own (leading byte ``magic``): its view
/// of its direct data paths (each peer up or down, with the RTT) and the peers it reaches through a relay. The relay
/// host forwards for it exactly what this names; the others choose relays from the views. Soft state: published on
/// every change and every few seconds, dropped when older than ``lifetime``.
public struct PathAdvert: Sendable, Equatable {
    public static let magic: UInt8 = 0xF8
    /// The most entries in a view or a relay list; a longer advert is refused whole.
    public static let maxEntries = 1024
    /// Seconds after which an advert no longer counts.
    public static let lifetime = 10.0

    /// The gossip node name of the publisher, and its VTEP.
    public var owner: String
    public var vtep: IPAddress
    /// Increases with every advert of the owner (wall-clock milliseconds): older ones are ignored.
    public var sequence: UInt64
    public var view: [IPAddress: PeerPathView]
    /// Peer VTEP → relay VTEP.
    public var relays: [IPAddress: IPAddress]
    public var signature: [UInt8] = []

    public init(owner: String, vtep: IPAddress, sequence: UInt64, view: [IPAddress: PeerPathView], relays: [IPAddress: IPAddress]) {
        self.owner = owner
        self.vtep = vtep
        self.sequence = sequence
        self.view = view
        self.relays = relays
    }

    public struct DecodingFailure: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { "undecodable path advert: \(reason)" }
    }

    /// What the owner signs: a domain tag and every field.
    public var signedBytes: [UInt8] { MessagePack.encode(.array([.string("weft-paths-1"), body])) }

    public func encoded() -> [UInt8] {
        [Self.magic] + MessagePack.encode(.array([body, .raw(signature)]))
    }

    private var body: MessagePackValue {
        let views: [MessagePackValue] = view.sorted { $0.key < $1.key }.map { peer, path in
            .array([.string(peer.description), .bool(path.isUp), .uint(path.rtt.map { UInt64(max(0, min($0, 3600)) * 1e6) } ?? 0)])
        }
        let relayed: [MessagePackValue] = relays.sorted { $0.key < $1.key }.map { .array([.string($0.key.description), .string($0.value.description)]) }
        return .array([.string(owner), .string(vtep.description), .uint(sequence), .array(views), .array(relayed)])
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodingFailure) -> PathAdvert {
        guard bytes.first == magic else { throw DecodingFailure(reason: "not a path advert") }
        guard bytes.count <= 64 * 1024 else { throw DecodingFailure(reason: "\(bytes.count) bytes") }
        let value: MessagePackValue
        do { value = try MessagePack.decode(Array(bytes.dropFirst())) } catch { throw DecodingFailure(reason: "\(error)") }
        guard case .array(let outer) = value, outer.count == 2, case .array(let fields) = outer[0], fields.count == 5,
            case .raw(let signature) = outer[1], let owner = text(fields[0]),
            let vtep = text(fields[1]).flatMap(IPAddress.init), let sequence = unsigned(fields[2]),
            case .array(let viewItems) = fields[3], case .array(let relayItems) = fields[4]
        else { throw DecodingFailure(reason: "unexpected shape") }
        guard viewItems.count <= maxEntries, relayItems.count <= maxEntries else {
            throw DecodingFailure(reason: "\(viewItems.count) view and \(relayItems.count) relay entries, more than \(maxEntries)")
        }
        var view: [IPAddress: PeerPathView] = [:]
        for item in viewItems {
            guard case .array(let parts) = item, parts.count == 3, let peer = text(parts[0]).flatMap(IPAddress.init),
                case .bool(let up) = parts[1], let micros = unsigned(parts[2])
            else { throw DecodingFailure(reason: "a malformed view entry") }
            view[peer] = PeerPathView(isUp: up, rtt: micros == 0 ? nil : Double(min(micros, 3_600_000_000)) / 1e6)
        }
        var relays: [IPAddress: IPAddress] = [:]
        for item in relayItems {
            guard case .array(let parts) = item, parts.count == 2, let peer = text(parts[0]).flatMap(IPAddress.init),
                let relay = text(parts[1]).flatMap(IPAddress.init)
            else { throw DecodingFailure(reason: "a malformed relay entry") }
            relays[peer] = relay
        }
        var advert = PathAdvert(owner: owner, vtep: vtep, sequence: sequence, view: view, relays: relays)
        advert.signature = signature
        return advert
    }

    /// A non-negative integer of any msgpack width.
    private static func unsigned(_ value: MessagePackValue) -> UInt64? {
        switch value {
        case .uint(let number): number
        case .int(let number) where number >= 0: UInt64(number)
        default: nil
        }
    }

    /// A msgpack string of at most 256 bytes of UTF-8.
    private static func text(_ value: MessagePackValue) -> String? {
        guard case .raw(let bytes) = value, bytes.count <= 256 else { return nil }
        return String(validating: bytes, as: UTF8.self)
    }
}
