import Testing
@testable import Netlink
import TestSupport

/// Every request kind against an annotated dump of the exact bytes (sequence and port left zero, as the
/// transport stamps them). The annotations follow <linux/rtnetlink.h>, <linux/if_link.h> and <linux/neighbour.h>.
struct GoldenRequestTests {
    static let mac = MACAddress("02:aa:bb:cc:dd:ee")!

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let request: DecodedRequest
        let dump: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "vxlan create, every attribute explicit",
            request: .operation(.createLink(LinkSpec(name: "wvx-00002a", kind: .vxlan(VXLANConfig(vni: VNI(42)!, local: IPAddress("192.0.2.1"), lowerDevice: .index(2))), mtu: 1450, mac: Self.mac))),
            dump: """
                a8000000100005060000000000000000 // nlmsghdr: len 168, RTM_NEWLINK, REQUEST|ACK|CREATE|EXCL, seq 0, port 0
                00000000000000000000000000000000 // ifinfomsg: family 0, index 0, flags 0x0, change 0x0
                0f000300 7776782d3030303032610000 // IFLA_IFNAME "wvx-00002a" NUL-terminated
                08000400 aa050000 // IFLA_MTU 1450
                0a000100 02aabbccddee0000 // IFLA_ADDRESS 02:aa:bb:cc:dd:ee
                64001280 // IFLA_LINKINFO (NLA_F_NESTED), 100 bytes
                    09000100 76786c616e000000 // IFLA_INFO_KIND "vxlan"
                    54000280 // IFLA_INFO_DATA (NLA_F_NESTED), 84 bytes
                        08000100 2a000000 // IFLA_VXLAN_ID 42
                        08000400 c0000201 // IFLA_VXLAN_LOCAL 192.0.2.1
                        08000300 02000000 // IFLA_VXLAN_LINK 2
                        06000f00 12b50000 // IFLA_VXLAN_PORT 4789 (big-endian)
                        05000500 40000000 // IFLA_VXLAN_TTL 64
                        05000700 00000000 // IFLA_VXLAN_LEARNING 0
                        05000b00 01000000 // IFLA_VXLAN_PROXY 1
                        05000d00 00000000 // IFLA_VXLAN_L2MISS 0
                        05000e00 00000000 // IFLA_VXLAN_L3MISS 0
                        05001200 01000000 // IFLA_VXLAN_UDP_CSUM 1
                """),
        Case(
            name: "bridge create",
            request: .operation(.createLink(LinkSpec(name: "wbr-00002a", kind: .bridge))),
            dump: """
                40000000100005060000000000000000 // nlmsghdr: len 64, RTM_NEWLINK, REQUEST|ACK|CREATE|EXCL, seq 0, port 0
                00000000000000000000000000000000 // ifinfomsg: family 0, index 0, flags 0x0, change 0x0
                0f000300 7762722d3030303032610000 // IFLA_IFNAME "wbr-00002a" NUL-terminated
                10001280 // IFLA_LINKINFO (NLA_F_NESTED), 16 bytes
                    0a000100 6272696467650000 // IFLA_INFO_KIND "bridge"
                """),
        Case(
            name: "veth create with its peer in another namespace",
            request: .operation(.createLink(LinkSpec(name: "wve-0", kind: .veth(peer: VethPeer(name: "wvp-0", mtu: 1450, namespaceFD: 7)), mtu: 1450))),
            dump: """
                74000000100005060000000000000000 // nlmsghdr: len 116, RTM_NEWLINK, REQUEST|ACK|CREATE|EXCL, seq 0, port 0
                00000000000000000000000000000000 // ifinfomsg: family 0, index 0, flags 0x0, change 0x0
                0a000300 7776652d30000000 // IFLA_IFNAME "wve-0" NUL-terminated
                08000400 aa050000 // IFLA_MTU 1450
                40001280 // IFLA_LINKINFO (NLA_F_NESTED), 64 bytes
                    08000100 76657468 // IFLA_INFO_KIND "veth"
                    34000280 // IFLA_INFO_DATA (NLA_F_NESTED), 52 bytes
                        30000180 // VETH_INFO_PEER (NLA_F_NESTED), 48 bytes
                            00000000000000000000000000000000 // peer ifinfomsg: family 0, index 0
                            0a000300 7776702d30000000 // IFLA_IFNAME "wvp-0" NUL-terminated
                            08000400 aa050000 // IFLA_MTU 1450
                            08001c00 07000000 // IFLA_NET_NS_FD 7
                """),
        Case(
            name: "link delete",
            request: .operation(.deleteLink(.index(5))),
            dump: """
                20000000110005000000000000000000 // nlmsghdr: len 32, RTM_DELLINK, REQUEST|ACK, seq 0, port 0
                00000000050000000000000000000000 // ifinfomsg: family 0, index 5, flags 0x0, change 0x0
                """),
        Case(
            name: "link set: up, mtu, address, master, name, netns",
            request: .operation(.setLink(.index(5), LinkChanges(up: true, mtu: 1400, mac: Self.mac, master: .bridge(.index(3)), name: "eth1", namespaceFD: 7))),
            dump: """
                50000000100005000000000000000000 // nlmsghdr: len 80, RTM_NEWLINK, REQUEST|ACK, seq 0, port 0
                00000000050000000100000001000000 // ifinfomsg: family 0, index 5, flags 0x1, change 0x1
                08000400 78050000 // IFLA_MTU 1400
                0a000100 02aabbccddee0000 // IFLA_ADDRESS 02:aa:bb:cc:dd:ee
                08000a00 03000000 // IFLA_MASTER 3
                09000300 6574683100000000 // IFLA_IFNAME "eth1" NUL-terminated
                08001c00 07000000 // IFLA_NET_NS_FD 7
                """),
        Case(
            name: "link set: down, nomaster",
            request: .operation(.setLink(.index(5), LinkChanges(up: false, master: LinkChanges.Master.none))),
            dump: """
                28000000100005000000000000000000 // nlmsghdr: len 40, RTM_NEWLINK, REQUEST|ACK, seq 0, port 0
                00000000050000000000000001000000 // ifinfomsg: family 0, index 5, flags 0x0, change 0x1
                08000a00 00000000 // IFLA_MASTER 0
                """),
        Case(
            name: "bridge port flags",
            request: .operation(.setBridgePort(.index(5), BridgePortChanges(learning: false, neighbourSuppression: true))),
            dump: """
                34000000130005000000000000000000 // nlmsghdr: len 52, RTM_SETLINK, REQUEST|ACK, seq 0, port 0
                07000000050000000000000000000000 // ifinfomsg: family 7, index 5, flags 0x0, change 0x0
                14000c80 // IFLA_PROTINFO (NLA_F_NESTED), 20 bytes
                    05000800 00000000 // IFLA_BRPORT_LEARNING 0
                    05002000 01000000 // IFLA_BRPORT_NEIGH_SUPPRESS 1
                """),
        Case(
            name: "address add",
            request: .operation(.addAddress(InterfaceAddress("10.1.0.1/24")!, device: .index(3))),
            dump: """
                28000000140005060000000000000000 // nlmsghdr: len 40, RTM_NEWADDR, REQUEST|ACK|CREATE|EXCL, seq 0, port 0
                0218000003000000 // ifaddrmsg: family 2, prefixlen 24, index 3
                08000200 0a010001 // IFA_LOCAL 10.1.0.1
                08000100 0a010001 // IFA_ADDRESS 10.1.0.1
                """),
        Case(
            name: "address delete",
            request: .operation(.deleteAddress(InterfaceAddress("10.1.0.1/24")!, device: .index(3))),
            dump: """
                28000000150005000000000000000000 // nlmsghdr: len 40, RTM_DELADDR, REQUEST|ACK, seq 0, port 0
                0218000003000000 // ifaddrmsg: family 2, prefixlen 24, index 3
                08000200 0a010001 // IFA_LOCAL 10.1.0.1
                08000100 0a010001 // IFA_ADDRESS 10.1.0.1
                """),
        Case(
            name: "fdb add (exclusive)",
            request: .operation(.writeFDB(.vtep(Self.mac, via: IPAddress("192.0.2.2")!, on: .index(5)), .add)),
            dump: """
                300000001c0005060000000000000000 // nlmsghdr: len 48, RTM_NEWNEIGH, REQUEST|ACK|CREATE|EXCL, seq 0, port 0
                070000000500000080000200 // ndmsg: family 7, ifindex 5, state 0x80, flags 0x2
                0a000200 02aabbccddee0000 // NDA_LLADDR 02:aa:bb:cc:dd:ee
                08000100 c0000202 // NDA_DST 192.0.2.2
                """),
        Case(
            name: "fdb replace",
            request: .operation(.writeFDB(.vtep(Self.mac, via: IPAddress("192.0.2.2")!, on: .index(5)), .replace)),
            dump: """
                300000001c0005050000000000000000 // nlmsghdr: len 48, RTM_NEWNEIGH, REQUEST|ACK|CREATE|REPLACE, seq 0, port 0
                070000000500000080000200 // ndmsg: family 7, ifindex 5, state 0x80, flags 0x2
                0a000200 02aabbccddee0000 // NDA_LLADDR 02:aa:bb:cc:dd:ee
                08000100 c0000202 // NDA_DST 192.0.2.2
                """),
        Case(
            name: "fdb append (head-end replication)",
            request: .operation(.writeFDB(.vtep(.zero, via: IPAddress("192.0.2.2")!, on: .index(5)), .append)),
            dump: """
                300000001c00050c0000000000000000 // nlmsghdr: len 48, RTM_NEWNEIGH, REQUEST|ACK|CREATE|APPEND, seq 0, port 0
                070000000500000080000200 // ndmsg: family 7, ifindex 5, state 0x80, flags 0x2
                0a000200 0000000000000000 // NDA_LLADDR 00:00:00:00:00:00
                08000100 c0000202 // NDA_DST 192.0.2.2
                """),
        Case(
            name: "fdb delete (device table)",
            request: .operation(.deleteFDB(.vtep(Self.mac, via: IPAddress("192.0.2.2")!, on: .index(5)))),
            dump: """
                300000001d0005000000000000000000 // nlmsghdr: len 48, RTM_DELNEIGH, REQUEST|ACK, seq 0, port 0
                070000000500000080000200 // ndmsg: family 7, ifindex 5, state 0x80, flags 0x2
                0a000200 02aabbccddee0000 // NDA_LLADDR 02:aa:bb:cc:dd:ee
                08000100 c0000202 // NDA_DST 192.0.2.2
                """),
        Case(
            name: "fdb delete (learned bridge entry)",
            request: .operation(.deleteFDB(FDBEntry(mac: Self.mac, device: .index(4), table: .bridge, state: []))),
            dump: """
                280000001d0005000000000000000000 // nlmsghdr: len 40, RTM_DELNEIGH, REQUEST|ACK, seq 0, port 0
                070000000400000000000400 // ndmsg: family 7, ifindex 4, state 0x0, flags 0x4
                0a000200 02aabbccddee0000 // NDA_LLADDR 02:aa:bb:cc:dd:ee
                """),
        Case(
            name: "neighbour replace",
            request: .operation(.writeNeighbour(NeighbourEntry(address: IPAddress("10.1.0.3")!, mac: Self.mac, device: .index(5)), .replace)),
            dump: """
                300000001c0005050000000000000000 // nlmsghdr: len 48, RTM_NEWNEIGH, REQUEST|ACK|CREATE|REPLACE, seq 0, port 0
                020000000500000080000000 // ndmsg: family 2, ifindex 5, state 0x80, flags 0x0
                08000100 0a010003 // NDA_DST 10.1.0.3
                0a000200 02aabbccddee0000 // NDA_LLADDR 02:aa:bb:cc:dd:ee
                """),
        Case(
            name: "neighbour delete",
            request: .operation(.deleteNeighbour(NeighbourEntry(address: IPAddress("10.1.0.3")!, mac: nil, device: .index(5)))),
            dump: """
                240000001d0005000000000000000000 // nlmsghdr: len 36, RTM_DELNEIGH, REQUEST|ACK, seq 0, port 0
                020000000500000080000000 // ndmsg: family 2, ifindex 5, state 0x80, flags 0x0
                08000100 0a010003 // NDA_DST 10.1.0.3
                """),
        Case(
            name: "IPv6 neighbour replace",
            request: .operation(.writeNeighbour(NeighbourEntry(address: IPAddress("fd00:43::3")!, mac: Self.mac, device: .index(5)), .replace)),
            dump: """
                3c0000001c0005050000000000000000 // nlmsghdr: len 60, RTM_NEWNEIGH, REQUEST|ACK|CREATE|REPLACE, seq 0, port 0
                0a0000000500000080000000 // ndmsg: family 10 (AF_INET6), ifindex 5, state 0x80, flags 0x0
                14000100 fd000043000000000000000000000003 // NDA_DST fd00:43::3
                0a000200 02aabbccddee0000 // NDA_LLADDR 02:aa:bb:cc:dd:ee
                """),
        Case(
            name: "IPv6 neighbour delete",
            request: .operation(.deleteNeighbour(NeighbourEntry(address: IPAddress("fd00:43::3")!, mac: nil, device: .index(5)))),
            dump: """
                300000001d0005000000000000000000 // nlmsghdr: len 48, RTM_DELNEIGH, REQUEST|ACK, seq 0, port 0
                0a0000000500000080000000 // ndmsg: family 10 (AF_INET6), ifindex 5, state 0x80, flags 0x0
                14000100 fd000043000000000000000000000003 // NDA_DST fd00:43::3
                """),
        Case(
            name: "fdb replace via an IPv6 VTEP",
            request: .operation(.writeFDB(.vtep(Self.mac, via: IPAddress("2001:db8::2")!, on: .index(5)), .replace)),
            dump: """
                3c0000001c0005050000000000000000 // nlmsghdr: len 60, RTM_NEWNEIGH, REQUEST|ACK|CREATE|REPLACE, seq 0, port 0
                070000000500000080000200 // ndmsg: family 7, ifindex 5, state 0x80, flags 0x2
                0a000200 02aabbccddee0000 // NDA_LLADDR 02:aa:bb:cc:dd:ee
                14000100 20010db8000000000000000000000002 // NDA_DST 2001:db8::2
                """),
        Case(
            name: "IPv6 address add",
            request: .operation(.addAddress(InterfaceAddress("fd00:43::1/64")!, device: .index(3))),
            dump: """
                40000000140005060000000000000000 // nlmsghdr: len 64, RTM_NEWADDR, REQUEST|ACK|CREATE|EXCL, seq 0, port 0
                0a40000003000000 // ifaddrmsg: family 10 (AF_INET6), prefixlen 64, index 3
                14000200 fd000043000000000000000000000001 // IFA_LOCAL fd00:43::1
                14000100 fd000043000000000000000000000001 // IFA_ADDRESS fd00:43::1
                """),
        Case(
            name: "get link by name",
            request: .query(.link(.name("eth0"))),
            dump: """
                2c000000120001000000000000000000 // nlmsghdr: len 44, RTM_GETLINK, REQUEST, seq 0, port 0
                00000000000000000000000000000000 // ifinfomsg: family 0, index 0, flags 0x0, change 0x0
                09000300 6574683000000000 // IFLA_IFNAME "eth0" NUL-terminated
                """),
        Case(
            name: "get link by index",
            request: .query(.link(.index(3))),
            dump: """
                20000000120001000000000000000000 // nlmsghdr: len 32, RTM_GETLINK, REQUEST, seq 0, port 0
                00000000030000000000000000000000 // ifinfomsg: family 0, index 3, flags 0x0, change 0x0
                """),
        Case(
            name: "dump links",
            request: .query(.links),
            dump: """
                20000000120001030000000000000000 // nlmsghdr: len 32, RTM_GETLINK, REQUEST|DUMP, seq 0, port 0
                00000000000000000000000000000000 // ifinfomsg: family 0, index 0, flags 0x0, change 0x0
                """),
        Case(
            name: "dump fdb",
            request: .query(.forwardingDatabase),
            dump: """
                1c0000001e0001030000000000000000 // nlmsghdr: len 28, RTM_GETNEIGH, REQUEST|DUMP, seq 0, port 0
                070000000000000000000000 // ndmsg: family 7, ifindex 0, state 0x0, flags 0x0
                """),
        Case(
            name: "dump neighbours",
            request: .query(.neighbours(family: 2)),
            dump: """
                1c0000001e0001030000000000000000 // nlmsghdr: len 28, RTM_GETNEIGH, REQUEST|DUMP, seq 0, port 0
                020000000000000000000000 // ndmsg: family 2, ifindex 0, state 0x0, flags 0x0
                """),
        Case(
            name: "dump addresses",
            request: .query(.addresses(family: 2)),
            dump: """
                18000000160001030000000000000000 // nlmsghdr: len 24, RTM_GETADDR, REQUEST|DUMP, seq 0, port 0
                0200000000000000 // ifaddrmsg: family 2, prefixlen 0, index 0
                """),
    ]

    @Test(arguments: cases)
    func encodesExactBytes(_ golden: Case) throws {
        let encoded: [UInt8] =
            switch golden.request {
            case .operation(let operation): try OperationEncoder.encode(operation)
            case .query(let query): OperationEncoder.encode(query)
            }
        #expect(hexString(encoded) == hexString(hex(golden.dump)))
    }

    /// The dry run reads requests back from these bytes, so decoding must give back what was encoded.
    @Test(arguments: cases)
    func decodesBackToTheRequest(_ golden: Case) throws {
        let message = try #require(try MessageView.split(hex(golden.dump)[...]).first)
        #expect(try MessageDecoder.decodeRequest(message) == golden.request)
    }
}
