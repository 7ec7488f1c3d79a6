import Synchronization

/// Reads one memberlist stream message: accumulates chunks until the length its framing declares has arrived
/// (``StreamFramer``), then decodes it once. Fails after `timeout`, after `firstByteTimeout` without a byte,
/// when the peer closes early, when a declared size is over the limits, or when the bytes held would exceed
/// `budget` (shared by every inbound stream).
func readStreamMessage(
    _ stream: GossipStream, config: WireConfig, timeout: Duration, firstByteTimeout: Duration? = nil,
    budget: StreamBudget? = nil
) async throws -> DecodedStream {
    let silent = Atomic(false)
    let gotData = Atomic(false)
    let timer = Task {
        if let firstByteTimeout, firstByteTimeout < timeout {
            do { try await Task.sleep(for: firstByteTimeout) } catch { return }
            if !gotData.load(ordering: .acquiring) {
                silent.store(true, ordering: .releasing)
                stream.close()
                return
            }
            do { try await Task.sleep(for: timeout - firstByteTimeout) } catch { return }
        } else {
            do { try await Task.sleep(for: timeout) } catch { return }
        }
        stream.close()
    }
    defer { timer.cancel() }
    var buffer: [UInt8] = []
    var framer = StreamFramer(limits: config.limits)
    var reserved = 0
    defer { budget?.release(reserved) }
    for try await chunk in stream.inbound {
        gotData.store(true, ordering: .releasing)
        if let budget {
            guard budget.reserve(chunk.count) else {
                throw WireError.lengthOutOfRange(
                    field: "bytes held by inbound streams", value: Int64(budget.inUse + chunk.count),
                    limit: budget.limit)
            }
            reserved += chunk.count
        }
        buffer += chunk
        guard buffer.count <= config.limits.maxStreamFrameBytes + 64 else {
            throw WireError.lengthOutOfRange(
                field: "stream", value: Int64(buffer.count), limit: config.limits.maxStreamFrameBytes)
        }
        guard let length = try framer.messageLength(in: buffer) else { continue }
        return try StreamCodec.decode(buffer.count == length ? buffer : Array(buffer[..<length]), config: config)
    }
    if silent.load(ordering: .acquiring) { throw GossipTransportError.silent(firstByteTimeout ?? timeout) }
    throw GossipTransportError.streamEnded(receivedBytes: buffer.count)
}

/// The bytes all inbound streams being read hold together, bounded, so that many slow streams cannot pile up
/// memory even when each stays under its own size limit.
final class StreamBudget: Sendable {
    /// The most bytes held at once.
    let limit: Int
    private let used = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// The bytes held now.
    var inUse: Int { used.load(ordering: .relaxed) }

    /// Takes `count` bytes from the budget; `false`, taking nothing, when that would exceed the limit.
    func reserve(_ count: Int) -> Bool {
        guard used.add(count, ordering: .relaxed).newValue > limit else { return true }
        used.subtract(count, ordering: .relaxed)
        return false
    }

    /// Gives back bytes taken with ``reserve(_:)``.
    func release(_ count: Int) {
        used.subtract(count, ordering: .relaxed)
    }
}
