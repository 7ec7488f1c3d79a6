import Gossip
import MessagePack
import Testing
import TestSupport

@Suite("UDP packets: label → decrypt → CRC → compress → compound → messages")
struct PacketCodecTests {
    static let key = hex(Vectors.gcmKey)
    static let otherKey: [UInt8] = Array(repeating: 7, count: 32)

    static let sample: [PacketMessage] = [
        .ping(Vectors.pingValue),
        .suspect(Vectors.suspectValue),
        .alive(Vectors.aliveValue),
        .dead(Dead(incarnation: 2, node: "node-a", from: "node-a")),
        .ack(Ack(seqNo: 3, payload: [1, 2, 3])),
        .nack(Nack(seqNo: 4)),
        .indirectPing(IndirectPing(seqNo: 5, target: [10, 0, 0, 9], port: 7946, node: "x", nack: false)),
        .user(UserMessage(payload: [0x01, 0x82, 0xa5])),
    ]

    @Test("the Appendix B gossip capture from serf (CRC + compound of two alives) decodes")
    func serfCapture() throws {
        let aliveB = Alive(
            incarnation: 1, node: "serf-b", addr: [127, 0, 0, 1], port: 7947,
            meta: hex("ff82a4726f6c65a3776562a26463a36c6162"), vsn: Vectors.vsn)
        let aliveA = Alive(
            incarnation: 1, node: "serf-a", addr: [127, 0, 0, 1], port: 7946, meta: hex("ff80"), vsn: Vectors.vsn)
        let compound = try Compound.encode([aliveB.encoded(), aliveA.encoded()])
        #expect(Array(compound.prefix(6)) == [0x07, 0x02, 0x00, 0x50, 0x00, 0x40])
        let packet = try PacketCodec.encode(compound, options: PacketOptions(checksum: true))
        let decoded = try PacketCodec.decode(packet)
        #expect(decoded.messages == [.alive(aliveB), .alive(aliveA)])
        #expect(decoded.hadChecksum)
        #expect(!decoded.wasEncrypted)
        #expect(try PacketCodec.decode(hex(Vectors.crcCompound)).messages == [.ping(Vectors.pingValue), .suspect(Vectors.suspectValue)])
    }

    @Test(
        "every layer combination round-trips",
        arguments: [false, true], [false, true])
    func layers(compress: Bool, checksum: Bool) throws {
        for label in [[], Array("cluster-a".utf8)] as [[UInt8]] {
            for keyring in [nil, try Keyring(keys: [Self.key])] {
                let config = WireConfig(keyring: keyring, label: label)
                let payload = try Compound.encode(Self.sample.map { $0.encoded() })
                let packet = try PacketCodec.encode(
                    payload, options: PacketOptions(compress: compress, checksum: checksum), config: config)
                let decoded = try PacketCodec.decode(packet, config: config)
                #expect(decoded.messages == Self.sample)
                #expect(decoded.hadChecksum == checksum)
                #expect(decoded.wasEncrypted == (keyring != nil))
                #expect(decoded.label == label)
                // The outermost layer comes last: label, then encryption, then CRC, then compression.
                let outer: UInt8 =
                    !label.isEmpty ? 0xf4 : keyring != nil ? 0x01 : checksum ? 0x0c : compress ? 0x09 : 0x07
                #expect(packet.first == outer)
            }
        }
    }

    @Test("compression is used on UDP only when it makes the payload smaller")
    func compressionOnlyWhenSmaller() throws {
        let tiny = Nack(seqNo: 1).encoded()
        #expect(try PacketCodec.encode(tiny, options: PacketOptions(compress: true)) == tiny)
        let repetitive = try Compound.encode(Array(repeating: Vectors.aliveValue.encoded(), count: 10))
        let packet = try PacketCodec.encode(repetitive, options: PacketOptions(compress: true))
        #expect(packet.first == MessageType.compress.rawValue)
        #expect(packet.count < repetitive.count)
        #expect(try PacketCodec.decode(packet).messages.count == 10)
    }

    @Test("decryption tries every key; the wrong key alone fails")
    func keyring() throws {
        let sender = WireConfig(keyring: try Keyring(keys: [Self.key]))
        let packet = try PacketCodec.encode(Nack(seqNo: 8).encoded(), config: sender)
        let rotated = WireConfig(keyring: try Keyring(keys: [Self.otherKey, Self.key]))
        #expect(try PacketCodec.decode(packet, config: rotated).messages == [.nack(Nack(seqNo: 8))])
        let wrong = WireConfig(keyring: try Keyring(keys: [Self.otherKey]))
        #expect(throws: WireError.noKeyCouldDecrypt(keysTried: 1)) { try PacketCodec.decode(packet, config: wrong) }
        // A flipped ciphertext bit fails authentication with every key.
        var tampered = packet
        tampered[20] ^= 0x01
        #expect(throws: WireError.noKeyCouldDecrypt(keysTried: 2)) { try PacketCodec.decode(tampered, config: rotated) }
    }

    @Test("encryption version 0 (PKCS#7 padded) and AES-192/256 keys round-trip")
    func versionsAndKeySizes() throws {
        for size in [16, 24, 32] {
            let keyring = try Keyring(keys: [Array(repeating: UInt8(size), count: size)])
            for version in [EncryptionVersion.v0, .v1] {
                for length in [1, 15, 16, 17, 100] {
                    let plaintext = Array(repeating: UInt8(length), count: length)
                    let sealed = try keyring.encrypt(plaintext, version: version)
                    #expect(sealed.count == length + version.overhead(forPlaintextCount: length))
                    #expect(try keyring.decrypt(sealed) == plaintext)
                }
            }
        }
        #expect(throws: WireError.invalidKeySize(20)) { try Keyring(keys: [Array(repeating: 0, count: 20)]) }
        #expect(throws: WireError.emptyKeyring) { try Keyring(keys: []) }
    }

    @Test("plaintext with a keyring: refused when verifying incoming, read as plaintext when not")
    func verifyIncoming() throws {
        let packet = Nack(seqNo: 2).encoded()
        let keyring = try Keyring(keys: [Self.key])
        #expect(throws: WireError.encryptedPayloadTooShort(length: packet.count, minimum: 29)) {
            try PacketCodec.decode(packet, config: WireConfig(keyring: keyring))
        }
        let lax = try PacketCodec.decode(packet, config: WireConfig(keyring: keyring, verifyIncoming: false))
        #expect(lax.messages == [.nack(Nack(seqNo: 2))])
        #expect(!lax.wasEncrypted)
        let unsupported = [UInt8(2)] + Array(repeating: 0, count: 40)
        #expect(throws: WireError.unsupportedEncryptionVersion(2)) {
            try PacketCodec.decode(unsupported, config: WireConfig(keyring: keyring))
        }
    }

    @Test("a bad CRC is refused")
    func badChecksum() {
        var packet = hex(Vectors.crcCompound)
        packet[packet.count - 1] ^= 0xff
        #expect {
            try PacketCodec.decode(packet)
        } throws: { error in
            guard case .checksumMismatch(let expected, _) = error as? WireError else { return false }
            return expected == 0xb951_4ca5
        }
    }

    @Test("labels: must match, may not be empty, may be skipped when configured")
    func labels() throws {
        let labelled = try PacketCodec.encode(Nack(seqNo: 1).encoded(), config: WireConfig(label: Array("a".utf8)))
        #expect(labelled == [0xf4, 0x01, 0x61] + Nack(seqNo: 1).encoded())
        #expect(throws: WireError.labelMismatch(received: Array("a".utf8), expected: Array("b".utf8))) {
            try PacketCodec.decode(labelled, config: WireConfig(label: Array("b".utf8)))
        }
        #expect(throws: WireError.labelMismatch(received: Array("a".utf8), expected: [])) {
            try PacketCodec.decode(labelled)
        }
        #expect(throws: WireError.invalidLabel("label header cannot be empty when present")) {
            try PacketCodec.decode([0xf4, 0x00, 0x0b])
        }
        #expect(throws: WireError.truncated(context: "label", needed: 7, available: 3)) {
            try PacketCodec.decode([0xf4, 0x05, 0x61])
        }
        let skip = WireConfig(label: Array("a".utf8), skipInboundLabelCheck: true)
        #expect(try PacketCodec.decode(Nack(seqNo: 1).encoded(), config: skip).label == Array("a".utf8))
        #expect(throws: WireError.self) { try PacketCodec.decode(labelled, config: skip) }
        #expect(throws: WireError.invalidLabel("256 bytes, longer than 255")) {
            try Label.add(Array(repeating: 0x61, count: 256), to: [0])
        }
    }

    @Test("more than 255 parts are split into several compounds; 256 in one is refused")
    func manyParts() throws {
        let parts = (0..<300).map { Nack(seqNo: UInt32($0)).encoded() }
        #expect(throws: WireError.compoundTooManyParts(count: 256, limit: 255)) {
            try Compound.encode(Array(parts.prefix(256)))
        }
        let messages = try Compound.encodeSplitting(parts)
        #expect(messages.count == 2)
        #expect(messages.map { Int($0[1]) } == [255, 45])
        let legacy = try Compound.encodeSplitting(parts, maxPartsPerMessage: Compound.maxPartsForLegacyPeers)
        #expect(legacy.map { Int($0[1]) } == [127, 127, 46])
        var seqNos: [UInt32] = []
        for message in messages {
            for case .nack(let nack) in try PacketCodec.decode(message).messages { seqNos.append(nack.seqNo) }
        }
        #expect(seqNos == (0..<300).map { UInt32($0) })
        #expect(throws: WireError.compoundPartTooLarge(index: 1, size: 65536)) {
            try Compound.encode([[0x08], [0x08] + Array(repeating: 0, count: 65535)])
        }
        #expect(throws: WireError.empty(context: "compound part 0")) { try Compound.encode([[]]) }
    }

    @Test("compound bounds: short length table, truncated parts, empty parts")
    func compoundBounds() throws {
        #expect(throws: WireError.compoundLengthsTruncated(parts: 5, available: 2)) {
            try PacketCodec.decode([0x07, 0x05, 0x00, 0x01])
        }
        #expect(throws: WireError.truncated(context: "compound part count", needed: 2, available: 1)) {
            try PacketCodec.decode([0x07])
        }
        // Two announced parts; the second runs past the end: dropped and counted, as memberlist does.
        let nack = Nack(seqNo: 1).encoded()
        let short = [0x07, 0x02, 0x00, UInt8(nack.count), 0x00, 0x40] + nack + [0x0b]
        let decoded = try PacketCodec.decode(short)
        #expect(decoded.messages == [.nack(Nack(seqNo: 1))])
        #expect(decoded.truncatedParts == 1)
        // A zero-length part (memberlist 0.2.2 panics on it) is an error naming the part.
        #expect(throws: WireError.compoundPart(index: 1, .empty(context: "message"))) {
            try PacketCodec.decode([0x07, 0x02, 0x00, UInt8(nack.count), 0x00, 0x00] + nack)
        }
        // A bad part fails the packet and names the part.
        #expect(throws: WireError.compoundPart(index: 0, .unknownMessageType(0x63))) {
            try PacketCodec.decode([0x07, 0x01, 0x00, 0x01, 0x63])
        }
        #expect(try PacketCodec.decode([0x07, 0x00]).messages.isEmpty)
    }

    @Test("wrappers may nest (compress in compound in compress) but only so deep")
    func nesting() throws {
        let inner = Compressed.wrap(try Compound.encode([Nack(seqNo: 1).encoded(), UserMessage(payload: [9]).packetEncoded()]))
        let outer = Compressed.wrap(try Compound.encode([inner, Nack(seqNo: 2).encoded()]))
        #expect(
            try PacketCodec.decode(outer).messages == [
                .nack(Nack(seqNo: 1)), .user(UserMessage(payload: [9])), .nack(Nack(seqNo: 2)),
            ])
        var bomb = Nack(seqNo: 3).encoded()
        for _ in 0..<9 { bomb = try Compound.encode([bomb]) }
        #expect(throws: WireError.self) { try PacketCodec.decode(bomb) }
        var limits = WireLimits()
        limits.maxNesting = 9
        #expect(try PacketCodec.decode(bomb, config: WireConfig(limits: limits)).messages == [.nack(Nack(seqNo: 3))])
        limits.maxNesting = 2
        #expect(throws: WireError.compoundPart(index: 0, .compoundPart(index: 0, .nestingTooDeep(limit: 2)))) {
            try PacketCodec.decode(bomb, config: WireConfig(limits: limits))
        }
    }

    @Test("compress wrapper: garbage after LZW, unknown algorithm, empty result, decompression bomb")
    func compressHostile() throws {
        let garbage = Compressed(algo: 0, buf: hex(Vectors.lzwAlive) + [0xff, 0xff]).encoded()
        #expect(throws: WireError.lzw(.trailingBytes(count: 2))) { try PacketCodec.decode(garbage) }
        let algo = Compressed(algo: 1, buf: hex(Vectors.lzwAlive)).encoded()
        #expect(throws: WireError.unknownCompressionAlgorithm(1)) { try PacketCodec.decode(algo) }
        let empty = Compressed(algo: 0, buf: [0x00, 0x03, 0x02]).encoded()
        #expect(throws: WireError.emptyDecompressedPayload) { try PacketCodec.decode(empty) }
        let missingEOF = Compressed(algo: 0, buf: Array(hex(Vectors.lzwAlive).dropLast(2))).encoded()
        #expect(throws: WireError.lzw(.truncated)) { try PacketCodec.decode(missingEOF) }
        let bomb = Compressed.wrap([0x08] + Array(repeating: 0, count: 200_000))
        var limits = WireLimits()
        limits.maxDecompressedBytes = 100_000
        limits.maxDecompressedPacketBytes = 1 << 20
        #expect(throws: WireError.lzw(.outputTooLarge(limit: 100_000))) {
            try PacketCodec.decode(bomb, config: WireConfig(limits: limits))
        }
        // The budget covers the whole packet, not each part.
        let twice = try Compound.encode([Compressed.wrap([0x08] + Array(repeating: 0, count: 60_000)), Compressed.wrap([0x08] + Array(repeating: 0, count: 60_000))])
        #expect(throws: WireError.compoundPart(index: 1, .lzw(.outputTooLarge(limit: 100_000 - 60_001)))) {
            try PacketCodec.decode(twice, config: WireConfig(limits: limits))
        }
    }

    @Test(
        "stream-only and unknown types are refused in packets",
        arguments: [0x06, 0x0a, 0x0d, 0x0c] as [UInt8])
    func wrongTypes(type: UInt8) {
        #expect(throws: WireError.unexpectedMessageType(MessageType(rawValue: type)!, context: "in a packet")) {
            try PacketCodec.decodeMessages([type, 0x80])
        }
    }

    @Test("empty and unknown packets")
    func emptyAndUnknown() {
        #expect(throws: WireError.empty(context: "packet")) { try PacketCodec.decode([]) }
        #expect(throws: WireError.unknownMessageType(0x63)) { try PacketCodec.decode([0x63, 0x00]) }
        #expect(throws: WireError.empty(context: "packet payload")) { try PacketCodec.encode([]) }
    }

    @Test("every truncation of a fully wrapped packet fails with a typed error")
    func everyPrefix() throws {
        let config = WireConfig(keyring: try Keyring(keys: [Self.key]), label: Array("l".utf8))
        let payload = try Compound.encode(Self.sample.map { $0.encoded() })
        let packet = try PacketCodec.encode(payload, options: PacketOptions(compress: true, checksum: true), config: config)
        for length in 0..<packet.count {
            #expect(throws: WireError.self) { try PacketCodec.decode(Array(packet.prefix(length)), config: config) }
        }
        let unencrypted = try PacketCodec.encode(payload, options: PacketOptions(compress: true, checksum: true))
        for length in 0..<unencrypted.count {
            #expect(throws: WireError.self) { try PacketCodec.decode(Array(unencrypted.prefix(length))) }
        }
    }

    @Test("errors read well")
    func descriptions() {
        #expect(
            WireError.checksumMismatch(expected: 0xb951_4ca5, computed: 0x1).description
                == "CRC mismatch: header says 0xb9514ca5, payload has 0x00000001")
        #expect(
            WireError.compoundPart(index: 2, .unknownMessageType(99)).description
                == "compound part 2: unknown message type 99")
        #expect(
            WireError.malformedBody(.alive, .fieldInvalidUTF8(field: "alive.Node")).description
                == "malformed alive message: msgpack: field alive.Node is not valid UTF-8")
    }
}
