import MessagePack

/// The few serf messages a weft node sends or reads (`serf/messages.go`): member intents and the Lamport times
/// that order them. serf only accepts a leave intent whose time is above what it last stored for the node.
public enum SerfIntent {
    /// serf's `messageLeaveType`.
    public static let leaveType: UInt8 = 0
    /// serf's `messageJoinType`.
    public static let joinType: UInt8 = 1
    /// serf's `messagePushPullType`.
    public static let pushPullType: UInt8 = 2

    /// A leave intent (`messageLeave{LTime, Node, Prune}`), serf type byte included.
    public static func leave(lamportTime: UInt64, node: String) -> [UInt8] {
        [leaveType] + MessagePack.encode(.goStruct([
            ("LTime", .uint(lamportTime)), ("Node", .string(node)), ("Prune", .bool(false)),
        ]))
    }

    /// A join intent (`messageJoin{LTime, Node}`), serf type byte included.
    public static func join(lamportTime: UInt64, node: String) -> [UInt8] {
        [joinType] + MessagePack.encode(.goStruct([("LTime", .uint(lamportTime)), ("Node", .string(node))]))
    }

    /// The `LTime` of an intent body (after the type byte).
    static func lamportTime(in body: [UInt8]) -> UInt64? {
        var reader = MessagePackReader(body)
        guard case .map(let pairs)? = try? reader.read() else { return nil }
        return pairs.first { $0.key.rawBytes == Array("LTime".utf8) }.flatMap { integer($0.value) }
    }

    /// The highest of `LTime` and every `StatusLTimes` value in serf's push/pull state (after the type byte).
    static func highestLamportTime(inPushPull body: [UInt8]) -> UInt64 {
        var reader = MessagePackReader(body)
        guard case .map(let pairs)? = try? reader.read() else { return 0 }
        var highest: UInt64 = 0
        for pair in pairs {
            switch pair.key.rawBytes.map({ String(decoding: $0, as: UTF8.self) }) {
            case "LTime": highest = max(highest, integer(pair.value) ?? 0)
            case "StatusLTimes":
                if case .map(let times) = pair.value {
                    for time in times { highest = max(highest, integer(time.value) ?? 0) }
                }
            default: continue
            }
        }
        return highest
    }

    private static func integer(_ value: MessagePackValue) -> UInt64? {
        switch value {
        case .uint(let number): number
        case .int(let number) where number >= 0: UInt64(number)
        default: nil
        }
    }
}
