import Gossip
import MessagePack
import Testing
import TestSupport

@Suite("memberlist messages match the Go vectors byte for byte")
struct MessageVectorTests {
    @Test("ping with and without source")
    func ping() throws {
        #expect(hexString(Vectors.pingValue.encoded()) == Vectors.ping)
        #expect(try Ping.decode(hex(Vectors.ping)) == Vectors.pingValue)
        let bare = Ping(seqNo: 7, node: "node-b")
        #expect(hexString(bare.encoded()) == Vectors.pingNoSource)
        #expect(try Ping.decode(hex(Vectors.pingNoSource)) == bare)
    }

    @Test("indirect ping")
    func indirectPing() throws {
        let value = IndirectPing(
            seqNo: 9, target: [10, 0, 0, 2], port: 7946, node: "node-c", nack: true, sourceAddr: Vectors.addrA,
            sourcePort: 7946, sourceNode: "node-a")
        #expect(hexString(value.encoded()) == Vectors.indirectPing)
        #expect(try IndirectPing.decode(hex(Vectors.indirectPing)) == value)
    }

    @Test("ack: nil payload is c0, empty payload a0, and decoding keeps the difference")
    func ack() throws {
        #expect(hexString(Ack(seqNo: 7, payload: nil).encoded()) == Vectors.ackNil)
        #expect(hexString(Ack(seqNo: 7, payload: []).encoded()) == Vectors.ackEmpty)
        #expect(try Ack.decode(hex(Vectors.ackNil)) == Ack(seqNo: 7, payload: nil))
        #expect(try Ack.decode(hex(Vectors.ackEmpty)) == Ack(seqNo: 7, payload: []))
    }

    @Test("a 40-byte []byte is str16: the file's truncated line is a prefix of Go's full encoding")
    func fortyBytes() throws {
        let ack = Ack(seqNo: 7, payload: Array(repeating: 0x41, count: 40))
        let encoded = ack.encoded()
        #expect(hexString(encoded) == Vectors.ackFortyBytes)
        #expect(hexString(encoded).hasPrefix(Vectors.fortyBytePrefix))
        #expect(try Ack.decode(encoded) == ack)
    }

    @Test("suspect, alive (with and without meta), dead, nack, err")
    func gossip() throws {
        #expect(hexString(Vectors.suspectValue.encoded()) == Vectors.suspect)
        #expect(try Suspect.decode(hex(Vectors.suspect)) == Vectors.suspectValue)

        #expect(hexString(Vectors.aliveValue.encoded()) == Vectors.alive)
        #expect(try Alive.decode(hex(Vectors.alive)) == Vectors.aliveValue)
        var nilMeta = Vectors.aliveValue
        nilMeta.meta = nil
        #expect(hexString(nilMeta.encoded()) == Vectors.aliveNilMeta)
        #expect(try Alive.decode(hex(Vectors.aliveNilMeta)) == nilMeta)

        let dead = Dead(incarnation: 2, node: "node-a", from: "node-a")
        #expect(dead.isLeave)
        #expect(hexString(dead.encoded()) == Vectors.deadLeave)
        #expect(try Dead.decode(hex(Vectors.deadLeave)) == dead)

        #expect(hexString(Nack(seqNo: 9).encoded()) == Vectors.nack)
        #expect(try Nack.decode(hex(Vectors.nack)) == Nack(seqNo: 9))

        #expect(hexString(ErrorResponse(error: "boom").encoded()) == Vectors.err)
        #expect(try ErrorResponse.decode(hex(Vectors.err)) == ErrorResponse(error: "boom"))
    }

    @Test("push/pull header, node state, user message header")
    func stream() throws {
        let header = PushPullHeader(nodes: 1, userStateLen: 300, join: true)
        #expect(hexString(header.encoded()) == Vectors.pushPullHeader)
        #expect(try PushPullHeader.decode(hex(Vectors.pushPullHeader)) == header)
        let bigger = PushPullHeader(nodes: 200, userStateLen: 70000, join: false)
        #expect(hexString(bigger.encoded()) == Vectors.pushPullHeader200)

        let state = PushNodeState(
            name: "node-a", addr: Vectors.addrA, port: 7946, meta: Vectors.meta, incarnation: 1, state: .alive,
            vsn: Vectors.vsn)
        #expect(hexString(state.encoded()) == Vectors.pushNodeState)
        var reader = MessagePackReader(hex(Vectors.pushNodeState))
        #expect(try PushNodeState.decodeBody(from: &reader, in: .pushPull) == state)

        var edges = MessagePackReader(hex(Vectors.pushNodeStateEdges))
        let decodedEdges = try PushNodeState.decodeBody(from: &edges, in: .pushPull)
        #expect(
            decodedEdges
                == PushNodeState(name: "n", addr: [], port: 0, meta: nil, incarnation: .max, state: .left, vsn: []))
        #expect(decodedEdges.state.description == "left")
        // The one difference from Go: an empty address is written as nil (c0) rather than a0; Go reads both as nil.
        #expect(
            hexString(decodedEdges.encoded())
                == Vectors.pushNodeStateEdges.replacing("a441646472a0", with: "a441646472c0"))

        #expect(hexString(UserMessageHeader(userMsgLen: 5).encoded()) == Vectors.userMsgHeader)
        #expect(try UserMessageHeader.decode(hex(Vectors.userMsgHeader)) == UserMessageHeader(userMsgLen: 5))
    }

    @Test("decoding is lenient: keys in any order, str8/bin forms, unknown keys, positional arrays")
    func lenient() throws {
        // An alive with shuffled keys, bin8 address, str8 name, u32 port, an unknown key and trailing bytes.
        let value = MessagePackValue.map([
            MessagePackPair(.string("Vsn"), .binary(Vectors.vsn)),
            MessagePackPair(.string("Extra"), .array([.double(1.5), .map([])])),
            MessagePackPair(.string("Port"), .uint(7946)),
            MessagePackPair(.string("Node"), .string("node-a")),
            MessagePackPair(.string("Addr"), .binary(Vectors.addrA)),
            MessagePackPair(.string("Incarnation"), .int(1)),
            MessagePackPair(.string("Meta"), .raw(Vectors.meta)),
        ])
        var bytes = [MessageType.alive.rawValue] + MessagePack.encode(value)
        bytes += [0xde, 0xad]
        #expect(try Alive.decode(bytes) == Vectors.aliveValue)
        // str8 for the node name (0xd9) is accepted too.
        let str8Ping: [UInt8] = [0x00, 0x82, 0xa4] + Array("Node".utf8) + [0xd9, 0x06] + Array("node-b".utf8)
            + [0xa5] + Array("SeqNo".utf8) + [0xce, 0, 0, 0, 7]
        #expect(try Ping.decode(str8Ping) == Ping(seqNo: 7, node: "node-b"))
        // A struct sent as an array is positional in Go declaration order.
        let positional = [MessageType.suspect.rawValue]
            + MessagePack.encode(.array([.uint(3), .string("node-b"), .string("node-a")]))
        #expect(try Suspect.decode(positional) == Vectors.suspectValue)
    }

    @Test("malformed bodies give typed errors that name the message and field")
    func malformed() {
        #expect(throws: WireError.empty(context: "ping message")) { try Ping.decode([]) }
        #expect(throws: WireError.unexpectedMessageType(.ack, context: "where a ping message was expected")) {
            try Ping.decode(hex(Vectors.ackNil))
        }
        #expect(throws: WireError.unknownMessageType(0x63)) { try Ping.decode([0x63]) }
        let badPort = [MessageType.alive.rawValue]
            + MessagePack.encode(.map([MessagePackPair(.string("Port"), .uint(70000))]))
        #expect(
            throws: WireError.malformedBody(
                .alive, .fieldOutOfRange(field: "alive.Port", type: "UInt16", value: "70000"))
        ) { try Alive.decode(badPort) }
        #expect(
            throws: WireError.malformedBody(.ping, .lengthExceedsInput(offset: 1, length: 4_294_967_295, remaining: 0))
        ) { try Ping.decode([0x00, 0xdd, 0xff, 0xff, 0xff, 0xff]) }
        let deep = [UInt8(0x00)] + Array(repeating: 0x91, count: 100) + [0xc0]
        #expect(throws: WireError.malformedBody(.ping, .tooDeep(offset: 33, limit: 32))) { try Ping.decode(deep) }
        #expect(throws: WireError.malformedBody(.nack, .notAStruct(type: "nackResp", found: "uint"))) {
            try Nack.decode([0x0b, 0x05])
        }
        let truncated = Array(hex(Vectors.alive).dropLast(3))
        #expect(throws: WireError.self) { try Alive.decode(truncated) }
    }

    @Test("every message type byte has the wire number from net.go")
    func typeNumbers() {
        let numbers = MessageType.allCases.map(\.rawValue)
        #expect(numbers == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 244])
    }
}
