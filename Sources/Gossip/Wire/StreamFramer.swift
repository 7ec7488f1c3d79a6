import MessagePack

/// Finds where one memberlist stream message ends while its bytes arrive, so a reader decodes it once, when all
/// of it is in, instead of re-decoding a growing buffer on every chunk (quadratic in the message size).
///
/// It walks the framing memberlist declares (label `f4 len`, encrypted `0a len32`, a push/pull header's node
/// count and user-state length, a user message's length) and skips msgpack values token by token, resuming where
/// it stopped; every byte is examined once (a token header split across chunks, at most 9 bytes, again). A
/// declared length or count over ``WireLimits`` is refused as soon as it is read, before the data arrives.
struct StreamFramer: Sendable {
    private enum Stage: Sendable {
        /// Reading the optional label header.
        case label
        /// Reading the message type at this offset.
        case kind(Int)
        /// Skipping msgpack values; then what follows them.
        case values(MessagePackSkipper, then: AfterValues)
        /// The message ends at this offset.
        case end(Int)
    }

    private enum AfterValues: Sendable {
        /// The message ends after the values.
        case done
        /// A push/pull header starting at this offset was skipped: read it, then skip the node states.
        case pushPullHeader(Int)
        /// The node states were skipped: the user state follows, this long.
        case raw(Int)
        /// A user-message header starting at this offset was skipped: read it, then its payload follows.
        case userHeader(Int)
    }

    private let limits: WireLimits
    private var stage = Stage.label
    /// Token headers examined so far, for tests that bound the work per byte.
    private(set) var steps = 0

    init(limits: WireLimits) {
        self.limits = limits
    }

    /// The length of the message at the start of `buffer` once all of it has arrived, else `nil`. Call again
    /// with the same buffer grown by the next chunk. Throws when a declared size is over its limit; bytes that
    /// are not a valid message are left for the decoder to refuse (the length returned then is what arrived).
    mutating func messageLength(in buffer: [UInt8]) throws(WireError) -> Int? {
        while true {
            steps += 1
            switch stage {
            case .label:
                guard let first = buffer.first else { return nil }
                guard first == MessageType.hasLabel.rawValue else {
                    stage = .kind(0)
                    continue
                }
                guard buffer.count >= 2 else { return nil }
                stage = .kind(2 + Int(buffer[1]))
            case .kind(let offset):
                guard offset < buffer.count else { return nil }
                switch MessageType(rawValue: buffer[offset]) {
                case .encrypt:
                    guard buffer.count >= offset + 5 else { return nil }
                    let length = buffer[offset + 1..<offset + 5].reduce(0) { $0 << 8 | Int($1) }
                    guard length <= limits.maxStreamFrameBytes else {
                        throw .lengthOutOfRange(
                            field: "encrypted stream length", value: Int64(length), limit: limits.maxStreamFrameBytes)
                    }
                    stage = .end(offset + 5 + length)
                case .pushPull:
                    stage = .values(
                        MessagePackSkipper(.pushPull, offset: offset + 1, count: 1), then: .pushPullHeader(offset + 1))
                case .user:
                    stage = .values(
                        MessagePackSkipper(.user, offset: offset + 1, count: 1), then: .userHeader(offset + 1))
                case let type? where [.compress, .ping, .ack, .error].contains(type):
                    stage = .values(MessagePackSkipper(type, offset: offset + 1, count: 1), then: .done)
                default:
                    return buffer.count
                }
            case .values(var skipper, let after):
                let complete = try skipper.advance(in: buffer, limits: limits, steps: &steps)
                stage = .values(skipper, then: after)
                guard complete else { return nil }
                try finishValues(skipper.offset, after: after, in: buffer)
            case .end(let length):
                guard buffer.count >= length else { return nil }
                return length
            }
        }
    }

    private mutating func finishValues(_ offset: Int, after: AfterValues, in buffer: [UInt8]) throws(WireError) {
        switch after {
        case .done:
            stage = .end(offset)
        case .raw(let length):
            stage = .end(offset + length)
        case .pushPullHeader(let start):
            var reader = MessagePackReader(buffer, offset: start, maxDepth: limits.maxMessagePackDepth)
            let header = try PushPullHeader.decodeBody(from: &reader)
            guard header.nodes >= 0, header.nodes <= limits.maxPushPullNodes else {
                throw .lengthOutOfRange(
                    field: "pushPullHeader.Nodes", value: Int64(header.nodes), limit: limits.maxPushPullNodes)
            }
            guard header.userStateLen >= 0, header.userStateLen <= limits.maxUserStateBytes else {
                throw .lengthOutOfRange(
                    field: "pushPullHeader.UserStateLen", value: Int64(header.userStateLen),
                    limit: limits.maxUserStateBytes)
            }
            stage = .values(
                MessagePackSkipper(.pushPull, offset: offset, count: header.nodes), then: .raw(header.userStateLen))
        case .userHeader(let start):
            var reader = MessagePackReader(buffer, offset: start, maxDepth: limits.maxMessagePackDepth)
            let header = try UserMessageHeader.decodeBody(from: &reader)
            guard header.userMsgLen >= 0, header.userMsgLen <= limits.maxUserMessageBytes else {
                throw .lengthOutOfRange(
                    field: "userMsgHeader.UserMsgLen", value: Int64(header.userMsgLen),
                    limit: limits.maxUserMessageBytes)
            }
            stage = .end(offset + header.userMsgLen)
        }
    }
}

/// Skips a number of msgpack values in a buffer that grows, resuming at the token where it stopped.
struct MessagePackSkipper: Sendable {
    /// The message the values belong to, for errors.
    private let type: MessageType
    /// The next unread byte (may lie beyond the buffer while a string or binary is still arriving).
    private(set) var offset: Int
    /// Top-level values still to skip.
    private var remaining: Int
    /// For each open container, how many of its values are still to skip.
    private var open: [Int] = []

    init(_ type: MessageType, offset: Int, count: Int) {
        self.type = type
        self.offset = offset
        self.remaining = count
    }

    /// Skips every whole token in `buffer`; `true` once all the values are in.
    mutating func advance(in buffer: [UInt8], limits: WireLimits, steps: inout Int) throws(WireError) -> Bool {
        while remaining > 0 {
            guard offset < buffer.count else { return false }
            steps += 1
            guard let (headerSize, payload, children) = try token(in: buffer, at: offset) else { return false }
            let (end, overflow) = offset.addingReportingOverflow(headerSize + payload)
            guard !overflow, end <= limits.maxStreamFrameBytes else {
                throw .lengthOutOfRange(
                    field: "msgpack value", value: Int64(clamping: payload), limit: limits.maxStreamFrameBytes)
            }
            offset = end
            if children > 0 {
                guard open.count < limits.maxMessagePackDepth else {
                    throw .nestingTooDeep(limit: limits.maxMessagePackDepth)
                }
                open.append(children)
            } else {
                valueSkipped()
            }
        }
        return offset <= buffer.count
    }

    private mutating func valueSkipped() {
        while let last = open.indices.last {
            open[last] -= 1
            if open[last] > 0 { return }
            open.removeLast()
        }
        remaining -= 1
    }

    /// The token at `offset`: its header size, the raw bytes after the header, and how many values it
    /// contains; `nil` while the header is incomplete.
    private func token(in buffer: [UInt8], at offset: Int) throws(WireError) -> (Int, Int, Int)? {
        let byte = buffer[offset]
        func length(_ size: Int) -> Int? {
            guard offset + 1 + size <= buffer.count else { return nil }
            return buffer[offset + 1..<offset + 1 + size].reduce(0) { $0 << 8 | Int($1) }
        }
        switch byte {
        case 0x00...0x7f, 0xe0...0xff, 0xc0, 0xc2, 0xc3: return (1, 0, 0)
        case 0x80...0x8f: return (1, 0, 2 * Int(byte & 0x0f))
        case 0x90...0x9f: return (1, 0, Int(byte & 0x0f))
        case 0xa0...0xbf: return (1, Int(byte & 0x1f), 0)
        case 0xc4, 0xd9: return length(1).map { (2, $0, 0) }
        case 0xc5, 0xda: return length(2).map { (3, $0, 0) }
        case 0xc6, 0xdb: return length(4).map { (5, $0, 0) }
        case 0xc7: return length(1).map { (3, $0, 0) }
        case 0xc8: return length(2).map { (4, $0, 0) }
        case 0xc9: return length(4).map { (6, $0, 0) }
        case 0xca, 0xce, 0xd2: return (5, 0, 0)
        case 0xcb, 0xcf, 0xd3: return (9, 0, 0)
        case 0xcc, 0xd0: return (2, 0, 0)
        case 0xcd, 0xd1: return (3, 0, 0)
        case 0xd4...0xd8: return (2, 1 << Int(byte - 0xd4), 0)
        case 0xdc: return length(2).map { (3, 0, $0) }
        case 0xdd: return length(4).map { (5, 0, $0) }
        case 0xde: return length(2).map { (3, 0, 2 * $0) }
        case 0xdf: return length(4).map { (5, 0, 2 * $0) }
        default: throw .malformedBody(type, .invalidFormat(offset: offset, byte: byte))
        }
    }
}
