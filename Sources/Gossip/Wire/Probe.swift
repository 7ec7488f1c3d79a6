import MessagePack

/// `ping`: a direct probe. The receiver answers with an ``Ack`` carrying the same sequence number.
public struct Ping: WireMessage {
    public static let messageType = MessageType.ping
    public static let goTypeName = "ping"
    public static let goFieldOrder = ["SeqNo", "Node", "SourceAddr", "SourcePort", "SourceNode"]

    /// Matches the ack to the probe.
    public var seqNo: UInt32
    /// The *target's* name; a receiver with another name ignores the ping. Empty means "whoever you are".
    public var node: String
    /// Where to send the ack (IPv4 as 4 bytes, IPv6 as 16); empty means "the packet's source". `omitempty`.
    public var sourceAddr: [UInt8]
    /// The port for the ack; 0 means "the packet's source port". `omitempty`.
    public var sourcePort: UInt16
    /// The prober's name. `omitempty`.
    public var sourceNode: String

    /// Makes a ping; leave the source fields empty to have the ack sent to the packet's source.
    public init(seqNo: UInt32, node: String, sourceAddr: [UInt8] = [], sourcePort: UInt16 = 0, sourceNode: String = "") {
        self.seqNo = seqNo
        self.node = node
        self.sourceAddr = sourceAddr
        self.sourcePort = sourcePort
        self.sourceNode = sourceNode
    }

    public var body: MessagePackValue {
        .goStruct([
            ("SeqNo", .uint(UInt64(seqNo))),
            ("Node", .string(node)),
            ("SourceAddr", sourceAddr.isEmpty ? nil : .raw(sourceAddr)),
            ("SourcePort", sourcePort == 0 ? nil : .uint(UInt64(sourcePort))),
            ("SourceNode", sourceNode.isEmpty ? nil : .string(sourceNode)),
        ])
    }

    public init(fields: GoStructFields) throws(MessagePackError) {
        self.init(
            seqNo: try fields.integer("SeqNo"),
            node: try fields.string("Node"),
            sourceAddr: try fields.bytes("SourceAddr"),
            sourcePort: try fields.integer("SourcePort"),
            sourceNode: try fields.string("SourceNode")
        )
    }
}

/// `indirectPingReq`: asks a peer to probe `target` for us and relay the ack (or a nack).
public struct IndirectPing: WireMessage {
    public static let messageType = MessageType.indirectPing
    public static let goTypeName = "indirectPingReq"
    public static let goFieldOrder = ["SeqNo", "Target", "Port", "Node", "Nack", "SourceAddr", "SourcePort", "SourceNode"]

    /// The prober's sequence number, echoed in the relayed ack or nack.
    public var seqNo: UInt32
    /// The address to probe (4 or 16 bytes). Written as nil when empty, as a Go peer would.
    public var target: [UInt8]
    /// The port to probe; 0 means "your own bind port" (protocol version 1 peers).
    public var port: UInt16
    /// The target's name, so that a restarted node with another name does not answer.
    public var node: String
    /// Ask for a ``Nack`` if the target does not answer (only sent to peers with PMax ≥ 4).
    public var nack: Bool
    /// Where to relay the ack; empty means "the packet's source". `omitempty`.
    public var sourceAddr: [UInt8]
    /// The port for the relayed ack. `omitempty`.
    public var sourcePort: UInt16
    /// The prober's name. `omitempty`.
    public var sourceNode: String

    /// Makes an indirect ping request.
    public init(
        seqNo: UInt32, target: [UInt8], port: UInt16, node: String, nack: Bool,
        sourceAddr: [UInt8] = [], sourcePort: UInt16 = 0, sourceNode: String = ""
    ) {
        self.seqNo = seqNo
        self.target = target
        self.port = port
        self.node = node
        self.nack = nack
        self.sourceAddr = sourceAddr
        self.sourcePort = sourcePort
        self.sourceNode = sourceNode
    }

    public var body: MessagePackValue {
        .goStruct([
            ("SeqNo", .uint(UInt64(seqNo))),
            ("Target", .bytes(target.isEmpty ? nil : target)),
            ("Port", .uint(UInt64(port))),
            ("Node", .string(node)),
            ("Nack", .bool(nack)),
            ("SourceAddr", sourceAddr.isEmpty ? nil : .raw(sourceAddr)),
            ("SourcePort", sourcePort == 0 ? nil : .uint(UInt64(sourcePort))),
            ("SourceNode", sourceNode.isEmpty ? nil : .string(sourceNode)),
        ])
    }

    public init(fields: GoStructFields) throws(MessagePackError) {
        self.init(
            seqNo: try fields.integer("SeqNo"),
            target: try fields.bytes("Target"),
            port: try fields.integer("Port"),
            node: try fields.string("Node"),
            nack: try fields.bool("Nack"),
            sourceAddr: try fields.bytes("SourceAddr"),
            sourcePort: try fields.integer("SourcePort"),
            sourceNode: try fields.string("SourceNode")
        )
    }
}

/// `ackResp`: the answer to a ``Ping`` (direct, relayed, or over TCP).
public struct Ack: WireMessage {
    public static let messageType = MessageType.ack
    public static let goTypeName = "ackResp"
    public static let goFieldOrder = ["SeqNo", "Payload"]

    /// The probe's sequence number.
    public var seqNo: UInt32
    /// The ping delegate's payload (serf: its network coordinate). `nil` is written as `c0` and `[]` as `a0`,
    /// as Go writes a nil and an empty slice; Go peers treat both the same, and so should the protocol.
    public var payload: [UInt8]?

    /// Makes an ack; the payload is the ping delegate's (nil when there is none).
    public init(seqNo: UInt32, payload: [UInt8]? = nil) {
        self.seqNo = seqNo
        self.payload = payload
    }

    public var body: MessagePackValue {
        .goStruct([("SeqNo", .uint(UInt64(seqNo))), ("Payload", .bytes(payload))])
    }

    public init(fields: GoStructFields) throws(MessagePackError) {
        self.init(seqNo: try fields.integer("SeqNo"), payload: try fields.optionalBytes("Payload"))
    }
}

/// `nackResp`: an intermediary's indirect probe got no answer within the probe timeout.
public struct Nack: WireMessage {
    public static let messageType = MessageType.nack
    public static let goTypeName = "nackResp"
    public static let goFieldOrder = ["SeqNo"]

    /// The prober's sequence number from the ``IndirectPing``.
    public var seqNo: UInt32

    /// Makes a nack.
    public init(seqNo: UInt32) {
        self.seqNo = seqNo
    }

    public var body: MessagePackValue {
        .goStruct([("SeqNo", .uint(UInt64(seqNo)))])
    }

    public init(fields: GoStructFields) throws(MessagePackError) {
        self.init(seqNo: try fields.integer("SeqNo"))
    }
}
