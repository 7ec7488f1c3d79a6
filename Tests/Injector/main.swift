// weft-inject: crafted gossip datagrams, built with weft's own codecs, for the end-to-end attack tests. It plays
// an outsider on the underlay (no key) or one that stole the cluster key (--key), never a member: it sends one UDP
// datagram per attack to a host's gossip port and exits. Test use only.
import FoundationEssentials
import Glibc
import Gossip
import Netlink
import Overlay

func fail(_ message: String) -> Never {
    let line = Array("weft-inject: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

let usage = """
    usage: weft-inject HOST:PORT [--key BASE64] ATTACK ARGS...
      endpoint VNI IP MAC VTEP OWNER CLOCK   an endpoint record claiming OWNER, signed with a key that is not OWNER's
      dead NODE INCARNATION FROM             memberlist dead: FROM declares NODE failed
      suspect NODE INCARNATION FROM          memberlist suspect
    """

var arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count >= 2 else { fail(usage) }
let target = arguments.removeFirst()
guard let address = GossipAddress(parsing: target, defaultPort: 7946), address.ip.isIPv4 else { fail("\(target) is not IPv4:port") }
var config = WireConfig()
if arguments.first == "--key" {
    arguments.removeFirst()
    guard !arguments.isEmpty, let key = Data(base64Encoded: arguments.removeFirst()) else { fail("--key needs base64") }
    do { config = WireConfig(keyring: try Keyring(keys: [Array(key)])) } catch { fail("\(error)") }
}
guard !arguments.isEmpty else { fail(usage) }
let attack = arguments.removeFirst()

func number<T: FixedWidthInteger>(_ text: String, _ type: T.Type) -> T {
    if text == "max" { return T.max }
    guard let value = T(text) else { fail("\(text) is not a number") }
    return value
}

let message: PacketMessage
switch (attack, arguments.count) {
case ("endpoint", 6):
    guard let vni = VNI(number(arguments[0], UInt32.self)), let ip = IPv4Address(arguments[1]),
        let mac = MACAddress(arguments[2]), let vtep = IPAddress(arguments[3])
    else { fail("endpoint: bad VNI, IP, MAC or VTEP") }
    let owner = arguments[4]
    let endpoint = EndpointAnnouncement(vni: vni, endpointID: "forged0000000000", address: ip, mac: mac, host: owner, vtep: vtep)
    let entry = ReplicatedEntry(version: EntryVersion(clock: number(arguments[5], UInt64.self), node: owner), owner: owner, value: endpoint)
    // Signed, with a key of the attacker's own: everything about the record is right but who signed it.
    let update = NodeIdentity().signing(.endpoint(key: endpoint.key, entry: entry))
    message = .user(UserMessage(payload: ClusterCodec.encode([update])))
case ("dead", 3):
    message = .dead(Dead(incarnation: number(arguments[1], UInt32.self), node: arguments[0], from: arguments[2]))
case ("suspect", 3):
    message = .suspect(Suspect(incarnation: number(arguments[1], UInt32.self), node: arguments[0], from: arguments[2]))
default:
    fail(usage)
}

let packet: [UInt8]
do { packet = try PacketCodec.encode(message.encoded(), config: config) } catch { fail("\(error)") }
let socketFD = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
guard socketFD >= 0 else { fail("socket: \(String(cString: strerror(errno)))") }
var destination = sockaddr_in()
destination.sin_family = sa_family_t(AF_INET)
destination.sin_port = address.port.bigEndian
withUnsafeMutableBytes(of: &destination.sin_addr) { $0.copyBytes(from: address.ip.bytes) }
let sent = packet.withUnsafeBytes { bytes in
    withUnsafePointer(to: &destination) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            sendto(socketFD, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
}
guard sent == packet.count else { fail("sendto: \(String(cString: strerror(errno)))") }
close(socketFD)
print("sent \(attack) (\(packet.count) bytes\(config.keyring == nil ? ", plaintext" : ", encrypted")) to \(target)")
