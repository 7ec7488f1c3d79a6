import CMnl

/// A received or encoded netlink message, split into its header fields and payload.
struct MessageView {
    var type: UInt16
    var flags: UInt16
    var sequence: UInt32
    /// Everything after the 16-byte `nlmsghdr`.
    var payload: ArraySlice<UInt8>

    static let headerSize = 16

    /// Splits a buffer holding one or more messages; stops with an error at the first malformed header.
    static func split(_ bytes: ArraySlice<UInt8>) throws(NetlinkError) -> [MessageView] {
        var messages: [MessageView] = []
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            guard bytes.endIndex - offset >= headerSize else {
                throw .malformedMessage("\(bytes.endIndex - offset) trailing bytes are too short for a netlink header")
            }
            let length = Int(bytes.loadUInt32(at: offset))
            guard length >= headerSize, length <= bytes.endIndex - offset else {
                throw .malformedMessage("netlink message length \(length) does not fit the \(bytes.endIndex - offset) bytes left")
            }
            messages.append(
                MessageView(
                    type: bytes.loadUInt16(at: offset + 4),
                    flags: bytes.loadUInt16(at: offset + 6),
                    sequence: bytes.loadUInt32(at: offset + 8),
                    payload: bytes[(offset + headerSize)..<(offset + length)]
                )
            )
            offset += Int(cmnl_align(length))
        }
        return messages
    }

    /// The fixed family header at the start of the payload, or an error naming what was expected.
    func familyHeader<Header>(_ type: Header.Type, _ name: String) throws(NetlinkError) -> Header {
        let size = MemoryLayout<Header>.size
        guard payload.count >= size else {
            throw .malformedMessage("message of type \(self.type) is too short for its \(name) header")
        }
        return payload.withUnsafeBytes { $0.loadUnaligned(as: Header.self) }
    }

    /// The attributes after a family header of `headerSize` bytes.
    func attributes(after headerSize: Int) throws(NetlinkError) -> AttributeTable {
        let start = payload.startIndex + Int(cmnl_align(headerSize))
        guard start <= payload.endIndex else { throw .malformedMessage("attributes start past the message end") }
        return try AttributeTable(payload[start...])
    }
}

/// Attributes by type; when a type repeats, the last one wins, as in the kernel's own parsing.
struct AttributeTable {
    private var entries: [UInt16: ArraySlice<UInt8>] = [:]

    init(_ bytes: ArraySlice<UInt8>) throws(NetlinkError) {
        var offset = bytes.startIndex
        while bytes.endIndex - offset >= 4 {
            let length = Int(bytes.loadUInt16(at: offset))
            let type = bytes.loadUInt16(at: offset + 2) & 0x3FFF  // strip NLA_F_NESTED / NLA_F_NET_BYTEORDER
            guard length >= 4, length <= bytes.endIndex - offset else {
                throw .malformedMessage("attribute \(type) claims \(length) bytes with \(bytes.endIndex - offset) left")
            }
            entries[type] = bytes[(offset + 4)..<(offset + length)]
            offset += Int(cmnl_align(length))
        }
    }

    subscript(_ type: Int) -> ArraySlice<UInt8>? { entries[UInt16(type)] }

    func nested(_ type: Int) throws(NetlinkError) -> AttributeTable? {
        guard let payload = self[type] else { return nil }
        return try AttributeTable(payload)
    }

    func u8(_ type: Int) -> UInt8? { self[type].flatMap { $0.count >= 1 ? $0.first : nil } }
    func bool(_ type: Int) -> Bool? { u8(type).map { $0 != 0 } }
    func u16(_ type: Int) -> UInt16? { self[type].flatMap { $0.count >= 2 ? $0.loadUInt16(at: $0.startIndex) : nil } }
    func u32(_ type: Int) -> UInt32? { self[type].flatMap { $0.count >= 4 ? $0.loadUInt32(at: $0.startIndex) : nil } }

    /// A string attribute, with or without its NUL terminator.
    func string(_ type: Int) -> String? {
        guard let payload = self[type] else { return nil }
        return String(decoding: payload.prefix { $0 != 0 }, as: UTF8.self)
    }

    func mac(_ type: Int) -> MACAddress? { self[type].flatMap { MACAddress(bytes: Array($0)) } }
    func address(_ type: Int) -> IPAddress? { self[type].flatMap { IPAddress(bytes: $0) } }
}

extension ArraySlice<UInt8> {
    /// A host-order integer at an absolute index; callers have checked the bounds.
    func loadUInt16(at index: Int) -> UInt16 {
        UInt16(self[index]) | UInt16(self[index + 1]) << 8
    }

    func loadUInt32(at index: Int) -> UInt32 {
        UInt32(self[index]) | UInt32(self[index + 1]) << 8 | UInt32(self[index + 2]) << 16 | UInt32(self[index + 3]) << 24
    }
}
