import CMnl
import Glibc

/// Encodes operations and queries as rtnetlink request messages, the way iproute2 would send them.
///
/// Every link must already be resolved to an index: names are resolved against the namespace first
/// (`NetlinkSession`), because rtnetlink addresses FDB, neighbour and master references by index.
/// Sequence numbers are left zero; the transport stamps them when it sends.
enum OperationEncoder {
    static func encode(_ operation: NetlinkOperation) throws(NetlinkError) -> [UInt8] {
        let object = operation.description
        func resolvedIndex(_ reference: LinkReference) throws(NetlinkError) -> Int32 {
            guard case .index(let index) = reference else {
                throw .invalidOperation(object: object, reason: "link \(reference) was not resolved to an index")
            }
            return index
        }
        func validate(_ name: String) throws(NetlinkError) {
            if let problem = LinkName.problem(with: name) { throw .invalidOperation(object: object, reason: problem) }
        }

        switch operation {
        case .createLink(let spec):
            try validate(spec.name)
            var lower: Int32?
            if case .vxlan(let config) = spec.kind, let device = config.lowerDevice { lower = try resolvedIndex(device) }
            if case .veth(let peer) = spec.kind { try validate(peer.name) }
            return encodeCreate(spec, lowerIndex: lower)

        case .deleteLink(let link):
            let index = try resolvedIndex(link)
            return MessageWriter.build(type: RTM_DELLINK, flags: NLM_F_REQUEST | NLM_F_ACK) { message in
                message.putFamilyHeader(LinkHeader(index: index).raw)
            }

        case .setLink(let link, let changes):
            let index = try resolvedIndex(link)
            if let name = changes.name { try validate(name) }
            var master: Int32?
            switch changes.master {
            case .bridge(let bridge): master = try resolvedIndex(bridge)
            case .none?: master = 0
            case nil: master = nil
            }
            return MessageWriter.build(type: RTM_NEWLINK, flags: NLM_F_REQUEST | NLM_F_ACK) { message in
                var header = LinkHeader(index: index)
                if let up = changes.up {
                    header.change = UInt32(IFF_UP)
                    header.flags = up ? UInt32(IFF_UP) : 0
                }
                message.putFamilyHeader(header.raw)
                if let mtu = changes.mtu { message.put(IFLA_MTU, u32: mtu) }
                if let mac = changes.mac { message.put(IFLA_ADDRESS, bytes: mac.bytes) }
                if let master { message.put(IFLA_MASTER, u32: UInt32(bitPattern: master)) }
                if let name = changes.name { message.put(IFLA_IFNAME, nulTerminated: name) }
                if let fd = changes.namespaceFD { message.put(IFLA_NET_NS_FD, u32: UInt32(bitPattern: fd)) }
                if let forwarding = changes.ipv4Forwarding {
                    message.nest(IFLA_AF_SPEC) {
                        message.nest(Int(AF_INET)) {
                            message.nest(IFLA_INET_CONF) { message.put(Self.ipv4DevconfForwarding, u32: forwarding ? 1 : 0) }
                        }
                    }
                }
            }

        case .setBridgePort(let link, let changes):
            let index = try resolvedIndex(link)
            return MessageWriter.build(type: RTM_SETLINK, flags: NLM_F_REQUEST | NLM_F_ACK) { message in
                message.putFamilyHeader(LinkHeader(index: index, family: UInt8(AF_BRIDGE)).raw)
                message.nest(IFLA_PROTINFO) {
                    if let learning = changes.learning { message.put(IFLA_BRPORT_LEARNING, bool: learning) }
                    if let suppress = changes.neighbourSuppression {
                        message.put(IFLA_BRPORT_NEIGH_SUPPRESS, bool: suppress)
                    }
                }
            }

        case .addAddress(let address, let device), .deleteAddress(let address, let device):
            let index = try resolvedIndex(device)
            let isAdd = if case .addAddress = operation { true } else { false }
            let flags = isAdd ? NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL : NLM_F_REQUEST | NLM_F_ACK
            return MessageWriter.build(type: isAdd ? RTM_NEWADDR : RTM_DELADDR, flags: flags) { message in
                var header = ifaddrmsg()
                header.ifa_family = address.address.family
                header.ifa_prefixlen = UInt8(address.prefixLength)
                header.ifa_index = UInt32(bitPattern: index)
                message.putFamilyHeader(header)
                message.put(IFA_LOCAL, bytes: address.address.bytes)
                message.put(IFA_ADDRESS, bytes: address.address.bytes)
            }

        case .writeFDB(let entry, let mode):
            let index = try resolvedIndex(entry.device)
            return MessageWriter.build(type: RTM_NEWNEIGH, flags: writeFlags(mode)) { message in
                putFDB(entry, index: index, into: message)
            }

        case .deleteFDB(let entry):
            let index = try resolvedIndex(entry.device)
            return MessageWriter.build(type: RTM_DELNEIGH, flags: NLM_F_REQUEST | NLM_F_ACK) { message in
                putFDB(entry, index: index, into: message)
            }

        case .writeNeighbour(let entry, let mode):
            let index = try resolvedIndex(entry.device)
            return MessageWriter.build(type: RTM_NEWNEIGH, flags: writeFlags(mode)) { message in
                message.putFamilyHeader(NeighbourHeader(family: entry.address.family, index: index, state: entry.state).raw)
                message.put(NDA_DST, bytes: entry.address.bytes)
                if let mac = entry.mac { message.put(NDA_LLADDR, bytes: mac.bytes) }
            }

        case .deleteNeighbour(let entry):
            let index = try resolvedIndex(entry.device)
            return MessageWriter.build(type: RTM_DELNEIGH, flags: NLM_F_REQUEST | NLM_F_ACK) { message in
                message.putFamilyHeader(NeighbourHeader(family: entry.address.family, index: index, state: entry.state).raw)
                message.put(NDA_DST, bytes: entry.address.bytes)
            }
        }
    }

    static func encode(_ query: NetlinkQuery) -> [UInt8] {
        switch query {
        case .link(.index(let index)):
            return MessageWriter.build(type: RTM_GETLINK, flags: NLM_F_REQUEST) { message in
                message.putFamilyHeader(LinkHeader(index: index).raw)
            }
        case .link(.name(let name)):
            return MessageWriter.build(type: RTM_GETLINK, flags: NLM_F_REQUEST) { message in
                message.putFamilyHeader(LinkHeader(index: 0).raw)
                message.put(IFLA_IFNAME, nulTerminated: name)
            }
        case .links:
            return MessageWriter.build(type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP) { message in
                message.putFamilyHeader(LinkHeader(index: 0).raw)
            }
        case .forwardingDatabase:
            return MessageWriter.build(type: RTM_GETNEIGH, flags: NLM_F_REQUEST | NLM_F_DUMP) { message in
                message.putFamilyHeader(NeighbourHeader(family: UInt8(AF_BRIDGE), index: 0, state: []).raw)
            }
        case .neighbours(let family):
            return MessageWriter.build(type: RTM_GETNEIGH, flags: NLM_F_REQUEST | NLM_F_DUMP) { message in
                message.putFamilyHeader(NeighbourHeader(family: family, index: 0, state: []).raw)
            }
        case .addresses(let family):
            return MessageWriter.build(type: RTM_GETADDR, flags: NLM_F_REQUEST | NLM_F_DUMP) { message in
                var header = ifaddrmsg()
                header.ifa_family = family
                message.putFamilyHeader(header)
            }
        }
    }

    /// A link as a `RTM_NEWLINK` message: the request that creates it, or (with `reply`) a dump entry
    /// describing it, which the dry-run kernel model answers dumps with.
    static func encodeCreate(_ spec: LinkSpec, lowerIndex: Int32?) -> [UInt8] {
        let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL
        return MessageWriter.build(type: RTM_NEWLINK, flags: flags) { message in
            message.putFamilyHeader(LinkHeader(index: 0).raw)
            putLinkBody(name: spec.name, kind: spec.kind, mtu: spec.mtu, mac: spec.mac, lowerIndex: lowerIndex, into: message)
        }
    }

    /// A dump entry for `link`, as the kernel would send it in answer to `RTM_GETLINK`.
    static func encodeLinkReply(_ link: Link, sequence: UInt32) -> [UInt8] {
        var bytes = MessageWriter.build(type: RTM_NEWLINK, flags: NLM_F_MULTI) { message in
            var header = LinkHeader(index: link.index)
            header.flags = link.isUp ? UInt32(IFF_UP) : 0
            message.putFamilyHeader(header.raw)
            message.put(IFLA_IFNAME, nulTerminated: link.name)
            if let mtu = link.mtu { message.put(IFLA_MTU, u32: mtu) }
            if let mac = link.mac { message.put(IFLA_ADDRESS, bytes: mac.bytes) }
            if let master = link.master { message.put(IFLA_MASTER, u32: UInt32(bitPattern: master)) }
            if let kind = link.kind {
                message.nest(IFLA_LINKINFO) {
                    message.put(IFLA_INFO_KIND, string: kind)
                    if let vxlan = link.vxlan {
                        var lower: Int32?
                        if case .index(let index)? = vxlan.lowerDevice { lower = index }
                        message.nest(IFLA_INFO_DATA) { putVXLAN(vxlan, lowerIndex: lower, into: message) }
                    }
                }
            }
        }
        stamp(&bytes, sequence: sequence)
        return bytes
    }

    /// A dump entry for an FDB or neighbour entry (devices already resolved to indexes).
    static func encodeNeighbourReply(fdb entry: FDBEntry, index: Int32, sequence: UInt32) -> [UInt8] {
        var bytes = MessageWriter.build(type: RTM_NEWNEIGH, flags: NLM_F_MULTI) { message in
            putFDB(entry, index: index, into: message)
            if let master = entry.master { message.put(NDA_MASTER, u32: UInt32(bitPattern: master)) }
        }
        stamp(&bytes, sequence: sequence)
        return bytes
    }

    static func encodeNeighbourReply(neighbour entry: NeighbourEntry, index: Int32, sequence: UInt32) -> [UInt8] {
        var bytes = MessageWriter.build(type: RTM_NEWNEIGH, flags: NLM_F_MULTI) { message in
            message.putFamilyHeader(NeighbourHeader(family: entry.address.family, index: index, state: entry.state).raw)
            message.put(NDA_DST, bytes: entry.address.bytes)
            if let mac = entry.mac { message.put(NDA_LLADDR, bytes: mac.bytes) }
        }
        stamp(&bytes, sequence: sequence)
        return bytes
    }

    /// A dump entry for an address, as the kernel would send it in answer to `RTM_GETADDR`.
    static func encodeAddressReply(_ entry: AssignedAddress, sequence: UInt32) -> [UInt8] {
        var bytes = MessageWriter.build(type: RTM_NEWADDR, flags: NLM_F_MULTI) { message in
            var header = ifaddrmsg()
            header.ifa_family = entry.address.address.family
            header.ifa_prefixlen = UInt8(entry.address.prefixLength)
            header.ifa_index = UInt32(bitPattern: entry.device)
            message.putFamilyHeader(header)
            message.put(IFA_LOCAL, bytes: entry.address.address.bytes)
            message.put(IFA_ADDRESS, bytes: entry.address.address.bytes)
        }
        stamp(&bytes, sequence: sequence)
        return bytes
    }

    /// Writes a sequence number into an encoded message's header.
    static func stamp(_ bytes: inout [UInt8], sequence: UInt32) {
        withUnsafeBytes(of: sequence.littleEndian) { value in
            for offset in 0..<4 { bytes[8 + offset] = value[offset] }
        }
    }

    private static func writeFlags(_ mode: WriteMode) -> Int32 {
        let base = NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE
        switch mode {
        case .add: return base | NLM_F_EXCL
        case .replace: return base | NLM_F_REPLACE
        case .append: return base | NLM_F_APPEND
        }
    }

    private static func putFDB(_ entry: FDBEntry, index: Int32, into message: MessageWriter) {
        var header = NeighbourHeader(family: UInt8(AF_BRIDGE), index: index, state: entry.state)
        header.raw.ndm_flags = UInt8(entry.table == .device ? NTF_SELF : NTF_MASTER)
        message.putFamilyHeader(header.raw)
        message.put(NDA_LLADDR, bytes: entry.mac.bytes)
        if let destination = entry.destination { message.put(NDA_DST, bytes: destination.bytes) }
        if let port = entry.port { message.put(NDA_PORT, u16: port.bigEndian) }
    }

    private static func putLinkBody(
        name: String, kind: LinkKind, mtu: UInt32?, mac: MACAddress?, lowerIndex: Int32?, into message: MessageWriter
    ) {
        message.put(IFLA_IFNAME, nulTerminated: name)
        if let mtu { message.put(IFLA_MTU, u32: mtu) }
        if let mac { message.put(IFLA_ADDRESS, bytes: mac.bytes) }
        message.nest(IFLA_LINKINFO) {
            message.put(IFLA_INFO_KIND, string: kind.kernelName)
            switch kind {
            case .bridge, .wireguard:
                break
            case .vxlan(let config):
                message.nest(IFLA_INFO_DATA) { putVXLAN(config, lowerIndex: lowerIndex, into: message) }
            case .veth(let peer):
                message.nest(IFLA_INFO_DATA) {
                    message.nest(Int(VETH_INFO_PEER)) {
                        message.putFamilyHeader(LinkHeader(index: 0).raw)
                        message.put(IFLA_IFNAME, nulTerminated: peer.name)
                        if let mtu = peer.mtu { message.put(IFLA_MTU, u32: mtu) }
                        if let mac = peer.mac { message.put(IFLA_ADDRESS, bytes: mac.bytes) }
                        if let fd = peer.namespaceFD { message.put(IFLA_NET_NS_FD, u32: UInt32(bitPattern: fd)) }
                    }
                }
            }
        }
    }

    /// `IPV4_DEVCONF_FORWARDING` (linux/ip.h), the forwarding entry of `IFLA_INET_CONF`.
    static let ipv4DevconfForwarding = 1

    private static func putVXLAN(_ config: VXLANConfig, lowerIndex: Int32?, into message: MessageWriter) {
        message.put(IFLA_VXLAN_ID, u32: config.vni.value)
        switch config.local {
        case .v4(let address)?: message.put(IFLA_VXLAN_LOCAL, bytes: address.bytes)
        case .v6(let address)?: message.put(IFLA_VXLAN_LOCAL6, bytes: address.bytes)
        case nil: break
        }
        if let lowerIndex { message.put(IFLA_VXLAN_LINK, u32: UInt32(bitPattern: lowerIndex)) }
        message.put(IFLA_VXLAN_PORT, u16: config.port.bigEndian)
        message.put(IFLA_VXLAN_TTL, u8: config.ttl)
        message.put(IFLA_VXLAN_LEARNING, bool: config.learning)
        message.put(IFLA_VXLAN_PROXY, bool: config.proxy)
        message.put(IFLA_VXLAN_L2MISS, bool: config.l2miss)
        message.put(IFLA_VXLAN_L3MISS, bool: config.l3miss)
        message.put(IFLA_VXLAN_UDP_CSUM, bool: config.udpChecksum)
    }
}

/// `struct ifinfomsg` with named fields.
struct LinkHeader {
    var raw = ifinfomsg()

    init(index: Int32, family: UInt8 = UInt8(AF_UNSPEC)) {
        raw.ifi_family = family
        raw.ifi_index = index
    }

    var flags: UInt32 {
        get { raw.ifi_flags }
        set { raw.ifi_flags = newValue }
    }

    var change: UInt32 {
        get { raw.ifi_change }
        set { raw.ifi_change = newValue }
    }
}

/// `struct ndmsg` with named fields.
struct NeighbourHeader {
    var raw = ndmsg()

    init(family: UInt8, index: Int32, state: NeighbourState) {
        raw.ndm_family = family
        raw.ndm_ifindex = index
        raw.ndm_state = state.rawValue
    }
}
