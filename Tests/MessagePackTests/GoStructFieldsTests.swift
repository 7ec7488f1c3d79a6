import MessagePack
import Testing

@Suite("Go struct field helpers")
struct GoStructFieldsTests {
    static let order = ["SeqNo", "Node", "Payload", "Flag"]

    @Test("fields are read by name from a map, in any order, ignoring unknown and non-string keys")
    func fromMap() throws {
        let value = MessagePackValue.map([
            MessagePackPair(.string("Unknown"), .array([.map([])])),
            MessagePackPair(.string("Node"), .string("node-a")),
            MessagePackPair(.uint(3), .null),
            MessagePackPair(.binary(Array("SeqNo".utf8)), .int(7)),
            MessagePackPair(.string("Payload"), .binary([1, 2])),
            MessagePackPair(.string("Flag"), .bool(true)),
        ])
        let fields = try GoStructFields(value, typeName: "t", fieldOrder: Self.order)
        #expect(try fields.integer("SeqNo", as: UInt32.self) == 7)
        #expect(try fields.string("Node") == "node-a")
        #expect(try fields.bytes("Payload") == [1, 2])
        #expect(try fields.bool("Flag"))
    }

    @Test("a positional array fills fields in declaration order")
    func fromArray() throws {
        let fields = try GoStructFields(
            .array([.uint(9), .string("n")]), typeName: "t", fieldOrder: Self.order)
        #expect(try fields.integer("SeqNo", as: UInt32.self) == 9)
        #expect(try fields.string("Node") == "n")
        #expect(try fields.optionalBytes("Payload") == nil)
    }

    @Test("missing and nil fields take Go's zero values; nil and empty bytes stay distinct when asked")
    func zeroValues() throws {
        let fields = try GoStructFields(
            .map([MessagePackPair(.string("Node"), .null), MessagePackPair(.string("Payload"), .raw([]))]),
            typeName: "t", fieldOrder: Self.order)
        #expect(try fields.string("Node") == "")
        #expect(try fields.integer("SeqNo", as: UInt16.self) == 0)
        #expect(try fields.bool("Flag") == false)
        #expect(try fields.optionalBytes("Payload") == [])
        #expect(try fields.optionalBytes("Missing") == nil)
        #expect(try fields.bytes("Missing") == [])
    }

    @Test("the last of duplicate keys wins, as when Go decodes into a struct")
    func duplicates() throws {
        let fields = try GoStructFields(
            .map([MessagePackPair(.string("Node"), .string("a")), MessagePackPair(.string("Node"), .string("b"))]),
            typeName: "t", fieldOrder: [])
        #expect(try fields.string("Node") == "b")
    }

    @Test("wrong kinds and out-of-range integers name the field")
    func errors() throws {
        let fields = try GoStructFields(
            .map([
                MessagePackPair(.string("Port"), .uint(70000)),
                MessagePackPair(.string("Neg"), .int(-1)),
                MessagePackPair(.string("Node"), .uint(1)),
                MessagePackPair(.string("Bad"), .raw([0xff, 0xfe])),
                MessagePackPair(.string("Flag"), .uint(1)),
                MessagePackPair(.string("Payload"), .bool(true)),
            ]),
            typeName: "alive", fieldOrder: [])
        #expect(throws: MessagePackError.fieldOutOfRange(field: "alive.Port", type: "UInt16", value: "70000")) {
            try fields.integer("Port", as: UInt16.self)
        }
        #expect(throws: MessagePackError.fieldOutOfRange(field: "alive.Neg", type: "UInt32", value: "-1")) {
            try fields.integer("Neg", as: UInt32.self)
        }
        #expect(try fields.integer("Neg", as: Int.self) == -1)
        #expect(throws: MessagePackError.fieldTypeMismatch(field: "alive.Node", expected: "a string", found: "uint")) {
            try fields.string("Node")
        }
        #expect(throws: MessagePackError.fieldInvalidUTF8(field: "alive.Bad")) { try fields.string("Bad") }
        #expect(throws: MessagePackError.fieldTypeMismatch(field: "alive.Flag", expected: "a bool", found: "uint")) {
            try fields.bool("Flag")
        }
        #expect(throws: MessagePackError.fieldTypeMismatch(field: "alive.Payload", expected: "bytes", found: "bool")) {
            try fields.bytes("Payload")
        }
        #expect(
            throws: MessagePackError.fieldTypeMismatch(field: "alive.Bad", expected: "an integer", found: "raw string")
        ) {
            try fields.integer("Bad", as: Int.self)
        }
    }

    @Test("a struct must be a map or an array")
    func notAStruct() {
        #expect(throws: MessagePackError.notAStruct(type: "ping", found: "uint")) {
            try GoStructFields(.uint(1), typeName: "ping", fieldOrder: [])
        }
    }
}
