import Overlay
import Testing

@Suite("IPv4Address")
struct IPv4AddressTests {
    @Test(arguments: [
        ("0.0.0.0", UInt32(0)), ("10.1.0.5", 0x0A01_0005), ("255.255.255.255", 0xFFFF_FFFF), ("192.0.2.1", 0xC000_0201),
    ])
    func parsesAndPrintsDottedQuad(text: String, value: UInt32) throws {
        let address = try IPv4Address(parsing: text)
        #expect(address.value == value)
        #expect(address.description == text)
        #expect(IPv4Address(value) == address)
    }

    @Test(arguments: ["", "10.1.0", "10.1.0.5.6", "256.0.0.1", "10.01.0.5", "10.1.0.-1", "a.b.c.d", "10.1.0.5 ", "1..2.3",
                      "10.1.0.5/24", "１.2.3.4"])
    func refusesMalformed(text: String) {
        #expect(throws: IPAddressParseError.invalidAddress(text)) { try IPv4Address(parsing: text) }
        #expect(IPv4Address(text) == nil)
    }

    @Test func refusesIPv6WithAClearError() {
        #expect(throws: IPAddressParseError.ipv6NotSupported("fd00::1")) { try IPv4Address(parsing: "fd00::1") }
        #expect(IPAddressParseError.ipv6NotSupported("fd00::1").description.contains("IPv4 only"))
    }

    @Test func ordersByValue() throws {
        #expect(try IPv4Address(parsing: "10.0.0.9") < IPv4Address(parsing: "10.0.0.10"))
    }
}
