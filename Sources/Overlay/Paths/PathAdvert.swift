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

    /// Equal fields and signature, however each was received.
    public static func == (lhs: PathAdvert, rhs: PathAdvert) -> Bool {
        (lhs.owner, lhs.vtep, lhs.sequence, lhs.signature) == (rhs.owner, rhs.vtep, rhs.sequence, rhs.signature)
            && lhs.view == rhs.view && lhs.relays == rhs.relays
    }

    public struct DecodingFailure: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { "undecodable path advert: \(reason)" }
    }

    /// What the owner signs: a domain tag and the encoded fields, exactly as they travel (so no value is
    /// re-encoded before it is checked).
    public var signedBytes: [UInt8] { Self.signedBytes(body: MessagePack.encode(body)) }

    static func signedBytes(body: [UInt8]) -> [UInt8] { Array("weft-paths-1".utf8) + body }

    /// The encoded fields as received, which ``signedBytes`` covers; empty for an advert made here.
    private var receivedBody: [UInt8] = []

    /// The bytes the signature must verify: the body as received, or as this host encodes it.
    public var verifiedBytes: [UInt8] { receivedBody.isEmpty ? signedBytes : Self.signedBytes(body: receivedBody) }

    public func encoded() -> [UInt8] {
        [Self.magic] + MessagePack.encode(.array([.raw(MessagePack.encode(body)), .raw(signature)]))
    }

    /// The view and the relays as packed 8-byte records (IPv4 only, as the probe): a peer, up or down, its RTT in
    /// microseconds (24 bits, 0 unmeasured); a peer and its relay. About 150 peers fit in one gossip packet.
    private var body: MessagePackValue {
        var views: [UInt8] = []
        for (peer, path) in view.sorted(by: { $0.key < $1.key }) where peer.isIPv4 {
            let micros = path.rtt.map { UInt32(max(1, min($0 * 1e6, Double(0xFF_FFFF)))) } ?? 0
            views += peer.bytes + [path.isUp ? 1 : 0, UInt8(truncatingIfNeeded: micros >> 16), UInt8(truncatingIfNeeded: micros >> 8), UInt8(truncatingIfNeeded: micros)]
        }
        var relayed: [UInt8] = []
        for (peer, relay) in relays.sorted(by: { $0.key < $1.key }) where peer.isIPv4 && relay.isIPv4 { relayed += peer.bytes + relay.bytes }
        return .array([.string(owner), .string(vtep.description), .uint(sequence), .raw(views), .raw(relayed)])
    }

    /// The view that fits one advert: every peer that is down, then those up by increasing RTT, `limit` in all.
    public static func trimmed(_ view: [IPAddress: PeerPathView], limit: Int = 140) -> [IPAddress: PeerPathView] {
        guard view.count > limit else { return view }
        let ordered = view.sorted { lhs, rhs in
            if lhs.value.isUp != rhs.value.isUp { return !lhs.value.isUp }
            return (lhs.value.rtt ?? .infinity, lhs.key) < (rhs.value.rtt ?? .infinity, rhs.key)
        }
        return Dictionary(uniqueKeysWithValues: ordered.prefix(limit).map { ($0.key, $0.value) })
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodingFailure) -> PathAdvert {
        guard bytes.first == magic else { throw DecodingFailure(reason: "not a path advert") }
        guard bytes.count <= 64 * 1024 else { throw DecodingFailure(reason: "\(bytes.count) bytes") }
        let value: MessagePackValue
        do { value = try MessagePack.decode(Array(bytes.dropFirst())) } catch { throw DecodingFailure(reason: "\(error)") }
        guard case .array(let outer) = value, outer.count == 2, case .raw(let bodyBytes) = outer[0],
            case .raw(let signature) = outer[1]
        else { throw DecodingFailure(reason: "unexpected shape") }
        let bodyValue: MessagePackValue
        do { bodyValue = try MessagePack.decode(bodyBytes) } catch { throw DecodingFailure(reason: "\(error)") }
        guard case .array(let fields) = bodyValue, fields.count == 5, let owner = text(fields[0]),
            let vtep = text(fields[1]).flatMap(IPAddress.init), let sequence = unsigned(fields[2]),
            case .raw(let views) = fields[3], case .raw(let relayed) = fields[4]
        else { throw DecodingFailure(reason: "unexpected fields") }
        guard views.count % 8 == 0, relayed.count % 8 == 0 else { throw DecodingFailure(reason: "a partial entry") }
        guard views.count / 8 <= maxEntries, relayed.count / 8 <= maxEntries else {
            throw DecodingFailure(reason: "\(views.count / 8) view and \(relayed.count / 8) relay entries, more than \(maxEntries)")
        }
        var view: [IPAddress: PeerPathView] = [:]
        for start in stride(from: 0, to: views.count, by: 8) {
            let micros = UInt32(views[start + 5]) << 16 | UInt32(views[start + 6]) << 8 | UInt32(views[start + 7])
            view[.v4(IPv4Address(bytes: views[start..<start + 4])!)] = PeerPathView(isUp: views[start + 4] != 0, rtt: micros == 0 ? nil : Double(micros) / 1e6)
        }
        var relays: [IPAddress: IPAddress] = [:]
        for start in stride(from: 0, to: relayed.count, by: 8) {
            relays[.v4(IPv4Address(bytes: relayed[start..<start + 4])!)] = .v4(IPv4Address(bytes: relayed[start + 4..<start + 8])!)
        }
        var advert = PathAdvert(owner: owner, vtep: vtep, sequence: sequence, view: view, relays: relays)
        advert.signature = signature
        advert.receivedBody = bodyBytes
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
