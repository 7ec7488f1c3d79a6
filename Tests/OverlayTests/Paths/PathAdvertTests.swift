import Netlink
import Overlay
import Testing

struct PathAdvertTests {
    let a = IPAddress("192.0.2.1")!
    let b = IPAddress("192.0.2.2")!
    let c = IPAddress("192.0.2.3")!

    @Test func anAdvertRoundTrips() throws {
        var advert = PathAdvert(
            owner: "a", vtep: a, sequence: 42, view: [b: PeerPathView(isUp: true, rtt: 0.0015), c: PeerPathView(isUp: false, rtt: nil)],
            relays: [c: b])
        advert.signature = [UInt8](repeating: 7, count: 64)
        let decoded = try PathAdvert.decode(advert.encoded())
        #expect(decoded == advert)
    }

    @Test func anAdvertOfManyPeersFitsOneGossipPacket() {
        var view: [IPAddress: PeerPathView] = [:]
        for index in 0..<500 {
            view[IPAddress.v4(IPv4Address(10, 0, UInt8(index >> 8), UInt8(index & 0xFF)))] = PeerPathView(isUp: index != 7, rtt: Double(index) / 1e4)
        }
        let trimmed = PathAdvert.trimmed(view)
        #expect(trimmed.count == 140)
        #expect(trimmed[IPAddress.v4(IPv4Address(10, 0, 0, 7))]?.isUp == false, "a down peer is always kept")
        var advert = PathAdvert(owner: "192.0.2.11", vtep: a, sequence: .max, view: trimmed, relays: [b: c])
        advert.signature = [UInt8](repeating: 7, count: 64)
        #expect(advert.encoded().count < 1_300)
    }

    @Test func hostileAdvertsAreRefusedWhole() {
        #expect(throws: PathAdvert.DecodingFailure.self) { try PathAdvert.decode([PathAdvert.magic, 0xc1]) }
        #expect(throws: PathAdvert.DecodingFailure.self) { try PathAdvert.decode([PathAdvert.magic, 0x92, 0xa1, 0xc1, 0xa0]) }
        #expect(throws: PathAdvert.DecodingFailure.self) { try PathAdvert.decode([0xF7]) }
        #expect(throws: PathAdvert.DecodingFailure.self) { try PathAdvert.decode([PathAdvert.magic] + [UInt8](repeating: 0x90, count: 70_000)) }
        var view: [IPAddress: PeerPathView] = [:]
        for index in 0..<(PathAdvert.maxEntries + 1) {
            view[IPAddress.v4(IPv4Address(10, 0, UInt8(index >> 8), UInt8(index & 0xFF)))] = PeerPathView(isUp: true, rtt: nil)
        }
        let big = PathAdvert(owner: "a", vtep: a, sequence: 1, view: view, relays: [:])
        #expect(throws: PathAdvert.DecodingFailure.self) { try PathAdvert.decode(big.encoded()) }
    }

    @Test func theProbeVNIIsRefusedToNetworks() {
        #expect(throws: DriverError.self) { try NetworkOptions(parsing: [NetworkPolicy.vniOption: "16777215"]) }
        #expect(NetworkPolicy.derivedVNI(for: try! IPv4Subnet(parsing: "10.1.0.0/16")) != PathProbe.vni)
        #expect(try! NetworkOptions(parsing: ["weft.relay": "off"]).relay == false)
        #expect(try! NetworkOptions(parsing: [:]).relay == true)
        #expect(throws: DriverError.self) { try NetworkOptions(parsing: ["weft.relay": "sometimes"]) }
    }
}
