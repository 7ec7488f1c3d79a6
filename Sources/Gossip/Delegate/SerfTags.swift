import MessagePack

/// serf's node metadata format (`serf.go encodeTags/decodeTags`): `ff` then a msgpack map of string to string.
/// With it, `serf members` shows this node's tags; an empty Meta would show as `role=`.
public enum SerfTags {
    /// The magic byte that marks protocol-3+ tags.
    public static let magic: UInt8 = 0xff

    /// Encodes `tags` as serf does (keys sorted here, for stable bytes; serf accepts any order).
    public static func encode(_ tags: [String: String]) -> [UInt8] {
        let pairs = tags.sorted { $0.key < $1.key }.map { MessagePackPair(.string($0.key), .string($0.value)) }
        return [magic] + MessagePack.encode(.map(pairs))
    }

    /// Decodes serf metadata; anything without the magic byte is a protocol-2 role (`{"role": meta}`), and a
    /// malformed map gives the pairs read before the error (as serf keeps what it decoded).
    public static func decode(_ meta: [UInt8]) -> [String: String] {
        guard meta.first == magic else { return ["role": String(decoding: meta, as: UTF8.self)] }
        guard case .map(let pairs)? = try? MessagePack.decode(Array(meta.dropFirst())) else { return [:] }
        var tags: [String: String] = [:]
        for pair in pairs {
            guard let key = pair.key.rawBytes, let value = pair.value.rawBytes else { continue }
            tags[String(decoding: key, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        }
        return tags
    }
}
