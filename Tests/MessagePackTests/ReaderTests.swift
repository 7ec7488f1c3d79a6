import MessagePack
import Testing

@Suite("MessagePack reader: lenient and hostile-input safe")
struct ReaderTests {
    static let roundTripValues: [MessagePackValue] = [
        .null, .bool(true), .bool(false), .uint(0), .uint(127), .uint(128), .uint(65536), .uint(.max),
        .int(-1), .int(-33), .int(-200), .int(-40000), .int(Int64(Int32.min) - 1), .int(.min),
        .float(3.25), .double(-0.5), .raw([]), .raw(Array("node-a".utf8)), .raw(Array(repeating: 9, count: 40)),
        .array([]), .array([.uint(1), .string("x"), .array([.null])]),
        .map([MessagePackPair(.string("b"), .uint(1)), MessagePackPair(.string("a"), .map([]))]),
        .ext(type: 3, data: [1, 2]),
    ]

    @Test("values round-trip byte for byte", arguments: roundTripValues)
    func roundTrip(value: MessagePackValue) throws {
        let bytes = MessagePack.encode(value)
        let decoded = try MessagePack.decode(bytes)
        #expect(decoded == value)
        #expect(MessagePack.encode(decoded) == bytes)
    }

    @Test("large values round-trip (str32, array16, ext16)")
    func largeRoundTrip() throws {
        let values: [MessagePackValue] = [
            .raw(Array(repeating: 1, count: 70000)), .array(Array(repeating: .uint(1), count: 300)),
            .ext(type: -7, data: Array(repeating: 1, count: 300)),
        ]
        for value in values {
            let bytes = MessagePack.encode(value)
            #expect(try MessagePack.decode(bytes) == value)
        }
    }

    @Test("new-spec str8 and bin8/16/32 are accepted")
    func newSpecForms() throws {
        #expect(try MessagePack.decode([0xd9, 0x02, 0x61, 0x62]) == .raw([0x61, 0x62]))
        #expect(try MessagePack.decode([0xc4, 0x01, 0xff]) == .binary([0xff]))
        #expect(try MessagePack.decode([0xc5, 0x00, 0x01, 0xfe]) == .binary([0xfe]))
        #expect(try MessagePack.decode([0xc6, 0x00, 0x00, 0x00, 0x00]) == .binary([]))
        // str8 read, raw written: re-encoding gives the old-spec form go-msgpack writes.
        #expect(MessagePack.encode(try MessagePack.decode([0xd9, 0x01, 0x61])) == [0xa1, 0x61])
    }

    @Test("every integer width is accepted")
    func integerWidths() throws {
        #expect(try MessagePack.decode([0xd0, 0x05]) == .int(5))
        #expect(try MessagePack.decode([0xd1, 0xff, 0xfe]) == .int(-2))
        #expect(try MessagePack.decode([0xd2, 0x00, 0x00, 0x01, 0x00]) == .int(256))
        #expect(try MessagePack.decode([0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) == .int(-1))
        #expect(try MessagePack.decode([0xcc, 0x05]) == .uint(5))
        #expect(try MessagePack.decode([0xcf, 0, 0, 0, 0, 0, 0, 0, 9]) == .uint(9))
    }

    @Test(
        "huge declared lengths are refused before allocating",
        arguments: [
            [0xdd, 0xff, 0xff, 0xff, 0xff], [0xdb, 0xff, 0xff, 0xff, 0xff], [0xdf, 0xff, 0xff, 0xff, 0xff],
            [0xc6, 0xff, 0xff, 0xff, 0xff], [0xc9, 0xff, 0xff, 0xff, 0xff, 0x01], [0xdc, 0xff, 0xff],
            [0xde, 0x00, 0x02, 0xc0, 0xc0, 0xc0],
        ] as [[UInt8]])
    func hugeLengths(bytes: [UInt8]) {
        #expect {
            _ = try MessagePack.decode(bytes)
        } throws: { error in
            guard case .lengthExceedsInput(let offset, _, _) = error as? MessagePackError else { return false }
            return offset == 0
        }
    }

    @Test("a declared length is checked exactly: one byte short fails, exact succeeds")
    func exactLength() throws {
        #expect(throws: MessagePackError.lengthExceedsInput(offset: 0, length: 3, remaining: 2)) {
            try MessagePack.decode([0xa3, 0x61, 0x62])
        }
        #expect(try MessagePack.decode([0xa3, 0x61, 0x62, 0x63]) == .string("abc"))
    }

    @Test(
        "truncated input is a typed error, never a trap",
        arguments: [[], [0xcd, 0x01], [0xcb, 0, 0], [0x92, 0x01], [0x81, 0xa1, 0x61], [0xd3], [0xc7, 0x01], [0xd4, 0x01]]
            as [[UInt8]])
    func truncated(bytes: [UInt8]) {
        #expect {
            _ = try MessagePack.decode(bytes)
        } throws: { error in
            switch error as? MessagePackError {
            case .truncated, .lengthExceedsInput: true
            default: false
            }
        }
    }

    @Test("every prefix of a valid encoding fails cleanly")
    func everyPrefix() throws {
        let value = MessagePackValue.map([
            MessagePackPair(.string("Vec"), .array([.double(1), .double(-2), .float(3)])),
            MessagePackPair(.string("Name"), .raw(Array(repeating: 0x41, count: 40))),
            MessagePackPair(.string("Big"), .uint(1 << 40)),
        ])
        let bytes = MessagePack.encode(value)
        for length in 0..<bytes.count {
            #expect(throws: MessagePackError.self) { try MessagePack.decode(Array(bytes.prefix(length))) }
        }
        #expect(try MessagePack.decode(bytes) == value)
    }

    @Test("nesting is limited: the limit itself is fine, one more level is refused")
    func depth() throws {
        let limit = MessagePackReader.defaultMaxDepth
        let atLimit = Array(repeating: UInt8(0x91), count: limit) + [0xc0]
        _ = try MessagePack.decode(atLimit)
        let beyond = Array(repeating: UInt8(0x91), count: limit + 1) + [0xc0]
        #expect(throws: MessagePackError.tooDeep(offset: limit, limit: limit)) { try MessagePack.decode(beyond) }
        let mapBomb: [UInt8] = Array(repeating: [0x81, 0xc0] as [UInt8], count: 100_000).flatMap { $0 }
        #expect(throws: MessagePackError.tooDeep(offset: 2 * limit, limit: limit)) { try MessagePack.decode(mapBomb) }
        let custom = Array(repeating: UInt8(0x91), count: 4) + [0xc0]
        #expect(throws: MessagePackError.tooDeep(offset: 3, limit: 3)) { try MessagePack.decode(custom, maxDepth: 3) }
    }

    @Test("0xc1 is never valid")
    func invalidFormat() {
        #expect(throws: MessagePackError.invalidFormat(offset: 1, byte: 0xc1)) { try MessagePack.decode([0x91, 0xc1]) }
    }

    @Test("whole-buffer decode rejects trailing bytes; the sequential reader reads on")
    func trailing() throws {
        #expect(throws: MessagePackError.trailingBytes(offset: 1, count: 2)) { try MessagePack.decode([0x01, 0x02, 0x03]) }
        var reader = MessagePackReader([0x01, 0xa1, 0x61, 0xff, 0xee])
        #expect(try reader.read() == .uint(1))
        #expect(try reader.read() == .string("a"))
        #expect(reader.remainingCount == 2)
        #expect(try reader.readRawBytes(count: 2) == [0xff, 0xee])
        #expect(throws: MessagePackError.truncated(offset: 5)) { try reader.read() }
        #expect(throws: MessagePackError.self) { try reader.readRawBytes(count: 1) }
    }

    @Test("errors read well")
    func descriptions() {
        #expect(
            MessagePackError.lengthExceedsInput(offset: 0, length: 4_294_967_295, remaining: 0).description
                == "msgpack: length 4294967295 at byte 0 exceeds the 0 bytes left")
        #expect(
            MessagePackError.fieldTypeMismatch(field: "alive.Port", expected: "an integer", found: "raw string")
                .description == "msgpack: field alive.Port must be an integer, found raw string")
    }
}
