import Synchronization

/// Reads one memberlist stream message: accumulates chunks until the length its framing declares has arrived
/// (``StreamFramer``), then decodes it once. Fails after `timeout`, after `firstByteTimeout` without a byte,
/// when the peer closes early, or when a declared size is over the limits.
func readStreamMessage(
    _ stream: GossipStream, config: WireConfig, timeout: Duration, firstByteTimeout: Duration? = nil
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
    for try await chunk in stream.inbound {
        gotData.store(true, ordering: .releasing)
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
