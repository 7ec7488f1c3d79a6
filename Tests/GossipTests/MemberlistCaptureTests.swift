import Gossip
import Testing
import TestSupport

@Suite("real memberlist 0.2.2 traffic decodes, and re-encodes byte for byte")
struct MemberlistCaptureTests {
    /// Everything decoded from one capture, by kind.
    struct Seen {
        var packetMessages: [PacketMessage] = []
        var streamMessages: [StreamMessage] = []
        var checksummed = 0
        var compressedPackets = 0
        var compressedStreams = 0
    }

    static func decodeAll(_ records: [MemberlistCapture.Record], config: WireConfig) throws -> Seen {
        var seen = Seen()
        for record in records {
            let bytes = hex(record.hex)
            switch record.kind {
            case .packet:
                let packet = try PacketCodec.decode(bytes, config: config)
                #expect(packet.wasEncrypted == (config.keyring != nil))
                #expect(packet.truncatedParts == 0)
                if packet.hadChecksum { seen.checksummed += 1 }
                seen.packetMessages += packet.messages
            case .stream:
                let stream = try StreamCodec.decode(bytes, config: config)
                #expect(stream.wasEncrypted == (config.keyring != nil))
                if stream.wasCompressed { seen.compressedStreams += 1 }
                seen.streamMessages.append(stream.message)
            }
        }
        return seen
    }

    static func checkContents(_ seen: Seen) {
        let pings = seen.packetMessages.compactMap { if case .ping(let ping) = $0 { ping } else { nil } }
        let acks = seen.packetMessages.compactMap { if case .ack(let ack) = $0 { ack } else { nil } }
        let alives = seen.packetMessages.compactMap { if case .alive(let alive) = $0 { alive } else { nil } }
        let deads = seen.packetMessages.compactMap { if case .dead(let dead) = $0 { dead } else { nil } }
        let users = seen.packetMessages.compactMap { if case .user(let user) = $0 { user.payload } else { nil } }
        #expect(!pings.isEmpty)
        #expect(Set(pings.map(\.node)) == ["node-a", "node-b"])
        #expect(pings.allSatisfy { $0.sourceAddr == [127, 0, 0, 1] && [17946, 17947].contains($0.sourcePort) })
        // Every ack answers a ping that was sent.
        #expect(Set(acks.map(\.seqNo)).isSubset(of: Set(pings.map(\.seqNo))))
        #expect(acks.allSatisfy { $0.payload == nil })
        #expect(alives.contains { $0.node == "node-a" && $0.port == 17946 })
        #expect(alives.allSatisfy { $0.meta == [0xff, 0x80] && $0.vsn == [1, 5, 2, 2, 5, 5] && $0.addr == [127, 0, 0, 1] })
        #expect(deads.contains { $0.node == "node-b" && $0.isLeave })
        #expect(users == [Array("hello-udp".utf8)])

        let pushPulls = seen.streamMessages.compactMap { if case .pushPull(let p) = $0 { p } else { nil } }
        #expect(pushPulls.count == 2)
        #expect(pushPulls.allSatisfy { $0.join })
        #expect(Set(pushPulls.map { String(decoding: $0.userState, as: UTF8.self) }) == ["state-of-node-a", "state-of-node-b"])
        #expect(pushPulls.flatMap(\.nodes).allSatisfy { $0.state == .alive && $0.vsn == [1, 5, 2, 2, 5, 5] })
        #expect(seen.streamMessages.contains(.user(UserMessage(payload: Array("hello-tcp".utf8)))))
        // memberlist compresses every stream and guards gossip with a CRC (PMax 5).
        #expect(seen.compressedStreams == seen.streamMessages.count)
        #expect(seen.checksummed > 0)
    }

    @Test("plaintext capture: every packet and stream decodes to what the nodes did")
    func plaintext() throws {
        let seen = try Self.decodeAll(MemberlistCapture.plaintext, config: WireConfig())
        Self.checkContents(seen)
    }

    @Test("encrypted capture: decrypts with the key and decodes the same way; the wrong key fails")
    func encrypted() throws {
        let config = WireConfig(keyring: try Keyring(keys: [MemberlistCapture.key]))
        let seen = try Self.decodeAll(MemberlistCapture.encrypted, config: config)
        Self.checkContents(seen)
        let wrong = WireConfig(keyring: try Keyring(keys: [Array(repeating: 1, count: 16)]))
        for record in MemberlistCapture.encrypted {
            #expect(throws: WireError.self) {
                switch record.kind {
                case .packet: _ = try PacketCodec.decode(hex(record.hex), config: wrong)
                case .stream: _ = try StreamCodec.decode(hex(record.hex), config: wrong)
                }
            }
        }
    }

    /// Peels Go's layers one by one and checks that our encoder rebuilds each of them exactly.
    static func rebuild(_ payload: [UInt8]) throws {
        switch payload.first {
        case MessageType.hasCRC.rawValue:
            let inner = try CRC32.unwrap(payload)
            #expect(CRC32.wrap(inner) == payload)
            try rebuild(inner)
        case MessageType.compress.rawValue:
            let inner = try Compressed.unwrap(payload, maxOutputBytes: 1 << 20)
            #expect(Compressed.wrap(inner) == payload, "LZW output differs from Go's")
            try rebuild(inner)
        case MessageType.compound.rawValue:
            let parts = try Compound.decode(payload)
            #expect(try Compound.encode(parts.parts) == payload)
            for part in parts.parts { try rebuild(part) }
        case MessageType.pushPull.rawValue:
            #expect(try PushPull.decode(payload).encoded() == payload)
        case MessageType.user.rawValue:
            // Stream user messages carry a header; packet ones do not.
            if let stream = try? UserMessage.decodeStream(payload), stream.streamEncoded() == payload { return }
            #expect(try PacketCodec.decodeMessages(payload).messages.map { $0.encoded() } == [payload])
        default:
            let messages = try PacketCodec.decodeMessages(payload).messages
            #expect(messages.map { $0.encoded() } == [payload], "re-encoding differs: \(messages)")
        }
    }

    @Test("every plaintext record is rebuilt byte for byte by our encoders (CRC, LZW, compound, messages)")
    func byteExact() throws {
        for record in MemberlistCapture.plaintext {
            try Self.rebuild(hex(record.hex))
        }
    }
}
