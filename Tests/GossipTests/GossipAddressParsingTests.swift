import Gossip
import Testing

/// Seeds (`--join`) in either family: `a.b.c.d[:port]`, `[v6][:port]`, or a bare IPv6 address.
struct GossipAddressParsingTests {
    @Test(arguments: [
        ("192.0.2.11", [UInt8]([192, 0, 2, 11]), UInt16(7946)), ("192.0.2.11:8000", [192, 0, 2, 11], 8000),
        ("2001:db8::11", [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x11], 7946),
        ("[2001:db8::11]:8000", [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x11], 8000),
        ("[2001:db8::11]", [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [0x11], 7946),
        ("[::ffff:192.0.2.11]:8000", [192, 0, 2, 11], 8000),
    ])
    func parsesBothFamilies(text: String, ip: [UInt8], port: UInt16) throws {
        let address = try #require(GossipAddress(parsing: text))
        #expect(address.ip.bytes == ip)
        #expect(address.port == port)
    }

    @Test(arguments: ["", "host", "192.0.2.11:", "192.0.2.11:70000", "[2001:db8::11", "[2001:db8::11]8000", "2001:db8::11:x",
                      "[fe80::1%eth0]:7946", "[192.0.2.11]x", "1.2.3"])
    func refusesAnythingElse(text: String) {
        #expect(GossipAddress(parsing: text) == nil)
    }

    @Test func printsIPv6InBrackets() throws {
        #expect(try #require(GossipAddress(parsing: "[2001:db8::11]:8000")).description == "[2001:db8::11]:8000")
    }
}
