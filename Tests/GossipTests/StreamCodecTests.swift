import Gossip
import MessagePack
import Testing
import TestSupport

@Suite("TCP streams: label → 0a framing and decryption → 09 decompression → message")
struct StreamCodecTests {
    static let keyring = try! Keyring(keys: [hex(Vectors.gcmKey)])

    static let pushPull = PushPull(
        join: true,
        nodes: [
            PushNodeState(
                name: "node-a", addr: Vectors.addrA, port: 7946, meta: Vectors.meta, incarnation: 1, state: .alive,
                vsn: Vectors.vsn),
            PushNodeState(
                name: "node-b", addr: [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2], port: 7947, meta: nil,
                incarnation: 9, state: .left, vsn: Vectors.vsn),
        ],
        userState: [0x02] + Array(repeating: 0x55, count: 589))

    static let messages: [StreamMessage] = [
        .pushPull(pushPull),
        .ping(Vectors.pingValue),
        .ack(Ack(seqNo: 7, payload: nil)),
        .user(UserMessage(payload: Array("hello".utf8))),
        .error(ErrorResponse(error: "boom")),
    ]

    @Test("push/pull layout: header, node states, raw user state (as serf sends its join)")
    func pushPullLayout() throws {
        let encoded = Self.pushPull.encoded()
        let header = PushPullHeader(nodes: 2, userStateLen: 590, join: true).encoded()
        #expect(Array(encoded.prefix(header.count)) == header)
        #expect(hexString(header).hasSuffix("cd024e"))
        #expect(Array(encoded.suffix(590)) == Self.pushPull.userState)
        #expect(try PushPull.decode(encoded) == Self.pushPull)
    }

    @Test("every message round-trips with every combination of compression, encryption and label")
    func roundTrips() throws {
        for message in Self.messages {
            for compress in [false, true] {
                for keyring in [nil, Self.keyring] {
                    for label in [[], Array("lbl".utf8)] as [[UInt8]] {
                        let config = WireConfig(keyring: keyring, label: label)
                        let stream = try StreamCodec.encode(message, compress: compress, config: config)
                        let decoded = try StreamCodec.decode(stream, config: config)
                        #expect(decoded.message == message)
                        #expect(decoded.wasCompressed == compress)
                        #expect(decoded.wasEncrypted == (keyring != nil))
                        #expect(decoded.label == label)
                        if keyring != nil {
                            #expect(try StreamCodec.frameLength(of: stream, config: config) == stream.count)
                        } else {
                            #expect(try StreamCodec.frameLength(of: stream, config: config) == nil)
                        }
                    }
                }
            }
        }
    }

    @Test("the stream's additional data binds the length header: changing it fails authentication")
    func headerIsAuthenticated() throws {
        let config = WireConfig(keyring: Self.keyring)
        var stream = try StreamCodec.encode(.ack(Ack(seqNo: 1)), config: config) + [0]
        stream[4] += 1  // claim one byte more; the extra byte is present
        #expect(throws: WireError.noKeyCouldDecrypt(keysTried: 1)) { try StreamCodec.decode(stream, config: config) }
    }

    @Test("encryption mismatches are refused both ways")
    func encryptionMismatch() throws {
        let plain = try StreamCodec.encode(.ping(Vectors.pingValue))
        #expect(throws: WireError.notEncrypted) { try StreamCodec.decode(plain, config: WireConfig(keyring: Self.keyring)) }
        let lax = WireConfig(keyring: Self.keyring, verifyIncoming: false)
        #expect(try StreamCodec.decode(plain, config: lax).message == .ping(Vectors.pingValue))
        #expect(throws: WireError.encryptedButNoKeyring) { try StreamCodec.decode(hex(Vectors.tcpNoLabel)) }
        let wrong = WireConfig(keyring: try Keyring(keys: [Array(repeating: 1, count: 16)]))
        #expect(throws: WireError.noKeyCouldDecrypt(keysTried: 1)) { try StreamCodec.decode(hex(Vectors.tcpNoLabel), config: wrong) }
    }

    @Test("an encrypted frame above 20 MiB is refused from its header alone")
    func hugeFrame() throws {
        let config = WireConfig(keyring: Self.keyring)
        let header: [UInt8] = [0x0a, 0xff, 0xff, 0xff, 0xff]
        #expect(throws: WireError.lengthOutOfRange(field: "encrypted stream length", value: 4_294_967_295, limit: 20 << 20)) {
            try StreamCodec.decode(header, config: config)
        }
        #expect(throws: WireError.self) { try StreamCodec.frameLength(of: header, config: config) }
        #expect(try StreamCodec.frameLength(of: [0x0a, 0x00], config: config) == nil)
    }

    @Test("a short read says it needs more input; the full stream then decodes")
    func incremental() throws {
        for config in [WireConfig(), WireConfig(keyring: Self.keyring)] {
            let stream = try StreamCodec.encode(.pushPull(Self.pushPull), compress: true, config: config)
            for length in [1, 5, 6, stream.count / 2, stream.count - 1] {
                #expect {
                    try StreamCodec.decode(Array(stream.prefix(length)), config: config)
                } throws: { error in
                    (error as? WireError)?.needsMoreInput == true
                }
            }
            #expect(try StreamCodec.decode(stream, config: config).message == .pushPull(Self.pushPull))
        }
        let plain = Self.pushPull.encoded()
        for length in 1..<plain.count {
            #expect {
                try StreamCodec.decode(Array(plain.prefix(length)))
            } throws: { error in
                (error as? WireError)?.needsMoreInput == true
            }
        }
    }

    @Test("push/pull header counts are bounded before allocating")
    func pushPullBounds() {
        func stream(nodes: MessagePackValue, userStateLen: MessagePackValue) -> [UInt8] {
            [0x06]
                + MessagePack.encode(
                    .map([
                        MessagePackPair(.string("Join"), .bool(false)), MessagePackPair(.string("Nodes"), nodes),
                        MessagePackPair(.string("UserStateLen"), userStateLen),
                    ]))
        }
        #expect(throws: WireError.lengthOutOfRange(field: "pushPullHeader.Nodes", value: 4_294_967_295, limit: 1 << 20)) {
            try StreamCodec.decode(stream(nodes: .uint(0xffff_ffff), userStateLen: .uint(0)))
        }
        #expect(throws: WireError.lengthOutOfRange(field: "pushPullHeader.Nodes", value: -1, limit: 1 << 20)) {
            try StreamCodec.decode(stream(nodes: .int(-1), userStateLen: .uint(0)))
        }
        #expect(
            throws: WireError.lengthOutOfRange(field: "pushPullHeader.UserStateLen", value: 1 << 30, limit: 20 << 20)
        ) {
            try StreamCodec.decode(stream(nodes: .uint(0), userStateLen: .uint(1 << 30)))
        }
        #expect(throws: WireError.truncated(context: "push/pull node states", needed: 1000, available: 0)) {
            try StreamCodec.decode(stream(nodes: .uint(1000), userStateLen: .uint(0)))
        }
        #expect(throws: WireError.truncated(context: "push/pull user state", needed: 5, available: 2)) {
            try StreamCodec.decode(stream(nodes: .uint(0), userStateLen: .uint(5)) + [1, 2])
        }
        #expect(
            throws: WireError.malformedBody(
                .pushPull, .fieldOutOfRange(field: "pushPullHeader.Nodes", type: "Int", value: "18446744073709551615"))
        ) {
            try StreamCodec.decode(stream(nodes: .uint(.max), userStateLen: .uint(0)))
        }
    }

    @Test("stream user messages are bounded too")
    func userBounds() throws {
        let header = UserMessageHeader(userMsgLen: 100).encoded()
        #expect(throws: WireError.truncated(context: "stream user message", needed: 100, available: 3)) {
            try StreamCodec.decode(header + [1, 2, 3])
        }
        let huge = UserMessageHeader(userMsgLen: 1 << 40).encoded()
        #expect(throws: WireError.lengthOutOfRange(field: "userMsgHeader.UserMsgLen", value: 1 << 40, limit: 20 << 20)) {
            try StreamCodec.decode(huge)
        }
        let exact = try StreamCodec.decode(UserMessage(payload: [1, 2, 3]).streamEncoded() + [9, 9])
        #expect(exact.message == .user(UserMessage(payload: [1, 2, 3])))
    }

    @Test("packet-only types and a second compression layer are refused on a stream")
    func wrongTypes() throws {
        #expect(throws: WireError.unexpectedMessageType(.compound, context: "on a stream")) {
            try StreamCodec.decode(try Compound.encode([Nack(seqNo: 1).encoded()]))
        }
        #expect(throws: WireError.unexpectedMessageType(.nack, context: "on a stream")) {
            try StreamCodec.decode(Nack(seqNo: 1).encoded())
        }
        let doubly = Compressed.wrap(Compressed.wrap(Vectors.pingValue.encoded()))
        #expect(throws: WireError.unexpectedMessageType(.compress, context: "on a stream")) {
            try StreamCodec.decode(doubly)
        }
        #expect(throws: WireError.empty(context: "stream")) { try StreamCodec.decode([]) }
        #expect(throws: WireError.empty(context: "stream after its label")) {
            try StreamCodec.decode([0xf4, 0x01, 0x61], config: WireConfig(label: [0x61]))
        }
    }
}
