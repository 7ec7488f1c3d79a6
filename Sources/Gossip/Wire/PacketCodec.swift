/// A message that can arrive in a UDP packet (alone or as a compound part), decoded.
public enum PacketMessage: Sendable, Hashable {
    case ping(Ping)
    case indirectPing(IndirectPing)
    case ack(Ack)
    case nack(Nack)
    case suspect(Suspect)
    case alive(Alive)
    case dead(Dead)
    case user(UserMessage)

    /// The message on the wire (type byte included), ready to send alone or as a compound part.
    public func encoded() -> [UInt8] {
        switch self {
        case .ping(let message): message.encoded()
        case .indirectPing(let message): message.encoded()
        case .ack(let message): message.encoded()
        case .nack(let message): message.encoded()
        case .suspect(let message): message.encoded()
        case .alive(let message): message.encoded()
        case .dead(let message): message.encoded()
        case .user(let message): message.packetEncoded()
        }
    }
}

/// A decoded UDP packet: its messages in order, and what wrapped them.
public struct DecodedPacket: Sendable, Hashable {
    /// The messages, compound parts flattened in order.
    public var messages: [PacketMessage]
    /// The label the packet carried (or ours when ``WireConfig/skipInboundLabelCheck`` applied); empty if none.
    public var label: [UInt8]
    /// Whether the packet was encrypted.
    public var wasEncrypted: Bool
    /// Whether the packet carried a CRC (which was checked).
    public var hadChecksum: Bool
    /// Compound parts that ran past the end of the packet and were dropped, as memberlist drops them.
    public var truncatedParts: Int
    /// The layers decoded, outermost first (label, encryption, CRC, then compound, compress and messages).
    public var layers: [WireLayer] = []
}

/// Options for wrapping an outgoing packet payload.
public struct PacketOptions: Sendable, Hashable {
    /// Compress with LZW, keeping the result only if strictly smaller (memberlist's UDP rule).
    public var compress: Bool
    /// Add the `0c` CRC header. Only for peers with PMax ≥ 5.
    public var checksum: Bool
    /// The encryption format when a keyring is configured.
    public var encryptionVersion: EncryptionVersion
    /// A fixed nonce for reproducible tests; random when `nil`.
    public var nonce: [UInt8]?

    /// Makes options; the defaults send the payload as it is (no compression, no CRC).
    public init(
        compress: Bool = false, checksum: Bool = false, encryptionVersion: EncryptionVersion = .v1,
        nonce: [UInt8]? = nil
    ) {
        self.compress = compress
        self.checksum = checksum
        self.encryptionVersion = encryptionVersion
        self.nonce = nonce
    }
}

/// Encodes and decodes whole UDP packets, with memberlist's layers in order (reference §4.1):
/// message or compound → compress (`09`) → CRC (`0c`) → encryption → label (`f4`).
public enum PacketCodec {
    /// Wraps `payload` (one message, or a compound) for sending: compression if it helps, CRC, encryption with
    /// the primary key (label as authenticated data), then the label header.
    public static func encode(
        _ payload: [UInt8], options: PacketOptions = PacketOptions(), config: WireConfig = WireConfig()
    ) throws(WireError) -> [UInt8] {
        try encodeLayered(payload, options: options, config: config).packet
    }

    /// ``encode(_:options:config:)``, with the layers of the packet, outermost first: each wrapper added, then
    /// the payload's own type (one message or a compound, not its parts).
    public static func encodeLayered(
        _ payload: [UInt8], options: PacketOptions = PacketOptions(), config: WireConfig = WireConfig()
    ) throws(WireError) -> (packet: [UInt8], layers: [WireLayer]) {
        guard let first = payload.first else { throw .empty(context: "packet payload") }
        var layers: [WireLayer] = []
        if let type = MessageType(rawValue: first) { layers.append(WireLayer(type, size: payload.count)) }
        var packet = payload
        if options.compress {
            let compressed = Compressed.wrap(packet)
            if compressed.count < packet.count {
                packet = compressed
                layers.append(WireLayer(.compress, size: packet.count))
            }
        }
        if options.checksum {
            packet = CRC32.wrap(packet)
            layers.append(WireLayer(.hasCRC, size: packet.count))
        }
        if let keyring = config.keyring {
            packet = try keyring.encrypt(
                packet, version: options.encryptionVersion, additionalData: config.label, nonce: options.nonce)
            layers.append(WireLayer(.encrypt, size: packet.count))
        }
        packet = try Label.add(config.label, to: packet)
        if !config.label.isEmpty { layers.append(WireLayer(.hasLabel, size: packet.count)) }
        return (packet, layers.reversed())
    }

    /// Decodes a received UDP packet: label → decryption → CRC → compress/compound (recursively) → messages.
    ///
    /// Never traps; every length is checked before use, decompression is refused without
    /// ``WireConfig/acceptCompressedPackets`` and otherwise bounded by ``WireLimits/maxDecompressedPacketBytes``
    /// (and ``WireLimits/maxDecompressedBytes``) over the whole packet, and wrappers nest at most
    /// ``WireLimits/maxNesting`` deep. One malformed compound part fails the whole packet, naming the part.
    public static func decode(_ packet: [UInt8], config: WireConfig = WireConfig()) throws(WireError) -> DecodedPacket {
        guard !packet.isEmpty else { throw .empty(context: "packet") }
        let (label, afterLabel) = try config.checkLabel(packet)
        var layers: [WireLayer] = []
        if packet.first == MessageType.hasLabel.rawValue { layers.append(WireLayer(.hasLabel, size: packet.count)) }
        var payload = afterLabel
        var wasEncrypted = false
        if let keyring = config.keyring {
            do {
                payload = try keyring.decrypt(afterLabel, additionalData: label)
                wasEncrypted = true
                layers.append(WireLayer(.encrypt, size: afterLabel.count))
            } catch {
                if config.verifyIncoming { throw error }
            }
        }
        var hadChecksum = false
        if payload.count >= 5, payload[0] == MessageType.hasCRC.rawValue {
            layers.append(WireLayer(.hasCRC, size: payload.count))
            payload = try CRC32.unwrap(payload)
            hadChecksum = true
        }
        var result = DecodedPacket(
            messages: [], label: label, wasEncrypted: wasEncrypted, hadChecksum: hadChecksum, truncatedParts: 0,
            layers: layers)
        var budget = config.acceptCompressedPackets
            ? min(config.limits.maxDecompressedBytes, config.limits.maxDecompressedPacketBytes) : nil
        try handle(payload, depth: 0, budget: &budget, limits: config.limits, into: &result)
        return result
    }

    /// Decodes a packet payload that is already unwrapped from label, encryption and CRC (memberlist's
    /// `handleCommand`): a single message, a compound or a compressed payload.
    public static func decodeMessages(
        _ payload: [UInt8], limits: WireLimits = WireLimits()
    ) throws(WireError) -> (messages: [PacketMessage], truncatedParts: Int) {
        var result = DecodedPacket(messages: [], label: [], wasEncrypted: false, hadChecksum: false, truncatedParts: 0)
        var budget: Int? = min(limits.maxDecompressedBytes, limits.maxDecompressedPacketBytes)
        try handle(payload, depth: 0, budget: &budget, limits: limits, into: &result)
        return (result.messages, result.truncatedParts)
    }

    /// `budget`: the decompressed bytes still allowed; `nil` refuses compressed payloads.
    private static func handle(
        _ message: [UInt8], depth: Int, budget: inout Int?, limits: WireLimits, into result: inout DecodedPacket
    ) throws(WireError) {
        guard let first = message.first else { throw .empty(context: "message") }
        guard let type = MessageType(rawValue: first) else { throw .unknownMessageType(first) }
        result.layers.append(WireLayer(type, size: message.count))
        switch type {
        case .compound:
            guard depth < limits.maxNesting else { throw .nestingTooDeep(limit: limits.maxNesting) }
            let compound = try Compound.decode(message)
            result.truncatedParts += compound.truncatedCount
            for (index, part) in compound.parts.enumerated() {
                do {
                    try handle(part, depth: depth + 1, budget: &budget, limits: limits, into: &result)
                } catch .compressionRefused {
                    throw .compressionRefused
                } catch {
                    throw .compoundPart(index: index, error)
                }
            }
        case .compress:
            guard let allowed = budget else { throw .compressionRefused }
            guard depth < limits.maxNesting else { throw .nestingTooDeep(limit: limits.maxNesting) }
            let payload = try Compressed.unwrap(message, maxOutputBytes: allowed, limits: limits)
            budget = allowed - payload.count
            try handle(payload, depth: depth + 1, budget: &budget, limits: limits, into: &result)
        case .ping:
            result.messages.append(.ping(try Ping.decode(message, limits: limits)))
        case .indirectPing:
            result.messages.append(.indirectPing(try IndirectPing.decode(message, limits: limits)))
        case .ack:
            result.messages.append(.ack(try Ack.decode(message, limits: limits)))
        case .nack:
            result.messages.append(.nack(try Nack.decode(message, limits: limits)))
        case .suspect:
            result.messages.append(.suspect(try Suspect.decode(message, limits: limits)))
        case .alive:
            result.messages.append(.alive(try Alive.decode(message, limits: limits)))
        case .dead:
            result.messages.append(.dead(try Dead.decode(message, limits: limits)))
        case .user:
            result.messages.append(.user(UserMessage(payload: Array(message.dropFirst()))))
        case .pushPull, .encrypt, .hasCRC, .error, .hasLabel:
            throw .unexpectedMessageType(type, context: "in a packet")
        }
    }
}
