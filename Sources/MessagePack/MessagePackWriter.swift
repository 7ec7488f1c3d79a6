/// Writes msgpack exactly as go-msgpack 0.5.5 does with a zero-value `codec.MsgpackHandle{}`
/// (`WriteExt == false`), so that encodings match memberlist peers byte for byte.
///
/// The rules (reference `memberlist-wire.md` §1):
/// - strings and `[]byte` use the old-spec raw family: fixstr below 32 bytes, then `str16` (`0xda`), then
///   `str32` (`0xdb`); `str8` and `bin8/16/32` are never written;
/// - every integer ≥ 0 takes the smallest unsigned form (positive fixint, `0xcc`, `0xcd`, `0xce`, `0xcf`) and a
///   negative one the smallest signed form;
/// - arrays and maps take the smallest header; map pairs are written in the order given (use
///   ``MessagePackValue/goStruct(_:)`` for Go's sorted struct keys).
public struct MessagePackWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// Makes an empty writer, optionally reserving room.
    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends one value.
    public mutating func write(_ value: MessagePackValue) {
        switch value {
        case .null:
            bytes.append(0xc0)
        case .bool(let flag):
            bytes.append(flag ? 0xc3 : 0xc2)
        case .int(let number):
            writeInt(number)
        case .uint(let number):
            writeUInt(number)
        case .float(let number):
            bytes.append(0xca)
            appendBigEndian(number.bitPattern)
        case .double(let number):
            bytes.append(0xcb)
            appendBigEndian(number.bitPattern)
        case .raw(let raw), .binary(let raw):
            writeRaw(raw)
        case .array(let elements):
            writeArrayHeader(count: elements.count)
            for element in elements { write(element) }
        case .map(let pairs):
            writeMapHeader(count: pairs.count)
            for pair in pairs {
                write(pair.key)
                write(pair.value)
            }
        case .ext(let type, let data):
            writeExt(type: type, data: data)
        }
    }

    /// Appends raw bytes that are not msgpack (a type byte, or memberlist's raw user state after a header).
    public mutating func appendRawBytes(_ other: some Sequence<UInt8>) {
        bytes.append(contentsOf: other)
    }

    /// Appends an unsigned integer in its smallest form.
    public mutating func writeUInt(_ number: UInt64) {
        switch number {
        case 0...0x7f:
            bytes.append(UInt8(number))
        case 0x80...0xff:
            bytes.append(0xcc)
            bytes.append(UInt8(number))
        case 0x100...0xffff:
            bytes.append(0xcd)
            appendBigEndian(UInt16(number))
        case 0x1_0000...0xffff_ffff:
            bytes.append(0xce)
            appendBigEndian(UInt32(number))
        default:
            bytes.append(0xcf)
            appendBigEndian(number)
        }
    }

    /// Appends a signed integer: non-negative values as unsigned (as go-msgpack's `EncodeInt` does),
    /// negative ones in the smallest signed form.
    public mutating func writeInt(_ number: Int64) {
        if number >= 0 {
            writeUInt(UInt64(number))
        } else if number >= -32 {
            bytes.append(UInt8(bitPattern: Int8(number)))
        } else if number >= Int64(Int8.min) {
            bytes.append(0xd0)
            bytes.append(UInt8(bitPattern: Int8(number)))
        } else if number >= Int64(Int16.min) {
            bytes.append(0xd1)
            appendBigEndian(UInt16(bitPattern: Int16(number)))
        } else if number >= Int64(Int32.min) {
            bytes.append(0xd2)
            appendBigEndian(UInt32(bitPattern: Int32(number)))
        } else {
            bytes.append(0xd3)
            appendBigEndian(UInt64(bitPattern: number))
        }
    }

    /// Appends an old-spec raw string header and the bytes: fixstr, `str16` or `str32`, never `str8`.
    public mutating func writeRaw(_ raw: [UInt8]) {
        switch raw.count {
        case 0..<32:
            bytes.append(0xa0 | UInt8(raw.count))
        case 32...0xffff:
            bytes.append(0xda)
            appendBigEndian(UInt16(raw.count))
        default:
            bytes.append(0xdb)
            appendBigEndian(UInt32(truncatingIfNeeded: raw.count))
        }
        bytes.append(contentsOf: raw)
    }

    /// Appends an array header for `count` elements.
    public mutating func writeArrayHeader(count: Int) {
        switch count {
        case 0..<16:
            bytes.append(0x90 | UInt8(count))
        case 16...0xffff:
            bytes.append(0xdc)
            appendBigEndian(UInt16(count))
        default:
            bytes.append(0xdd)
            appendBigEndian(UInt32(truncatingIfNeeded: count))
        }
    }

    /// Appends a map header for `count` pairs.
    public mutating func writeMapHeader(count: Int) {
        switch count {
        case 0..<16:
            bytes.append(0x80 | UInt8(count))
        case 16...0xffff:
            bytes.append(0xde)
            appendBigEndian(UInt16(count))
        default:
            bytes.append(0xdf)
            appendBigEndian(UInt32(truncatingIfNeeded: count))
        }
    }

    private mutating func writeExt(type: Int8, data: [UInt8]) {
        switch data.count {
        case 1: bytes.append(0xd4)
        case 2: bytes.append(0xd5)
        case 4: bytes.append(0xd6)
        case 8: bytes.append(0xd7)
        case 16: bytes.append(0xd8)
        case 0...0xff:
            bytes.append(0xc7)
            bytes.append(UInt8(data.count))
        case 0x100...0xffff:
            bytes.append(0xc8)
            appendBigEndian(UInt16(data.count))
        default:
            bytes.append(0xc9)
            appendBigEndian(UInt32(truncatingIfNeeded: data.count))
        }
        bytes.append(UInt8(bitPattern: type))
        bytes.append(contentsOf: data)
    }

    private mutating func appendBigEndian<T: FixedWidthInteger>(_ number: T) {
        var big = number.bigEndian
        withUnsafeBytes(of: &big) { bytes.append(contentsOf: $0) }
    }
}

/// Whole-value entry points.
public enum MessagePack {
    /// Encodes one value with go-msgpack's rules (see ``MessagePackWriter``).
    public static func encode(_ value: MessagePackValue) -> [UInt8] {
        var writer = MessagePackWriter()
        writer.write(value)
        return writer.bytes
    }

    /// Decodes exactly one value that fills `bytes`; bytes left after it are an error.
    public static func decode(
        _ bytes: [UInt8],
        maxDepth: Int = MessagePackReader.defaultMaxDepth
    ) throws(MessagePackError) -> MessagePackValue {
        var reader = MessagePackReader(bytes, maxDepth: maxDepth)
        let value = try reader.read()
        if reader.remainingCount > 0 {
            throw .trailingBytes(offset: reader.offset, count: reader.remainingCount)
        }
        return value
    }
}
