import CMnl
import Glibc

/// What one request message asks for: a change (acknowledged) or a read (answered with data).
enum DecodedRequest: Hashable, Sendable {
    case operation(NetlinkOperation)
    case query(NetlinkQuery)
}

/// Decodes request and reply messages back into values. The dry-run transport renders what it is sent
/// through this decoder, and the kernel transport parses dumps with it, so one reading of the bytes serves both.
enum MessageDecoder {
    static let linkHeaderSize = MemoryLayout<ifinfomsg>.size
    static let neighbourHeaderSize = MemoryLayout<ndmsg>.size
    static let addressHeaderSize = MemoryLayout<ifaddrmsg>.size

    /// Decodes a request weft's encoder produced; links appear as `.index` references.
    static func decodeRequest(_ message: MessageView) throws(NetlinkError) -> DecodedRequest {
        let flags = Int32(message.flags)
        switch Int(message.type) {
        case RTM_GETLINK:
            let header = try message.familyHeader(ifinfomsg.self, "ifinfomsg")
            if flags & NLM_F_DUMP == NLM_F_DUMP { return .query(.links) }
            if header.ifi_index != 0 { return .query(.link(.index(header.ifi_index))) }
            let attributes = try message.attributes(after: linkHeaderSize)
            guard let name = attributes.string(IFLA_IFNAME) else {
                throw .malformedMessage("RTM_GETLINK names neither an index nor an interface name")
            }
            return .query(.link(.name(name)))

        case RTM_GETADDR:
            let header = try message.familyHeader(ifaddrmsg.self, "ifaddrmsg")
            return .query(.addresses(family: header.ifa_family))

        case RTM_GETNEIGH:
            let header = try message.familyHeader(ndmsg.self, "ndmsg")
            if header.ndm_family == UInt8(AF_BRIDGE) { return .query(.forwardingDatabase) }
            return .query(.neighbours(family: header.ndm_family))

        case RTM_NEWLINK:
            let header = try message.familyHeader(ifinfomsg.self, "ifinfomsg")
            let attributes = try message.attributes(after: linkHeaderSize)
            if flags & NLM_F_CREATE != 0 { return .operation(.createLink(try decodeLinkSpec(attributes))) }
            var changes = LinkChanges()
            if header.ifi_change & UInt32(IFF_UP) != 0 { changes.up = header.ifi_flags & UInt32(IFF_UP) != 0 }
            changes.mtu = attributes.u32(IFLA_MTU)
            changes.mac = attributes.mac(IFLA_ADDRESS)
            if let master = attributes.u32(IFLA_MASTER) {
                changes.master = master == 0 ? LinkChanges.Master.none : .bridge(.index(Int32(bitPattern: master)))
            }
            changes.name = attributes.string(IFLA_IFNAME)
            changes.namespaceFD = attributes.u32(IFLA_NET_NS_FD).map { Int32(bitPattern: $0) }
            if let inet = try attributes.nested(IFLA_AF_SPEC)?.nested(Int(AF_INET))?.nested(IFLA_INET_CONF),
                let forwarding = inet.u32(OperationEncoder.ipv4DevconfForwarding)
            {
                changes.ipv4Forwarding = forwarding != 0
            }
            return .operation(.setLink(.index(header.ifi_index), changes))

        case RTM_SETLINK:
            let header = try message.familyHeader(ifinfomsg.self, "ifinfomsg")
            guard header.ifi_family == UInt8(AF_BRIDGE),
                let port = try message.attributes(after: linkHeaderSize).nested(IFLA_PROTINFO)
            else { throw .malformedMessage("RTM_SETLINK without bridge port settings") }
            let changes = BridgePortChanges(
                learning: port.bool(IFLA_BRPORT_LEARNING),
                neighbourSuppression: port.bool(IFLA_BRPORT_NEIGH_SUPPRESS)
            )
            return .operation(.setBridgePort(.index(header.ifi_index), changes))

        case RTM_DELLINK:
            let header = try message.familyHeader(ifinfomsg.self, "ifinfomsg")
            return .operation(.deleteLink(.index(header.ifi_index)))

        case RTM_NEWADDR, RTM_DELADDR:
            let header = try message.familyHeader(ifaddrmsg.self, "ifaddrmsg")
            let attributes = try message.attributes(after: addressHeaderSize)
            guard let address = attributes.address(IFA_LOCAL) ?? attributes.address(IFA_ADDRESS),
                let interfaceAddress = IPInterface(address: address, prefixLength: Int(header.ifa_prefixlen))
            else { throw .malformedMessage("address message without a valid address") }
            let device = LinkReference.index(Int32(bitPattern: header.ifa_index))
            return .operation(
                Int(message.type) == RTM_NEWADDR
                    ? .addAddress(interfaceAddress, device: device) : .deleteAddress(interfaceAddress, device: device)
            )

        case RTM_NEWNEIGH, RTM_DELNEIGH:
            let isWrite = Int(message.type) == RTM_NEWNEIGH
            let mode: WriteMode =
                flags & NLM_F_APPEND != 0 ? .append : flags & NLM_F_REPLACE != 0 ? .replace : .add
            switch try decodeNeighbour(message) {
            case .fdb(let entry): return .operation(isWrite ? .writeFDB(entry, mode) : .deleteFDB(entry))
            case .neighbour(let entry):
                return .operation(isWrite ? .writeNeighbour(entry, mode) : .deleteNeighbour(entry))
            }

        default:
            throw .malformedMessage("unexpected request message type \(message.type)")
        }
    }

    /// A link from a `RTM_NEWLINK` dump entry.
    static func decodeLink(_ message: MessageView) throws(NetlinkError) -> Link {
        let header = try message.familyHeader(ifinfomsg.self, "ifinfomsg")
        let attributes = try message.attributes(after: linkHeaderSize)
        var link = Link(index: header.ifi_index, name: attributes.string(IFLA_IFNAME) ?? "")
        link.mtu = attributes.u32(IFLA_MTU)
        link.mac = attributes.mac(IFLA_ADDRESS)
        link.master = attributes.u32(IFLA_MASTER).map { Int32(bitPattern: $0) }
        link.isUp = header.ifi_flags & UInt32(IFF_UP) != 0
        if let info = try attributes.nested(IFLA_LINKINFO) {
            link.kind = info.string(IFLA_INFO_KIND)
            if link.kind == "vxlan", let data = try info.nested(IFLA_INFO_DATA) { link.vxlan = decodeVXLAN(data) }
        }
        return link
    }

    /// An address and the link it is on, from a `RTM_NEWADDR` dump entry.
    static func decodeAddress(_ message: MessageView) throws(NetlinkError) -> AssignedAddress {
        let header = try message.familyHeader(ifaddrmsg.self, "ifaddrmsg")
        let attributes = try message.attributes(after: addressHeaderSize)
        guard let address = attributes.address(IFA_LOCAL) ?? attributes.address(IFA_ADDRESS),
            let assigned = IPInterface(address: address, prefixLength: Int(header.ifa_prefixlen))
        else { throw .malformedMessage("address entry without a valid address") }
        return AssignedAddress(device: Int32(bitPattern: header.ifa_index), address: assigned)
    }

    enum NeighbourMessage {
        case fdb(FDBEntry)
        case neighbour(NeighbourEntry)
    }

    /// An FDB entry (family `AF_BRIDGE`) or a neighbour entry from a `RTM_NEWNEIGH`/`RTM_DELNEIGH` message.
    static func decodeNeighbour(_ message: MessageView) throws(NetlinkError) -> NeighbourMessage {
        let header = try message.familyHeader(ndmsg.self, "ndmsg")
        let attributes = try message.attributes(after: neighbourHeaderSize)
        let device = LinkReference.index(header.ndm_ifindex)
        let state = NeighbourState(rawValue: header.ndm_state)
        if header.ndm_family == UInt8(AF_BRIDGE) {
            guard let mac = attributes.mac(NDA_LLADDR) else { throw .malformedMessage("FDB entry without a MAC address") }
            let table: FDBTable = Int32(header.ndm_flags) & NTF_SELF != 0 ? .device : .bridge
            let master = attributes.u32(NDA_MASTER).map { Int32(bitPattern: $0) }
            return .fdb(
                FDBEntry(
                    mac: mac, device: device, destination: attributes.address(NDA_DST), table: table, state: state,
                    master: master, port: attributes.u16(NDA_PORT).map { UInt16(bigEndian: $0) })
            )
        }
        guard let address = attributes.address(NDA_DST) else {
            throw .malformedMessage("neighbour entry without an address")
        }
        return .neighbour(NeighbourEntry(address: address, mac: attributes.mac(NDA_LLADDR), device: device, state: state))
    }

    private static func decodeLinkSpec(_ attributes: AttributeTable) throws(NetlinkError) -> LinkSpec {
        guard let name = attributes.string(IFLA_IFNAME) else { throw .malformedMessage("link creation without a name") }
        guard let info = try attributes.nested(IFLA_LINKINFO), let kindName = info.string(IFLA_INFO_KIND) else {
            throw .malformedMessage("link creation for \(name) without a kind")
        }
        let kind: LinkKind
        switch kindName {
        case "bridge":
            kind = .bridge
        case "wireguard":
            kind = .wireguard
        case "vxlan":
            guard let data = try info.nested(IFLA_INFO_DATA), let config = decodeVXLAN(data) else {
                throw .malformedMessage("vxlan \(name) without a valid VNI")
            }
            kind = .vxlan(config)
        case "veth":
            guard let data = try info.nested(IFLA_INFO_DATA), let peerBytes = data[Int(VETH_INFO_PEER)],
                peerBytes.count >= linkHeaderSize
            else { throw .malformedMessage("veth \(name) without a peer") }
            let peer = try AttributeTable(peerBytes.dropFirst(Int(cmnl_align(linkHeaderSize))))
            guard let peerName = peer.string(IFLA_IFNAME) else { throw .malformedMessage("veth \(name) peer without a name") }
            kind = .veth(
                peer: VethPeer(
                    name: peerName, mtu: peer.u32(IFLA_MTU), mac: peer.mac(IFLA_ADDRESS),
                    namespaceFD: peer.u32(IFLA_NET_NS_FD).map { Int32(bitPattern: $0) })
            )
        default:
            throw .malformedMessage("link \(name) has an unsupported kind \(kindName)")
        }
        return LinkSpec(name: name, kind: kind, mtu: attributes.u32(IFLA_MTU), mac: attributes.mac(IFLA_ADDRESS))
    }

    private static func decodeVXLAN(_ data: AttributeTable) -> VXLANConfig? {
        guard let raw = data.u32(IFLA_VXLAN_ID), let vni = VNI(raw) else { return nil }
        return VXLANConfig(
            vni: vni,
            port: UInt16(bigEndian: data.u16(IFLA_VXLAN_PORT) ?? UInt16(4789).bigEndian),
            local: data.address(IFLA_VXLAN_LOCAL) ?? data.address(IFLA_VXLAN_LOCAL6),
            lowerDevice: data.u32(IFLA_VXLAN_LINK).map { .index(Int32(bitPattern: $0)) },
            learning: data.bool(IFLA_VXLAN_LEARNING) ?? true,
            proxy: data.bool(IFLA_VXLAN_PROXY) ?? false,
            l2miss: data.bool(IFLA_VXLAN_L2MISS) ?? false,
            l3miss: data.bool(IFLA_VXLAN_L3MISS) ?? false,
            udpChecksum: data.bool(IFLA_VXLAN_UDP_CSUM) ?? false,
            ttl: data.u8(IFLA_VXLAN_TTL) ?? 0
        )
    }
}

/// The kernel's answer to one acknowledged request.
public struct Acknowledgement: Hashable, Sendable {
    public var sequence: UInt32
    /// 0 for success, otherwise a positive errno.
    public var errno: Int32
    /// The extended-ack text (`NLMSGERR_ATTR_MSG`), when the kernel gave one.
    public var kernelMessage: String?

    /// Parses an `NLMSG_ERROR` message. With `NETLINK_CAP_ACK` the echoed request is only its header,
    /// and with `NETLINK_EXT_ACK` attributes follow it when `NLM_F_ACK_TLVS` is set.
    static func decode(_ message: MessageView) throws(NetlinkError) -> Acknowledgement {
        guard message.payload.count >= 4 + MessageView.headerSize else {
            throw .malformedMessage("acknowledgement of \(message.payload.count) bytes is too short")
        }
        let code = Int32(bitPattern: message.payload.loadUInt32(at: message.payload.startIndex))
        var kernelMessage: String?
        if Int32(message.flags) & NLM_F_ACK_TLVS != 0 {
            let echoedLength = Int(message.payload.loadUInt32(at: message.payload.startIndex + 4))
            let capped = Int32(message.flags) & NLM_F_CAPPED != 0
            let start = message.payload.startIndex + 4 + (capped ? MessageView.headerSize : Int(cmnl_align(echoedLength)))
            if start <= message.payload.endIndex {
                kernelMessage = try AttributeTable(message.payload[start...]).string(Int(NLMSGERR_ATTR_MSG.rawValue))
            }
        }
        return Acknowledgement(sequence: message.sequence, errno: -code, kernelMessage: kernelMessage)
    }
}
