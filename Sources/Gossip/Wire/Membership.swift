import MessagePack

/// `suspect`: `from` suspects that `node` (at `incarnation`) has failed. Gossiped over UDP.
public struct Suspect: WireMessage {
    public static let messageType = MessageType.suspect
    public static let goTypeName = "suspect"
    public static let goFieldOrder = ["Incarnation", "Node", "From"]

    /// The suspected node's incarnation as the accuser knows it.
    public var incarnation: UInt32
    /// The suspected node.
    public var node: String
    /// The accuser (counts as one Lifeguard confirmation).
    public var from: String

    /// Makes the message.
    public init(incarnation: UInt32, node: String, from: String) {
        self.incarnation = incarnation
        self.node = node
        self.from = from
    }

    public var body: MessagePackValue {
        .goStruct([("Incarnation", .uint(UInt64(incarnation))), ("Node", .string(node)), ("From", .string(from))])
    }

    public init(fields: GoStructFields) throws(MessagePackError) {
        self.init(
            incarnation: try fields.integer("Incarnation"),
            node: try fields.string("Node"),
            from: try fields.string("From")
        )
    }
}

/// `alive`: `node` is alive at `incarnation`, reachable at `addr`:`port`. Gossiped over UDP.
public struct Alive: WireMessage {
    public static let messageType = MessageType.alive
    public static let goTypeName = "alive"
    public static let goFieldOrder = ["Incarnation", "Node", "Addr", "Port", "Meta", "Vsn"]

    /// The incarnation; a higher one overrides suspicion.
    public var incarnation: UInt32
    /// The node's name.
    public var node: String
    /// Its address, 4 bytes for IPv4 and 16 for IPv6. Written as nil when empty, as a Go peer would.
    public var addr: [UInt8]
    /// Its gossip port.
    public var port: UInt16
    /// Delegate metadata (serf: `ff` + msgpack tags), at most 512 bytes. `nil` is written as `c0`, `[]` as `a0`.
    public var meta: [UInt8]?
    /// Six version bytes `pmin, pmax, pcur, dmin, dmax, dcur`. Never send fewer than six: memberlist up to
    /// v0.6.0 panics on 1 to 5. Written as nil when empty.
    public var vsn: [UInt8]

    /// Makes an alive message.
    public init(incarnation: UInt32, node: String, addr: [UInt8], port: UInt16, meta: [UInt8]?, vsn: [UInt8]) {
        self.incarnation = incarnation
        self.node = node
        self.addr = addr
        self.port = port
        self.meta = meta
        self.vsn = vsn
    }

    public var body: MessagePackValue {
        .goStruct([
            ("Incarnation", .uint(UInt64(incarnation))),
            ("Node", .string(node)),
            ("Addr", .bytes(addr.isEmpty ? nil : addr)),
            ("Port", .uint(UInt64(port))),
            ("Meta", .bytes(meta)),
            ("Vsn", .bytes(vsn.isEmpty ? nil : vsn)),
        ])
    }

    public init(fields: GoStructFields) throws(MessagePackError) {
        self.init(
            incarnation: try fields.integer("Incarnation"),
            node: try fields.string("Node"),
            addr: try fields.bytes("Addr"),
            port: try fields.integer("Port"),
            meta: try fields.optionalBytes("Meta"),
            vsn: try fields.bytes("Vsn")
        )
    }
}

/// `dead`: `from` declares `node` failed; when `node == from` the node left on purpose.
public struct Dead: WireMessage {
    public static let messageType = MessageType.dead
    public static let goTypeName = "dead"
    public static let goFieldOrder = ["Incarnation", "Node", "From"]

    /// The dead node's incarnation.
    public var incarnation: UInt32
    /// The dead node.
    public var node: String
    /// Who declares it; the node itself for a voluntary leave.
    public var from: String

    /// Makes the message.
    public init(incarnation: UInt32, node: String, from: String) {
        self.incarnation = incarnation
        self.node = node
        self.from = from
    }

    /// `true` for a graceful leave (the node announced its own death).
    public var isLeave: Bool { node == from }

    public var body: MessagePackValue {
        .goStruct([("Incarnation", .uint(UInt64(incarnation))), ("Node", .string(node)), ("From", .string(from))])
    }

    public init(fields: GoStructFields) throws(MessagePackError) {
        self.init(
            incarnation: try fields.integer("Incarnation"),
            node: try fields.string("Node"),
            from: try fields.string("From")
        )
    }
}
