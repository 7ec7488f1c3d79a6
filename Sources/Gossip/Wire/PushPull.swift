import MessagePack

/// What a push/pull says about one node's state (`NodeStateType`, a Go `int`).
///
/// A struct rather than an enum so that a value from a newer peer survives decoding; memberlist ignores states
/// it does not know.
public struct NodeState: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public var rawValue: Int
    /// Wraps a wire value, known or not.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// `StateAlive`.
    public static let alive = NodeState(rawValue: 0)
    /// `StateSuspect`.
    public static let suspect = NodeState(rawValue: 1)
    /// `StateDead`.
    public static let dead = NodeState(rawValue: 2)
    /// `StateLeft` (a graceful leave).
    public static let left = NodeState(rawValue: 3)

    public var description: String {
        switch rawValue {
        case 0: "alive"
        case 1: "suspect"
        case 2: "dead"
        case 3: "left"
        default: "state(\(rawValue))"
        }
    }
}

/// `pushPullHeader`: opens a push/pull stream; the node states and the raw user state follow it.
public struct PushPullHeader: WireMessage {
    public static let messageType = MessageType.pushPull
    public static let goTypeName = "pushPullHeader"
    public static let goFieldOrder = ["Nodes", "UserStateLen", "Join"]

    /// How many ``PushNodeState`` values follow.
    public var nodes: Int
    /// How many raw user-state bytes follow the node states.
    public var userStateLen: Int
    /// `true` for the exchange of a join, `false` for periodic anti-entropy.
    public var join: Bool

    /// Makes a header.
    public init(nodes: Int, userStateLen: Int, join: Bool) {
        self.nodes = nodes
        self.userStateLen = userStateLen
        self.join = join
    }

    public var body: MessagePackValue {
        .goStruct([
            ("Nodes", .int(Int64(nodes))),
            ("UserStateLen", .int(Int64(userStateLen))),
            ("Join", .bool(join)),
        ])
    }

    public init(fields: GoStructFields) throws(MessagePackError) {
        self.init(
            nodes: try fields.integer("Nodes"),
            userStateLen: try fields.integer("UserStateLen"),
            join: try fields.bool("Join")
        )
    }
}

/// `pushNodeState`: one node in a push/pull, written without a type byte after the header.
public struct PushNodeState: GoStructBody {
    public static let goTypeName = "pushNodeState"
    public static let goFieldOrder = ["Name", "Addr", "Port", "Meta", "Incarnation", "State", "Vsn"]

    /// The node's name (the key is `Name`, not `Node`).
    public var name: String
    /// Its address, 4 or 16 bytes. Written as nil when empty.
    public var addr: [UInt8]
    /// Its gossip port.
    public var port: UInt16
    /// Delegate metadata. `nil` is written as `c0`, `[]` as `a0`.
    public var meta: [UInt8]?
    /// Its incarnation.
    public var incarnation: UInt32
    /// Alive, suspect, dead or left.
    public var state: NodeState
    /// Six version bytes, as in ``Alive/vsn``. Written as nil when empty.
    public var vsn: [UInt8]

    /// Makes a node state.
    public init(
        name: String, addr: [UInt8], port: UInt16, meta: [UInt8]?, incarnation: UInt32, state: NodeState,
        vsn: [UInt8]
    ) {
        self.name = name
        self.addr = addr
        self.port = port
        self.meta = meta
        self.incarnation = incarnation
        self.state = state
        self.vsn = vsn
    }

    public var body: MessagePackValue {
        .goStruct([
            ("Name", .string(name)),
            ("Addr", .bytes(addr.isEmpty ? nil : addr)),
            ("Port", .uint(UInt64(port))),
            ("Meta", .bytes(meta)),
            ("Incarnation", .uint(UInt64(incarnation))),
            ("State", .int(Int64(state.rawValue))),
            ("Vsn", .bytes(vsn.isEmpty ? nil : vsn)),
        ])
    }

    public init(fields: GoStructFields) throws(MessagePackError) {
        self.init(
            name: try fields.string("Name"),
            addr: try fields.bytes("Addr"),
            port: try fields.integer("Port"),
            meta: try fields.optionalBytes("Meta"),
            incarnation: try fields.integer("Incarnation"),
            state: NodeState(rawValue: try fields.integer("State")),
            vsn: try fields.bytes("Vsn")
        )
    }

    /// The node state on its own (no type byte), as it follows a push/pull header.
    public func encoded() -> [UInt8] {
        MessagePack.encode(body)
    }
}

/// A whole push/pull stream message: `06`, ``PushPullHeader``, the node states, then the raw user state
/// (the delegate's `LocalState`, not msgpack-wrapped).
public struct PushPull: Sendable, Hashable {
    /// `true` for a join.
    public var join: Bool
    /// Every node the sender knows, including suspect, dead and left ones.
    public var nodes: [PushNodeState]
    /// The delegate's opaque state (serf: `02` + msgpack).
    public var userState: [UInt8]

    /// Makes a push/pull message; the header is derived from it.
    public init(join: Bool, nodes: [PushNodeState], userState: [UInt8] = []) {
        self.join = join
        self.nodes = nodes
        self.userState = userState
    }

    /// The header that announces this message's node count and user-state length.
    public var header: PushPullHeader {
        PushPullHeader(nodes: nodes.count, userStateLen: userState.count, join: join)
    }

    /// The message on the wire: type byte, header, node states, user state.
    public func encoded() -> [UInt8] {
        var writer = MessagePackWriter(reservingCapacity: 64 + nodes.count * 96 + userState.count)
        writer.appendRawBytes([MessageType.pushPull.rawValue])
        writer.write(header.body)
        for node in nodes { writer.write(node.body) }
        writer.appendRawBytes(userState)
        return writer.bytes
    }

    /// Decodes a whole push/pull message (type byte included), checking the header's counts against `limits`
    /// and against the bytes present before allocating. Bytes after the user state are ignored, as Go does.
    public static func decode(_ message: [UInt8], limits: WireLimits = WireLimits()) throws(WireError) -> PushPull {
        try expectType(.pushPull, in: message)
        var reader = MessagePackReader(message, offset: 1, maxDepth: limits.maxMessagePackDepth)
        let header = try PushPullHeader.decodeBody(from: &reader)
        guard header.nodes >= 0, header.nodes <= limits.maxPushPullNodes else {
            throw .lengthOutOfRange(field: "pushPullHeader.Nodes", value: Int64(header.nodes), limit: limits.maxPushPullNodes)
        }
        guard header.userStateLen >= 0, header.userStateLen <= limits.maxUserStateBytes else {
            throw .lengthOutOfRange(
                field: "pushPullHeader.UserStateLen", value: Int64(header.userStateLen), limit: limits.maxUserStateBytes)
        }
        // Each node state takes at least one byte, so never reserve more than the bytes left.
        var nodes: [PushNodeState] = []
        nodes.reserveCapacity(min(header.nodes, reader.remainingCount))
        for _ in 0..<header.nodes {
            guard reader.remainingCount > 0 else {
                throw .truncated(context: "push/pull node states", needed: header.nodes, available: nodes.count)
            }
            nodes.append(try PushNodeState.decodeBody(from: &reader, in: .pushPull))
        }
        guard header.userStateLen <= reader.remainingCount else {
            throw .truncated(context: "push/pull user state", needed: header.userStateLen, available: reader.remainingCount)
        }
        let userState = Array(message[reader.offset..<reader.offset + header.userStateLen])
        return PushPull(join: header.join, nodes: nodes, userState: userState)
    }
}
