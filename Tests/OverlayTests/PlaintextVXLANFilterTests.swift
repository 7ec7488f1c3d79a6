import Netlink
import Overlay
import Testing

@Suite struct PlaintextVXLANFilterTests {
    @Test("the table drops the encrypted VNIs arriving on the VXLAN port other than from weft-wg; none left without VNIs")
    func script() {
        let script = PlaintextVXLANFilter.script(vnis: [VNI(4343)!, VNI(4242)!], port: 4789, interface: "weft-wg")
        #expect(script.contains(#"udp dport 4789 @th,96,24 { 4242, 4343 } iifname != "weft-wg" counter drop"#))
        #expect(script.hasPrefix("table inet weft_encrypted\ndelete table inet weft_encrypted\n"))
        #expect(PlaintextVXLANFilter.script(vnis: [], port: 4789, interface: "weft-wg")
                == "table inet weft_encrypted\ndelete table inet weft_encrypted\n")
    }
}
