// libFuzzer entry point over the gossip wire decoders and weft's cluster payloads. Built only with WEFT_FUZZ=1 and the fuzzer sanitizer
// (`make fuzz`); libFuzzer supplies `main`.
//
// The first input byte picks a decoder, the rest is its input. Besides "never trap", each decoder is checked
// against a round-trip property: whatever decodes must re-encode to something that decodes to the same value.
// Two selectors go further: a packet, or a stream's push/pull, is applied to one gossip node kept across inputs
// (so hostile values build up in its tables), and a local write follows, which must not trap either.

import Dispatch
@testable import Gossip
import Logging
import MessagePack
import Overlay

private let keyring = try! Keyring(keys: [Array("0123456789abcdef".utf8), Array(repeating: 7, count: 32)])
private let limits: WireLimits = {
    var limits = WireLimits()
    // Keep single runs fast and memory small; the bounds logic is the same at any size.
    limits.maxDecompressedBytes = 1 << 20
    limits.maxStreamFrameBytes = 1 << 20
    limits.maxUserStateBytes = 1 << 20
    limits.maxUserMessageBytes = 1 << 20
    return limits
}()
private let configs: [WireConfig] = [
    WireConfig(limits: limits),
    WireConfig(keyring: keyring, limits: limits),
    WireConfig(keyring: keyring, verifyIncoming: false, label: Array("weft".utf8), limits: limits),
    WireConfig(label: Array("x".utf8), skipInboundLabelCheck: true, limits: limits),
]

private func checkPacket(_ data: [UInt8], config: WireConfig) {
    guard let packet = try? PacketCodec.decode(data, config: config) else { return }
    for message in packet.messages {
        let again = try? PacketCodec.decodeMessages(message.encoded(), limits: limits)
        precondition(again?.messages == [message], "packet message does not round-trip: \(message)")
    }
}

private func checkStream(_ data: [UInt8], config: WireConfig) {
    guard let stream = try? StreamCodec.decode(data, config: config) else { return }
    // Our own output carries our label, which a receiver that skips the label check refuses (as memberlist
    // does), so read it back with the check on.
    var strict = config
    strict.skipInboundLabelCheck = false
    let encoded = try? StreamCodec.encode(stream.message, compress: true, config: strict)
    let again = encoded.flatMap { try? StreamCodec.decode($0, config: strict) }
    precondition(again?.message == stream.message, "stream message does not round-trip: \(stream.message)")
}

private func checkMessagePack(_ data: [UInt8]) {
    var reader = MessagePackReader(data)
    guard let value = try? reader.read() else { return }
    let encoded = MessagePack.encode(value)
    // Compare encodings, not values: NaN is not equal to itself.
    let again = try? MessagePack.decode(encoded)
    precondition(again.map(MessagePack.encode) == encoded, "msgpack value does not round-trip")
}

private func checkLZW(_ data: [UInt8]) {
    guard let output = try? LZW.decompress(data, maxOutputBytes: 1 << 20) else { return }
    let again = try? LZW.decompress(LZW.compress(output), maxOutputBytes: 1 << 20)
    precondition(again == output, "LZW output does not round-trip")
}

/// weft's own gossip payloads (endpoint, network and block-claim updates) as peers send them.
private func checkClusterCodec(_ data: [UInt8]) {
    guard let updates = try? ClusterCodec.decode([ClusterCodec.magic] + data) else { return }
    let again = try? ClusterCodec.decode(ClusterCodec.encode(updates))
    precondition(again == updates, "cluster updates do not round-trip")
}

/// The node the decoded input is applied to; never started (no timers), its sends go nowhere.
private let node: GossipNode = {
    var configuration = GossipConfiguration(
        name: "fuzz", logger: Logger(label: "fuzz", factory: { _ in SwiftLogNoOpLogHandler() }))
    configuration.acceptCompressedPackets = true
    configuration.maxMembers = 64
    configuration.wire.limits = limits
    return try! GossipNode(
        configuration: configuration, transport: SimulatedNetwork().attach(GossipAddress(ip: .v4(IPv4Address(10, 0, 0, 1)), port: 7946)))
}()
private let fuzzSource = GossipAddress(ip: .v4(IPv4Address(10, 9, 9, 9)), port: 7946)

/// Runs `body` on the node and waits for it (libFuzzer calls in synchronously).
private func onNode(_ body: @escaping @Sendable (GossipNode) async -> Void) {
    let done = DispatchSemaphore(value: 0)
    Task {
        await body(node)
        // Local writes on whatever the input merged: incarnation, serf clock.
        try? await node.updateTags(["w": "1"])
        _ = await node.serfLeaveIntent()
        done.signal()
    }
    done.wait()
}

private func applyPacket(_ data: [UInt8]) {
    onNode { await $0.handlePacket(IncomingPacket(bytes: data, source: fuzzSource)) }
}

private func applyStream(_ data: [UInt8]) {
    guard case .pushPull(let remote)? = try? StreamCodec.decode(data, config: configs[0]).message else { return }
    onNode { try? await $0.merge(remote, from: fuzzSource, isJoinReply: data.count % 2 == 0) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGossipWire(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start, count > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: start, count: count))
    let selector = Int(bytes[0])
    let input = Array(bytes.dropFirst())
    switch selector % 14 {
    case 0...3: checkPacket(input, config: configs[selector % 14])
    case 4...7: checkStream(input, config: configs[selector % 14 - 4])
    case 8: checkMessagePack(input)
    case 9: checkLZW(input)
    case 10: checkClusterCodec(input)
    case 11: applyPacket(input)
    case 12: applyStream(input)
    default: checkClusterSequence(input)
    }
    return 0
}
