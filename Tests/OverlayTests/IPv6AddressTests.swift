import Overlay
import Testing

@Suite("IPv6Address")
struct IPv6AddressTests {
    /// RFC 5952 §4: lower case, no leading zeros, the longest zero run (the first of equal ones) as `::`, never a
    /// single zero group; IPv4-mapped addresses keep their dotted quad (§5).
    @Test(arguments: [
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"), ("2001:DB8::1", "2001:db8::1"), ("2001:0db8::0001", "2001:db8::1"),
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"), ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("0:0:0:0:0:0:0:0", "::"), ("::1", "::1"), ("fe80::", "fe80::"),
        ("fd00:30::", "fd00:30::"), ("::ffff:10.1.0.5", "::ffff:10.1.0.5"), ("::ffff:a01:5", "::ffff:10.1.0.5"),
        ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"), ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"), ("64:ff9b::192.0.2.33", "64:ff9b::c000:221"),
    ])
    func printsTheCanonicalForm(text: String, canonical: String) throws {
        let address = try IPv6Address(parsing: text)
        #expect(address.description == canonical)
        #expect(try IPv6Address(parsing: canonical) == address)
    }

    @Test func bytesAndValueAgree() throws {
        let address = try IPv6Address(parsing: "fd00:30::1:2")
        #expect(address.bytes == [0xFD, 0, 0, 0x30, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2])
        #expect(IPv6Address(bytes: address.bytes) == address)
        #expect(address.value == (UInt128(0xFD00_0030) << 96 | 0x0001_0002))
        #expect(IPv6Address(bytes: [1, 2, 3]) == nil)
    }

    @Test(arguments: ["", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::", "g::1", "fe80::1%eth0",
                      "::ffff:10.1.0", "1.2.3.4", "::1.2.3.4:5", "1:2:3:4:5:6:7:8::", " ::1", "fd00::/64", "::ｆ"])
    func refusesMalformed(text: String) {
        #expect(throws: IPAddressParseError.invalidIPv6Address(text)) { try IPv6Address(parsing: text) }
        #expect(IPv6Address(text) == nil)
    }

    @Test func encodesAsItsText() throws {
        let address = try IPv6Address(parsing: "FD00:30:0::5")
        let subnet = try IPv6Subnet(parsing: "fd00:30::/64")
        let elsewhere = try IPv6Address(parsing: "fd00:31::5")
        #expect(subnet.contains(address) && !subnet.contains(elsewhere))
        #expect(subnet.lastAddress.description == "fd00:30::ffff:ffff:ffff:ffff")
        #expect(throws: IPAddressParseError.hostBitsSet("fd00:30::5/64", suggestion: "fd00:30::/64")) {
            try IPv6Subnet(parsing: "fd00:30::5/64")
        }
        #expect(throws: IPAddressParseError.invalidIPv6Subnet("fd00::/129")) { try IPv6Subnet(parsing: "fd00::/129") }
        #expect(try IPSubnet(parsing: "fd00::/48") == .v6(try IPv6Subnet(parsing: "fd00::/48")))
        #expect(try IPSubnet(parsing: "10.0.0.0/8").description == "10.0.0.0/8")
        let wide = try IPv6Subnet(parsing: "fd00::/24")
        let beside = try IPv6Subnet(parsing: "fd00:31::/64")
        #expect(wide.overlaps(subnet) && !beside.overlaps(subnet))
    }
}
