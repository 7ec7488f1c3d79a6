import Foundation
import Overlay
import Testing

/// Addresses and subnets are written as their text in state files, also as dictionary keys; a bad value read
/// back is a decoding error saying why.
struct TextCodableTests {
    @Test func addressesAndSubnetsEncodeAsText() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func json(_ value: some Encodable) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        #expect(try json([IPv4Address("10.1.0.5")!: 1]) == #"{"10.1.0.5":1}"#)
        #expect(try json([IPv6Address("fd00:30::5")!: 1]) == #"{"fd00:30::5":1}"#)
        #expect(try json([try IPv4Subnet(parsing: "10.1.0.0/24"), try IPv4Subnet(parsing: "10.2.0.0/16")]) == #"["10.1.0.0\/24","10.2.0.0\/16"]"#)
        #expect(try json(try IPv6Subnet(parsing: "fd00:30::/64")) == #""fd00:30::\/64""#)
        #expect(try json(try IPSubnet(parsing: "fd00:30::/64")) == #""fd00:30::\/64""#)

        let decoded = try JSONDecoder().decode([IPv6Address: Int].self, from: Data(#"{"fd00:30:0::5":1}"#.utf8))
        #expect(decoded == [IPv6Address("fd00:30::5")!: 1])
    }

    @Test func aBadValueIsADecodingErrorNamingTheCause() throws {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(IPv4Subnet.self, from: Data(#""10.1.0.0/33""#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([IPv4Address: Int].self, from: Data(#"{"10.1.0.300":1}"#.utf8)) }
        do {
            _ = try JSONDecoder().decode(IPv6Address.self, from: Data(#""fd00::g""#.utf8))
            Issue.record("decoded a bad IPv6 address")
        } catch DecodingError.dataCorrupted(let context) {
            #expect(context.debugDescription.contains("fd00::g"), "\(context.debugDescription)")
        }
    }
}
