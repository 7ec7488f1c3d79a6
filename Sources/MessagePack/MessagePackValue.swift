/// One msgpack value, in the shape go-msgpack 0.5.5 (hashicorp's fork of ugorji's codec) reads and writes it.
///
/// Maps keep their pairs in wire order, so a decoded value re-encodes to the same bytes and a writer can put
/// struct keys in exactly the order Go uses. The old msgpack spec has one "raw" family for both strings and
/// `[]byte`; ``raw(_:)`` is that family. ``binary(_:)`` only appears when reading the new-spec `bin8/16/32`
/// formats, which go-msgpack accepts but never writes; the writer turns it back into raw.
public enum MessagePackValue: Sendable, Hashable {
    /// `0xc0`. Go writes a nil slice or a nil pointer this way.
    case null
    /// `0xc2` / `0xc3`.
    case bool(Bool)
    /// A signed integer. The reader produces it for negative fixints and the `int8…int64` formats; the writer
    /// puts non-negative values in the smallest unsigned form, as go-msgpack does.
    case int(Int64)
    /// An unsigned integer: positive fixint and the `uint8…uint64` formats.
    case uint(UInt64)
    /// `0xca`, IEEE 754 single precision.
    case float(Float)
    /// `0xcb`, IEEE 754 double precision (serf's network coordinates).
    case double(Double)
    /// The old-spec raw family (fixstr, `str8` when read, `str16`, `str32`): Go strings and `[]byte` alike.
    case raw([UInt8])
    /// The new-spec `bin8/16/32` family. Read leniently; written as raw, since go-msgpack never writes bin.
    case binary([UInt8])
    /// An array, in order.
    case array([MessagePackValue])
    /// A map as ordered key/value pairs (wire order is kept; duplicate keys are kept too).
    case map([MessagePackPair])
    /// An extension value (`fixext*`, `ext8/16/32`). memberlist never uses these; they are read so that an
    /// unknown field holding one can be skipped.
    case ext(type: Int8, data: [UInt8])

    /// A Go `string`, written as a raw string of its UTF-8 bytes.
    public static func string(_ string: String) -> MessagePackValue {
        .raw(Array(string.utf8))
    }

    /// A Go `[]byte`: `nil` becomes `0xc0` as go-msgpack writes a nil slice, anything else a raw string
    /// (so an empty non-nil slice is `0xa0`).
    public static func bytes(_ bytes: [UInt8]?) -> MessagePackValue {
        guard let bytes else { return .null }
        return .raw(bytes)
    }

    /// A short human-readable name of the value's kind, used in error messages.
    public var kindName: String {
        switch self {
        case .null: "nil"
        case .bool: "bool"
        case .int: "int"
        case .uint: "uint"
        case .float: "float32"
        case .double: "float64"
        case .raw: "raw string"
        case .binary: "binary"
        case .array: "array"
        case .map: "map"
        case .ext: "ext"
        }
    }

    /// The bytes of a raw or binary value; `nil` for any other kind.
    public var rawBytes: [UInt8]? {
        switch self {
        case .raw(let bytes), .binary(let bytes): bytes
        default: nil
        }
    }
}

/// One key/value pair of a msgpack map. A struct rather than a tuple so that maps are `Hashable`.
public struct MessagePackPair: Sendable, Hashable {
    /// The key; for Go structs a raw string holding the field name.
    public var key: MessagePackValue
    /// The value.
    public var value: MessagePackValue

    /// Makes a pair.
    public init(_ key: MessagePackValue, _ value: MessagePackValue) {
        self.key = key
        self.value = value
    }
}
