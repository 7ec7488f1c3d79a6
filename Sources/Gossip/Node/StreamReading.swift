/// Reads one memberlist stream message: accumulates chunks until it decodes, failing after `timeout`, when the
/// peer closes early, or when the data cannot be a valid message.
func readStreamMessage(_ stream: GossipStream, config: WireConfig, timeout: Duration) async throws -> DecodedStream {
    let timer = Task {
        do { try await Task.sleep(for: timeout) } catch { return }
        stream.close()
    }
    defer { timer.cancel() }
    var buffer: [UInt8] = []
    for try await chunk in stream.inbound {
        buffer += chunk
        guard buffer.count <= config.limits.maxStreamFrameBytes + 64 else {
            throw WireError.lengthOutOfRange(
                field: "stream", value: Int64(buffer.count), limit: config.limits.maxStreamFrameBytes)
        }
        if let frame = try StreamCodec.frameLength(of: buffer, config: config), buffer.count < frame { continue }
        let result = Result { () throws(WireError) -> DecodedStream in try StreamCodec.decode(buffer, config: config) }
        switch result {
        case .success(let decoded): return decoded
        case .failure(let error):
            if error.needsMoreInput { continue }
            throw error
        }
    }
    if timer.isCancelled == false && buffer.isEmpty { throw GossipTransportError.timedOut("reading a stream") }
    throw GossipTransportError.streamEnded(receivedBytes: buffer.count)
}
