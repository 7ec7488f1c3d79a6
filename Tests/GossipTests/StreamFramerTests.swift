@testable import Gossip
import Testing

/// The stream framer: decode once when the declared length is in, with work linear in the bytes.
@Suite("Stream framing")
struct StreamFramerTests {
    static func pushPull(nodes: Int, userState: Int) -> [UInt8] {
        let states = (0..<nodes).map { index in
            PushNodeState(
                name: "node-\(index)", addr: [10, 0, 0, UInt8(index % 250)], port: 7946,
                meta: SerfTags.encode(["role": "weft", "vtep": "10.0.0.\(index % 250)"]), incarnation: UInt32(index),
                state: .alive, vsn: [1, 5, 2, 2, 5, 5])
        }
        return PushPull(join: false, nodes: states, userState: Array(repeating: 0xab, count: userState)).encoded()
    }

    @Test("fed one byte at a time, every message form is found complete exactly at its last byte, in linear work",
          arguments: [false, true])
    func oneByteAtATime(encrypted: Bool) throws {
        let keyring = try Keyring(keys: [Array(repeating: 3, count: 16)])
        let config = WireConfig(keyring: encrypted ? keyring : nil, label: encrypted ? Array("weft".utf8) : [])
        let messages: [StreamMessage] = [
            .pushPull(PushPull(join: true, nodes: [], userState: [])),
            .ping(Ping(seqNo: 7, node: "n1", sourceAddr: [127, 0, 0, 1], sourcePort: 7946, sourceNode: "n0")),
            .ack(Ack(seqNo: 7)),
            .user(UserMessage(payload: Array(repeating: 1, count: 3000))),
            .error(ErrorResponse(error: "no")),
        ]
        var encoded = try messages.map { try StreamCodec.encode($0, config: config) }
        encoded.append(try StreamCodec.encode(inner: Self.pushPull(nodes: 400, userState: 50_000), config: config))
        encoded.append(try StreamCodec.encode(inner: Self.pushPull(nodes: 30, userState: 10), compress: true, config: config))
        for bytes in encoded {
            var framer = StreamFramer(limits: config.limits)
            var buffer: [UInt8] = []
            var found: Int?
            for byte in bytes {
                buffer.append(byte)
                found = try framer.messageLength(in: buffer)
                if found != nil { break }
            }
            #expect(found == bytes.count)
            #expect(buffer.count == bytes.count)
            #expect(framer.steps <= 3 * bytes.count + 16, "\(framer.steps) steps for \(bytes.count) bytes")
            _ = try StreamCodec.decode(buffer, config: config)
        }
    }

    @Test("a push/pull of 2,000 nodes fed in 1-byte chunks through the stream reader decodes once")
    func readerDecodesOnce() async throws {
        let bytes = Self.pushPull(nodes: 2000, userState: 100_000)
        let (inbound, sink) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        let stream = GossipStream(
            remote: GossipAddress(ip: .v4(IPv4Address(127, 0, 0, 1)), port: 1), inbound: inbound, write: { _ in }, close: {})
        for byte in bytes { sink.yield([byte]) }
        let clock = ContinuousClock()
        let started = clock.now
        let decoded = try await readStreamMessage(stream, config: WireConfig(), timeout: .seconds(30))
        let elapsed = clock.now - started
        guard case .pushPull(let pushPull) = decoded.message else {
            Issue.record("not a push/pull")
            return
        }
        #expect(pushPull.nodes.count == 2000)
        #expect(pushPull.userState.count == 100_000)
        // Re-decoding the growing buffer on each of the ~300,000 chunks took minutes; linear work takes well
        // under a few seconds even in a debug build on a shared machine.
        #expect(elapsed < .seconds(10), "\(elapsed)")
    }

    @Test("declared sizes over the limits are refused from the header alone")
    func capsFromHeader() throws {
        var limits = WireLimits()
        limits.maxPushPullNodes = 10
        limits.maxUserStateBytes = 1000
        limits.maxStreamFrameBytes = 5000
        for header in [PushPullHeader(nodes: 11, userStateLen: 0, join: false), PushPullHeader(nodes: 1, userStateLen: 1001, join: false)] {
            var framer = StreamFramer(limits: limits)
            #expect(throws: WireError.self) { try framer.messageLength(in: header.encoded()) }
        }
        var framer = StreamFramer(limits: limits)
        #expect(throws: WireError.lengthOutOfRange(field: "encrypted stream length", value: 5001, limit: 5000)) {
            try framer.messageLength(in: [0x0a, 0, 0, 0x13, 0x89])
        }
        // A 4 GiB string inside a ping is refused as soon as its length is read.
        var ping = StreamFramer(limits: limits)
        #expect(throws: WireError.self) { try ping.messageLength(in: [0x00, 0x81, 0xdb, 0xff, 0xff, 0xff, 0xff]) }
    }
}
