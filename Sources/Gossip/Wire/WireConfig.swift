/// How this node protects and labels its gossip traffic, and the bounds it puts on what it receives.
/// The same settings apply to packets and streams, as in memberlist's `Config`.
public struct WireConfig: Sendable {
    /// The cluster's keys; `nil` means traffic is neither encrypted nor expected to be.
    public var keyring: Keyring?
    /// memberlist's `GossipVerifyIncoming`: with a keyring, refuse data that is not encrypted. When `false`, a
    /// packet that does not decrypt is read as plaintext (for rolling out encryption).
    public var verifyIncoming: Bool
    /// The label to send and to expect (memberlist ≥ 0.3). Empty: no label. Never set one towards Debian's serf.
    public var label: [UInt8]
    /// memberlist's `SkipInboundLabelCheck`: accept unlabelled traffic as if it carried ``label``.
    public var skipInboundLabelCheck: Bool
    /// Bounds for untrusted input.
    public var limits: WireLimits
    /// Decompress LZW-compressed UDP packets (memberlist always does). ``GossipNode`` sets it from
    /// ``GossipConfiguration/acceptCompressedPackets``, off by default. Streams are not affected.
    public var acceptCompressedPackets: Bool = true

    /// Makes a configuration; the defaults are memberlist's (no keyring, verify incoming, no label).
    public init(
        keyring: Keyring? = nil, verifyIncoming: Bool = true, label: [UInt8] = [],
        skipInboundLabelCheck: Bool = false, limits: WireLimits = WireLimits()
    ) {
        self.keyring = keyring
        self.verifyIncoming = verifyIncoming
        self.label = label
        self.skipInboundLabelCheck = skipInboundLabelCheck
        self.limits = limits
    }

    /// Strips and checks the label header as memberlist ≥ 0.3 does (`ingestPacket`, `handleConn`): the label
    /// present must equal ours, unless ``skipInboundLabelCheck`` is set, in which case there must be none.
    /// Returns the label to authenticate with and the rest of the data.
    func checkLabel(_ data: [UInt8]) throws(WireError) -> (label: [UInt8], rest: [UInt8]) {
        let (received, rest) = try Label.remove(from: data)
        if skipInboundLabelCheck {
            guard received.isEmpty else {
                throw .invalidLabel("unexpected label \(String(decoding: received, as: UTF8.self).debugDescription)")
            }
            return (label, rest)
        }
        guard received == label else { throw .labelMismatch(received: received, expected: label) }
        return (received, rest)
    }
}
