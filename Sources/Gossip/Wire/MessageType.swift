/// memberlist's message type byte (`net.go` `messageType`, an iota list: "ONLY APPEND").
///
/// The first byte of every message, compound part and wrapper says what follows.
public enum MessageType: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// `ping`: a direct probe (UDP, or TCP as the fallback ping).
    case ping = 0
    /// `indirectPingReq`: ask a peer to probe a target for us.
    case indirectPing = 1
    /// `ackResp`: the answer to a ping.
    case ack = 2
    /// `suspect`: gossip that a node may have failed.
    case suspect = 3
    /// `alive`: gossip that a node is alive, with its address, meta and versions.
    case alive = 4
    /// `dead`: gossip that a node failed, or left when `Node == From`.
    case dead = 5
    /// The push/pull state exchange (TCP only).
    case pushPull = 6
    /// Several messages in one packet.
    case compound = 7
    /// An application (delegate) message.
    case user = 8
    /// An LZW-compressed payload.
    case compress = 9
    /// An encrypted TCP stream frame.
    case encrypt = 10
    /// `nackResp`: an indirect probe got no answer in time.
    case nack = 11
    /// A CRC-32 guarded payload (UDP).
    case hasCRC = 12
    /// `errResp`: the stream peer failed to handle our request.
    case error = 13
    /// A label header (memberlist ≥ 0.3 only; Debian's serf rejects it).
    case hasLabel = 244

    public var description: String {
        switch self {
        case .ping: "ping"
        case .indirectPing: "indirect ping"
        case .ack: "ack"
        case .suspect: "suspect"
        case .alive: "alive"
        case .dead: "dead"
        case .pushPull: "push/pull"
        case .compound: "compound"
        case .user: "user"
        case .compress: "compress"
        case .encrypt: "encrypt"
        case .nack: "nack"
        case .hasCRC: "CRC"
        case .error: "error"
        case .hasLabel: "label"
        }
    }
}
