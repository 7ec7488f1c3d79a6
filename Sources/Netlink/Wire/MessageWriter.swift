import CMnl

/// Builds one rtnetlink message with libmnl in a scratch buffer and returns its bytes.
///
/// Messages weft sends are small (the largest, a veth pair with its peer, is under 200 bytes of the 1 KiB), so a fixed
/// scratch buffer bounds every write; callers validate names and lengths before building.
struct MessageWriter {
    static let scratchSize = 1024

    private let header: UnsafeMutablePointer<nlmsghdr>

    private init(header: UnsafeMutablePointer<nlmsghdr>) { self.header = header }

    /// Builds a message of `type` with `flags`, letting `body` add the fixed header and attributes.
    static func build(type: Int, flags: Int32, capacity: Int = scratchSize, _ body: (MessageWriter) -> Void) -> [UInt8] {
        withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 8) { scratch in
            scratch.initializeMemory(as: UInt8.self, repeating: 0)
            let header = mnl_nlmsg_put_header(scratch.baseAddress)!
            header.pointee.nlmsg_type = UInt16(type)
            header.pointee.nlmsg_flags = UInt16(flags)
            body(MessageWriter(header: header))
            let length = Int(header.pointee.nlmsg_len)
            precondition(length <= capacity, "netlink message overran its scratch buffer")
            return Array(UnsafeRawBufferPointer(start: scratch.baseAddress, count: length))
        }
    }

    /// Appends a fixed-size family header (`ifinfomsg`, `ndmsg`, `ifaddrmsg`).
    func putFamilyHeader<Header>(_ value: Header) {
        let size = MemoryLayout<Header>.size
        let target = mnl_nlmsg_put_extra_header(header, size)!
        withUnsafeBytes(of: value) { source in
            target.copyMemory(from: source.baseAddress!, byteCount: size)
        }
    }

    func put(_ type: Int, u8 value: UInt8) { mnl_attr_put_u8(header, UInt16(type), value) }
    func put(_ type: Int, u16 value: UInt16) { mnl_attr_put_u16(header, UInt16(type), value) }
    func put(_ type: Int, u32 value: UInt32) { mnl_attr_put_u32(header, UInt16(type), value) }
    func put(_ type: Int, bool value: Bool) { put(type, u8: value ? 1 : 0) }

    /// A NUL-terminated string, as iproute2 sends interface names.
    func put(_ type: Int, nulTerminated value: String) { mnl_attr_put_strz(header, UInt16(type), value) }

    /// A string without terminator, as iproute2 sends `IFLA_INFO_KIND`.
    func put(_ type: Int, string value: String) { mnl_attr_put_str(header, UInt16(type), value) }

    func put(_ type: Int, bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in mnl_attr_put(header, UInt16(type), raw.count, raw.baseAddress) }
    }

    /// A nested attribute (`NLA_F_NESTED` set, as libmnl does) holding what `body` adds.
    func nest(_ type: Int, _ body: () -> Void) {
        let start = mnl_attr_nest_start(header, UInt16(type))
        body()
        mnl_attr_nest_end(header, start)
    }
}
