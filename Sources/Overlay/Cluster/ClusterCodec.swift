import MessagePack
import Netlink

/// What weft's hosts gossip, encoded as msgpack behind a leading `0xf7` byte (serf's own messages, which share
/// the channel in a mixed cluster, start with small type numbers).
///
/// A message is a list of table updates; a push/pull state is the same list holding every entry. Anything
/// that does not decode is dropped whole and counted by the caller, never trusted in part.
public enum ClusterCodec {
    public static let magic: UInt8 = 0xF7

    public enum Table: String, Sendable, Equatable {
        case endpoints = "e"
        case networks = "n"
        case claims = "b"
    }

    public enum Update: Sendable, Equatable {
        case endpoint(key: String, entry: ReplicatedEntry<EndpointAnnouncement>)
        case network(key: String, entry: ReplicatedEntry<NetworkAnnouncement>)
        case claim(key: String, entry: ReplicatedEntry<BlockClaim>)

        public var envelope: Envelope {
            switch self {
            case .endpoint(let key, let entry):
                Envelope(table: .endpoints, key: key, version: entry.version, owner: entry.owner, isTombstone: entry.isTombstone)
            case .network(let key, let entry):
                Envelope(table: .networks, key: key, version: entry.version, owner: entry.owner, isTombstone: entry.isTombstone)
            case .claim(let key, let entry):
                Envelope(table: .claims, key: key, version: entry.version, owner: entry.owner, isTombstone: entry.isTombstone)
            }
        }

        /// The same update carrying `signature`.
        public func withSignature(_ signature: [UInt8]) -> Update {
            switch self {
            case .endpoint(let key, var entry):
                entry.signature = signature
                return .endpoint(key: key, entry: entry)
            case .network(let key, var entry):
                entry.signature = signature
                return .network(key: key, entry: entry)
            case .claim(let key, var entry):
                entry.signature = signature
                return .claim(key: key, entry: entry)
            }
        }

        public var signature: [UInt8] {
            switch self {
            case .endpoint(_, let entry): entry.signature
            case .network(_, let entry): entry.signature
            case .claim(_, let entry): entry.signature
            }
        }
    }

    /// The fields every update has, whatever its table.
    public struct Envelope: Sendable, Equatable {
        public var table: Table
        public var key: String
        public var version: EntryVersion
        public var owner: String
        public var isTombstone: Bool
    }

    public struct DecodingFailure: Error, Sendable, Equatable, CustomStringConvertible {
        public let reason: String
        public var description: String { "undecodable cluster message: \(reason)" }
    }

    /// The most updates one message or state may carry; a longer list is refused whole.
    public static let maxUpdates = 200_000
    /// The length of an Ed25519 signature.
    public static let signatureLength = 64

    public static func encode(_ updates: [Update]) -> [UInt8] {
        [magic] + MessagePack.encode(.array(updates.map(value)))
    }

    public static func decode(_ bytes: [UInt8]) throws(DecodingFailure) -> [Update] {
        guard bytes.first == magic else { throw DecodingFailure(reason: "not a weft message") }
        let value: MessagePackValue
        do { value = try MessagePack.decode(Array(bytes.dropFirst())) } catch {
            throw DecodingFailure(reason: "\(error)")
        }
        guard case .array(let items) = value else { throw DecodingFailure(reason: "not a list of updates") }
        guard items.count <= maxUpdates else { throw DecodingFailure(reason: "\(items.count) updates, more than \(maxUpdates)") }
        var updates: [Update] = []
        updates.reserveCapacity(items.count)
        for item in items { updates.append(try update(item)) }
        return updates
    }

    /// What the owner signs: a domain tag, the table, the key, the version, the owner and the value, as msgpack
    /// written from the decoded fields (so any encoding of the same record verifies the same way).
    public static func signedBytes(_ update: Update) -> [UInt8] {
        let fields = parts(update)
        return MessagePack.encode(.array([
            .string(signatureDomain), .string(fields.table.rawValue), .string(fields.key), .uint(fields.version.clock),
            .string(fields.version.node), .string(fields.owner), fields.value ?? .null,
        ]))
    }

    private static let signatureDomain = "weft-record-1"

    private static func value(_ update: Update) -> MessagePackValue {
        let fields = parts(update)
        return .map([
            pair("T", .string(fields.table.rawValue)), pair("k", .string(fields.key)), pair("c", .uint(fields.version.clock)),
            pair("n", .string(fields.version.node)), pair("o", .string(fields.owner)), pair("v", fields.value ?? .null),
            pair("g", .raw(update.signature)),
        ])
    }

    private static func parts(_ update: Update)
        -> (table: Table, key: String, version: EntryVersion, owner: String, value: MessagePackValue?)
    {
        switch update {
        case .endpoint(let key, let entry):
            // "a6" only when there is one: an IPv4-only record encodes (and signs) exactly as before IPv6.
            return (.endpoints, key, entry.version, entry.owner, entry.value.map { endpoint in
                .map([
                    pair("v", .uint(UInt64(endpoint.vni.value))), pair("i", .string(endpoint.endpointID)),
                    pair("a", .uint(UInt64(endpoint.address.value))), pair("m", .raw(endpoint.mac.bytes)),
                    pair("h", .string(endpoint.host)), pair("t", .raw(endpoint.vtep.bytes)),
                ] + (endpoint.address6.map { [pair("a6", .raw($0.bytes))] } ?? []))
            })
        case .network(let key, let entry):
            return (.networks, key, entry.version, entry.owner, entry.value.map { network in
                var pairs = [
                    pair("v", .uint(UInt64(network.vni.value))), pair("s", .string(network.subnet.description)),
                    pair("h", .string(network.host)), pair("t", .raw(network.vtep.bytes)),
                ]
                if let subnet6 = network.subnet6 { pairs.append(pair("s6", .string(subnet6.description))) }
                // Only encrypted networks carry "w": a plain network's record encodes (and is signed) as before.
                if let wireGuard = network.wireGuard {
                    pairs.append(pair("w", .map([
                        pair("k", .raw(wireGuard.publicKey)), pair("a", .raw(wireGuard.address)),
                        pair("p", .uint(UInt64(wireGuard.port))),
                    ])))
                }
                return .map(pairs)
            })
        case .claim(let key, let entry):
            return (.claims, key, entry.version, entry.owner, entry.value.map { claim in
                .map([
                    pair("s", .string(claim.subnet.description)), pair("b", .uint(UInt64(claim.block))),
                    pair("h", .string(claim.host)),
                ])
            })
        }
    }

    private static func update(_ item: MessagePackValue) throws(DecodingFailure) -> Update {
        let fields = try map(item)
        let key = try string(fields, "k")
        let version = EntryVersion(clock: try uint(fields, "c"), node: try string(fields, "n"))
        let owner = try string(fields, "o")
        let value = fields["v"].flatMap { $0 == .null ? nil : $0 }
        let signature = try fields["g"].map { value throws(DecodingFailure) -> [UInt8] in
            guard let bytes = value.rawBytes, bytes.count <= signatureLength else {
                throw DecodingFailure(reason: "\(key) has a signature that is not \(signatureLength) bytes")
            }
            return bytes
        } ?? []
        switch try string(fields, "T") {
        case Table.endpoints.rawValue:
            let endpoint = try value.map { value throws(DecodingFailure) -> EndpointAnnouncement in
                let fields = try map(value)
                guard let vni = VNI(UInt32(truncatingIfNeeded: try uint(fields, "v"))),
                    let mac = MACAddress(bytes: try raw(fields, "m")), let vtep = IPAddress(bytes: try raw(fields, "t"))
                else { throw DecodingFailure(reason: "endpoint \(key) has an invalid VNI, MAC or VTEP") }
                let address = try uint(fields, "a")
                guard address <= UInt64(UInt32.max) else { throw DecodingFailure(reason: "endpoint \(key) address") }
                let address6 = try fields["a6"].map { value throws(DecodingFailure) -> IPv6Address in
                    guard let bytes = value.rawBytes, let address = IPv6Address(bytes: bytes) else {
                        throw DecodingFailure(reason: "endpoint \(key) has an IPv6 address that is not 16 bytes")
                    }
                    return address
                }
                return EndpointAnnouncement(
                    vni: vni, endpointID: try string(fields, "i"), address: IPv4Address(UInt32(address)), mac: mac,
                    host: try string(fields, "h"), vtep: vtep, address6: address6)
            }
            return .endpoint(key: key, entry: ReplicatedEntry(version: version, owner: owner, value: endpoint, signature: signature))
        case Table.networks.rawValue:
            let network = try value.map { value throws(DecodingFailure) -> NetworkAnnouncement in
                let fields = try map(value)
                guard let vni = VNI(UInt32(truncatingIfNeeded: try uint(fields, "v"))),
                    let vtep = IPAddress(bytes: try raw(fields, "t")),
                    let subnet = try? IPv4Subnet(parsing: try string(fields, "s"))
                else { throw DecodingFailure(reason: "network \(key) has an invalid VNI, subnet or VTEP") }
                let subnet6 = try fields["s6"].map { value throws(DecodingFailure) -> IPv6Subnet in
                    guard let bytes = value.rawBytes, bytes.count <= 64,
                        let subnet = try? IPv6Subnet(parsing: String(decoding: bytes, as: UTF8.self))
                    else { throw DecodingFailure(reason: "network \(key) has an invalid IPv6 subnet") }
                    return subnet
                }
                let wireGuard = try fields["w"].map { value throws(DecodingFailure) -> WireGuardAnnouncement in
                    let fields = try map(value)
                    let port = try uint(fields, "p")
                    return WireGuardAnnouncement(
                        publicKey: try raw(fields, "k"), address: try raw(fields, "a"), port: port <= UInt64(UInt16.max) ? UInt16(port) : 0)
                }
                return NetworkAnnouncement(
                    vni: vni, subnet: subnet, host: try string(fields, "h"), vtep: vtep, subnet6: subnet6, wireGuard: wireGuard)
            }
            return .network(key: key, entry: ReplicatedEntry(version: version, owner: owner, value: network, signature: signature))
        case Table.claims.rawValue:
            let claim = try value.map { value throws(DecodingFailure) -> BlockClaim in
                let fields = try map(value)
                guard let subnet = try? IPSubnet(parsing: try string(fields, "s")) else {
                    throw DecodingFailure(reason: "claim \(key) has an invalid subnet")
                }
                let block = try uint(fields, "b")
                let limit: UInt64 = switch subnet {
                case .v4(let subnet): UInt64(subnet.size)
                case .v6: UInt64(1) << UInt64(PoolRequest6.maxBlockBits)
                }
                guard block < limit else { throw DecodingFailure(reason: "claim \(key) names block \(block)") }
                return BlockClaim(subnet: subnet, block: Int(block), host: try string(fields, "h"))
            }
            return .claim(key: key, entry: ReplicatedEntry(version: version, owner: owner, value: claim, signature: signature))
        case let other:
            throw DecodingFailure(reason: "unknown table \(other)")
        }
    }

    private static func pair(_ key: String, _ value: MessagePackValue) -> MessagePackPair { MessagePackPair(.string(key), value) }

    private static func map(_ value: MessagePackValue) throws(DecodingFailure) -> [String: MessagePackValue] {
        guard case .map(let pairs) = value else { throw DecodingFailure(reason: "expected a map, got \(value.kindName)") }
        var fields: [String: MessagePackValue] = [:]
        for pair in pairs {
            guard let key = pair.key.rawBytes else { throw DecodingFailure(reason: "a map key is not a string") }
            fields[String(decoding: key, as: UTF8.self)] = pair.value
        }
        return fields
    }

    private static func raw(_ fields: [String: MessagePackValue], _ name: String) throws(DecodingFailure) -> [UInt8] {
        guard let bytes = fields[name]?.rawBytes else { throw DecodingFailure(reason: "field \(name) is missing or not bytes") }
        return bytes
    }

    private static func string(_ fields: [String: MessagePackValue], _ name: String) throws(DecodingFailure) -> String {
        String(decoding: try raw(fields, name), as: UTF8.self)
    }

    private static func uint(_ fields: [String: MessagePackValue], _ name: String) throws(DecodingFailure) -> UInt64 {
        switch fields[name] {
        case .uint(let value)?: return value
        case .int(let value)? where value >= 0: return UInt64(value)
        default: throw DecodingFailure(reason: "field \(name) is missing or not a non-negative integer")
        }
    }
}
