import Overlay
import Testing

@Suite("IPv4Subnet")
struct IPv4SubnetTests {
    @Test func parsesAndPrintsCIDR() throws {
        let subnet = try IPv4Subnet(parsing: "10.1.0.0/24")
        #expect(subnet.network == IPv4Address(0x0A01_0000))
        #expect(subnet.prefixLength == 24)
        #expect(subnet.description == "10.1.0.0/24")
        #expect(subnet.mask == 0xFFFF_FF00)
        #expect(subnet.size == 256)
        #expect(subnet.lastAddress.description == "10.1.0.255")
        #expect(subnet.usableRange.map { "\($0.lowerBound)-\($0.upperBound)" } == "10.1.0.1-10.1.0.254")
        #expect(subnet.cidr(for: IPv4Address(0x0A01_0007)) == "10.1.0.7/24")
    }

    @Test func acceptsTheWholeAddressSpaceAndSingleHosts() throws {
        #expect(try IPv4Subnet(parsing: "0.0.0.0/0").size == 1 << 32)
        #expect(try IPv4Subnet(parsing: "192.0.2.7/32").size == 1)
    }

    @Test func refusesHostBitsAndSuggestsTheNetwork() {
        #expect(throws: IPAddressParseError.hostBitsSet("10.1.0.5/24", suggestion: "10.1.0.0/24")) {
            try IPv4Subnet(parsing: "10.1.0.5/24")
        }
        #expect(
            IPAddressParseError.hostBitsSet("10.1.0.5/24", suggestion: "10.1.0.0/24").description
                == "subnet 10.1.0.5/24 has host bits set; did you mean 10.1.0.0/24?")
    }

    @Test(arguments: ["10.1.0.0", "10.1.0.0/", "10.1.0.0/33", "10.1.0.0/-1", "10.1.0.0/2a", "/24", "10.1.0/24",
                      "10.1.0.0/24/1", "10.1.0.0/024"])
    func refusesMalformed(text: String) {
        #expect(throws: IPAddressParseError.invalidSubnet(text)) { try IPv4Subnet(parsing: text) }
    }

    @Test func refusesIPv6() {
        #expect(throws: IPAddressParseError.ipv6NotSupported("fd00::/64")) { try IPv4Subnet(parsing: "fd00::/64") }
    }

    @Test func containmentAndOverlap() throws {
        let wide = try IPv4Subnet(parsing: "10.1.0.0/16")
        let inside = try IPv4Subnet(parsing: "10.1.5.0/24")
        let outside = try IPv4Subnet(parsing: "10.2.0.0/24")
        #expect(wide.contains(inside))
        #expect(!inside.contains(wide))
        #expect(wide.overlaps(inside) && inside.overlaps(wide))
        #expect(!wide.overlaps(outside))
        #expect(wide.contains(try IPv4Address(parsing: "10.1.255.255")))
        #expect(!wide.contains(try IPv4Address(parsing: "10.2.0.0")))
    }

    @Test func pointToPointSubnetsHaveNoUsableRange() throws {
        #expect(try IPv4Subnet(parsing: "10.1.0.0/31").usableRange == nil)
        #expect(try IPv4Subnet(parsing: "10.1.0.0/32").usableRange == nil)
        #expect(try IPv4Subnet(parsing: "10.1.0.0/30").usableRange.map { $0.upperBound.value - $0.lowerBound.value + 1 } == 2)
    }
}
