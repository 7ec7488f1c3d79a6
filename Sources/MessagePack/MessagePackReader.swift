/// Reads msgpack leniently, as go-msgpack 0.5.5 does, and safely on hostile input.
///
/// Lenient: accepts new-spec `str8` and `bin8/16/32` next to the old raw family, any integer width, nil,
/// floats and extension values. Safe: every length and element count is checked against the bytes that are
/// left before anything is allocated (an array element or a map pair takes at least one byte per item), nesting
/// is limited to ``maxDepth``, and no input makes it trap. Errors are ``MessagePackError`` values with offsets.
///
/// The reader is sequential, so several values can be read back to back (memberlist's push/pull stream is a
/// header followed by node states and raw user state).
public struct MessagePackReader: Sendable {
    /// The default nesting limit. memberlist structs nest two levels; serf's user state about six.
    public static let defaultMaxDepth = 32

    /// The buffer being read.
    public let bytes: [UInt8]
    /// Where the next value starts.
    public private(set) var offset: Int
    /// The most containers that may be open at once.
    public let maxDepth: Int

    /// Makes a reader over `bytes`, starting at `offset`.
    public init(_ bytes: [UInt8], offset: Int = 0, maxDepth: Int = MessagePackReader.defaultMaxDepth) {
        self.bytes = bytes
        self.offset = min(max(offset, 0), bytes.count)
        self.maxDepth = maxDepth
    }

    /// How many bytes are left after ``offset``.
    public var remainingCount: Int { bytes.count - offset }

    /// Reads the next value.
    public mutating func read() throws(MessagePackError) -> MessagePackValue {
        try readValue(depth: 0)
    }

    /// Takes the next `count` bytes as they are (raw data that follows a msgpack header on memberlist streams).
    public mutating func readRawBytes(count: Int) throws(MessagePackError) -> [UInt8] {
        guard count >= 0, count <= remainingCount else {
            throw .lengthExceedsInput(offset: offset, length: UInt64(max(count, 0)), remaining: remainingCount)
        }
        let slice = Array(bytes[offset..<offset + count])
        offset += count
        return slice
    }

    private mutating func readValue(depth: Int) throws(MessagePackError) -> MessagePackValue {
        let start = offset
        let format = try takeByte(start: start)
        switch format {
        case 0x00...0x7f:
            return .uint(UInt64(format))
        case 0x80...0x8f:
            return try readMap(count: UInt64(format & 0x0f), start: start, depth: depth)
        case 0x90...0x9f:
            return try readArray(count: UInt64(format & 0x0f), start: start, depth: depth)
        case 0xa0...0xbf:
            return .raw(try takeBytes(UInt64(format & 0x1f), start: start))
        case 0xc0:
            return .null
        case 0xc1:
            throw .invalidFormat(offset: start, byte: format)
        case 0xc2:
            return .bool(false)
        case 0xc3:
            return .bool(true)
        case 0xc4:
            return .binary(try takeBytes(try takeUInt(UInt8.self, start: start), start: start))
        case 0xc5:
            return .binary(try takeBytes(try takeUInt(UInt16.self, start: start), start: start))
        case 0xc6:
            return .binary(try takeBytes(try takeUInt(UInt32.self, start: start), start: start))
        case 0xc7:
            return try readExt(length: try takeUInt(UInt8.self, start: start), start: start)
        case 0xc8:
            return try readExt(length: try takeUInt(UInt16.self, start: start), start: start)
        case 0xc9:
            return try readExt(length: try takeUInt(UInt32.self, start: start), start: start)
        case 0xca:
            return .float(Float(bitPattern: UInt32(try takeUInt(UInt32.self, start: start))))
        case 0xcb:
            return .double(Double(bitPattern: try takeUInt(UInt64.self, start: start)))
        case 0xcc:
            return .uint(try takeUInt(UInt8.self, start: start))
        case 0xcd:
            return .uint(try takeUInt(UInt16.self, start: start))
        case 0xce:
            return .uint(try takeUInt(UInt32.self, start: start))
        case 0xcf:
            return .uint(try takeUInt(UInt64.self, start: start))
        case 0xd0:
            return .int(Int64(Int8(truncatingIfNeeded: try takeUInt(UInt8.self, start: start))))
        case 0xd1:
            return .int(Int64(Int16(truncatingIfNeeded: try takeUInt(UInt16.self, start: start))))
        case 0xd2:
            return .int(Int64(Int32(truncatingIfNeeded: try takeUInt(UInt32.self, start: start))))
        case 0xd3:
            return .int(Int64(bitPattern: try takeUInt(UInt64.self, start: start)))
        case 0xd4:
            return try readExt(length: 1, start: start)
        case 0xd5:
            return try readExt(length: 2, start: start)
        case 0xd6:
            return try readExt(length: 4, start: start)
        case 0xd7:
            return try readExt(length: 8, start: start)
        case 0xd8:
            return try readExt(length: 16, start: start)
        case 0xd9:
            return .raw(try takeBytes(try takeUInt(UInt8.self, start: start), start: start))
        case 0xda:
            return .raw(try takeBytes(try takeUInt(UInt16.self, start: start), start: start))
        case 0xdb:
            return .raw(try takeBytes(try takeUInt(UInt32.self, start: start), start: start))
        case 0xdc:
            return try readArray(count: try takeUInt(UInt16.self, start: start), start: start, depth: depth)
        case 0xdd:
            return try readArray(count: try takeUInt(UInt32.self, start: start), start: start, depth: depth)
        case 0xde:
            return try readMap(count: try takeUInt(UInt16.self, start: start), start: start, depth: depth)
        case 0xdf:
            return try readMap(count: try takeUInt(UInt32.self, start: start), start: start, depth: depth)
        default:  // 0xe0...0xff, negative fixint
            return .int(Int64(Int8(bitPattern: format)))
        }
    }

    private mutating func readArray(
        count: UInt64, start: Int, depth: Int
    ) throws(MessagePackError) -> MessagePackValue {
        guard depth < maxDepth else { throw .tooDeep(offset: start, limit: maxDepth) }
        // Every element takes at least one byte.
        guard count <= UInt64(remainingCount) else {
            throw .lengthExceedsInput(offset: start, length: count, remaining: remainingCount)
        }
        var elements: [MessagePackValue] = []
        elements.reserveCapacity(Int(count))
        for _ in 0..<count {
            elements.append(try readValue(depth: depth + 1))
        }
        return .array(elements)
    }

    private mutating func readMap(
        count: UInt64, start: Int, depth: Int
    ) throws(MessagePackError) -> MessagePackValue {
        guard depth < maxDepth else { throw .tooDeep(offset: start, limit: maxDepth) }
        // Every pair takes at least two bytes.
        guard count <= UInt64(remainingCount / 2) else {
            throw .lengthExceedsInput(offset: start, length: count, remaining: remainingCount)
        }
        var pairs: [MessagePackPair] = []
        pairs.reserveCapacity(Int(count))
        for _ in 0..<count {
            let key = try readValue(depth: depth + 1)
            let value = try readValue(depth: depth + 1)
            pairs.append(MessagePackPair(key, value))
        }
        return .map(pairs)
    }

    private mutating func readExt(length: UInt64, start: Int) throws(MessagePackError) -> MessagePackValue {
        let type = Int8(bitPattern: try takeByte(start: start))
        return .ext(type: type, data: try takeBytes(length, start: start))
    }

    private mutating func takeByte(start: Int) throws(MessagePackError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: start) }
        defer { offset += 1 }
        return bytes[offset]
    }

    private mutating func takeUInt<T: FixedWidthInteger & UnsignedInteger>(
        _: T.Type, start: Int
    ) throws(MessagePackError) -> UInt64 {
        let size = MemoryLayout<T>.size
        guard size <= remainingCount else { throw .truncated(offset: start) }
        var number: UInt64 = 0
        for index in offset..<offset + size {
            number = number << 8 | UInt64(bytes[index])
        }
        offset += size
        return number
    }

    private mutating func takeBytes(_ length: UInt64, start: Int) throws(MessagePackError) -> [UInt8] {
        guard length <= UInt64(remainingCount) else {
            throw .lengthExceedsInput(offset: start, length: length, remaining: remainingCount)
        }
        let count = Int(length)
        let slice = Array(bytes[offset..<offset + count])
        offset += count
        return slice
    }
}
