import MessagePack
import Testing
import TestSupport

@Suite("MessagePack writer: go-msgpack 0.5.5 forms")
struct WriterTests {
    @Test(
        "unsigned integers take the smallest form",
        arguments: [
            (UInt64(0), "00"), (127, "7f"), (128, "cc80"), (255, "ccff"), (256, "cd0100"), (7946, "cd1f0a"),
            (65535, "cdffff"), (65536, "ce00010000"), (4_294_967_295, "ceffffffff"),
            (4_294_967_296, "cf0000000100000000"), (UInt64.max, "cfffffffffffffffff"),
        ])
    func unsigned(value: UInt64, expected: String) {
        #expect(hexString(MessagePack.encode(.uint(value))) == expected)
    }

    @Test(
        "signed integers: non-negative as unsigned (UserStateLen 590 is cd024e), negative smallest signed",
        arguments: [
            (Int64(0), "00"), (590, "cd024e"), (300, "cd012c"), (200, "ccc8"), (-1, "ff"), (-32, "e0"), (-33, "d0df"),
            (-128, "d080"), (-129, "d1ff7f"), (-32768, "d18000"), (-32769, "d2ffff7fff"),
            (Int64(Int32.min), "d280000000"), (Int64(Int32.min) - 1, "d3ffffffff7fffffff"),
            (Int64.min, "d38000000000000000"),
        ])
    func signed(value: Int64, expected: String) {
        #expect(hexString(MessagePack.encode(.int(value))) == expected)
    }

    @Test("raw strings: fixstr below 32, then str16, then str32; never str8")
    func rawBoundaries() {
        #expect(MessagePack.encode(.raw([])) == [0xa0])
        #expect(MessagePack.encode(.raw(Array(repeating: 1, count: 31))).prefix(1) == [0xbf])
        let thirtyTwo = MessagePack.encode(.raw(Array(repeating: 1, count: 32)))
        #expect(Array(thirtyTwo.prefix(3)) == [0xda, 0x00, 0x20])
        #expect(thirtyTwo.count == 35)
        #expect(Array(MessagePack.encode(.raw(Array(repeating: 1, count: 255))).prefix(3)) == [0xda, 0x00, 0xff])
        #expect(Array(MessagePack.encode(.raw(Array(repeating: 1, count: 65535))).prefix(3)) == [0xda, 0xff, 0xff])
        let big = MessagePack.encode(.raw(Array(repeating: 1, count: 65536)))
        #expect(Array(big.prefix(5)) == [0xdb, 0x00, 0x01, 0x00, 0x00])
        #expect(big.count == 65541)
    }

    @Test("binary values are written as raw (old spec has no bin); a 40-byte []byte is str16 da 0028")
    func binaryAsRaw() {
        #expect(MessagePack.encode(.binary([1, 2, 3])) == [0xa3, 1, 2, 3])
        let forty = MessagePack.encode(.binary(Array(repeating: 7, count: 40)))
        #expect(Array(forty.prefix(3)) == [0xda, 0x00, 0x28])
    }

    @Test("nil, bools, floats")
    func scalars() {
        #expect(MessagePack.encode(.null) == [0xc0])
        #expect(MessagePack.encode(.bytes(nil)) == [0xc0])
        #expect(MessagePack.encode(.bytes([])) == [0xa0])
        #expect(MessagePack.encode(.bool(false)) == [0xc2])
        #expect(MessagePack.encode(.bool(true)) == [0xc3])
        #expect(hexString(MessagePack.encode(.double(1.5))) == "cb3ff8000000000000")
        #expect(hexString(MessagePack.encode(.float(1.5))) == "ca3fc00000")
    }

    @Test("container headers take the smallest form")
    func containers() {
        #expect(MessagePack.encode(.array([])) == [0x90])
        #expect(MessagePack.encode(.array(Array(repeating: .null, count: 15))).first == 0x9f)
        #expect(Array(MessagePack.encode(.array(Array(repeating: .null, count: 16))).prefix(3)) == [0xdc, 0x00, 0x10])
        #expect(Array(MessagePack.encode(.array(Array(repeating: .null, count: 65536))).prefix(5)) == [0xdd, 0, 1, 0, 0])
        let pairs = (0..<16).map { MessagePackPair(.uint(UInt64($0)), .null) }
        #expect(Array(MessagePack.encode(.map(pairs)).prefix(3)) == [0xde, 0x00, 0x10])
        #expect(MessagePack.encode(.map([])) == [0x80])
    }

    @Test("Go structs: keys sorted byte-wise, omitted fields leave the map")
    func goStructOrder() {
        let value = MessagePackValue.goStruct([
            ("SeqNo", .uint(7)), ("Node", .string("node-b")), ("SourceAddr", nil), ("Zed", .null), ("Addr", .bool(true)),
        ])
        guard case .map(let pairs) = value else {
            Issue.record("not a map")
            return
        }
        #expect(pairs.map { String(decoding: $0.key.rawBytes ?? [], as: UTF8.self) } == ["Addr", "Node", "SeqNo", "Zed"])
        // Upper-case letters sort before lower-case ones, byte-wise, as in Go.
        let mixed = MessagePackValue.goStruct([("a", .null), ("B", .null)])
        #expect(MessagePack.encode(mixed) == [0x82, 0xa1, 0x42, 0xc0, 0xa1, 0x61, 0xc0])
    }

    @Test("ext values use the fixext and ext forms")
    func ext() {
        #expect(MessagePack.encode(.ext(type: 5, data: [1])) == [0xd4, 5, 1])
        #expect(MessagePack.encode(.ext(type: -1, data: [1, 2, 3])) == [0xc7, 3, 0xff, 1, 2, 3])
        #expect(MessagePack.encode(.ext(type: 1, data: Array(repeating: 0, count: 16))).prefix(2) == [0xd8, 1])
    }
}
