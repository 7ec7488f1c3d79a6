/// memberlist's label header (≥ v0.3): `f4` + length byte + label, outermost on every packet and stream.
///
/// Debian's serf (memberlist 0.2.2) rejects labelled traffic, so only send a label to peers configured with one.
/// With encryption on, the label is also the packet's additional authenticated data.
public enum Label {
    /// The longest label: its length is one byte.
    public static let maxLength = 255

    /// Prepends the label header to `payload`; an empty label adds nothing.
    public static func add(_ label: [UInt8], to payload: [UInt8]) throws(WireError) -> [UInt8] {
        guard !label.isEmpty else { return payload }
        guard label.count <= maxLength else {
            throw .invalidLabel("\(label.count) bytes, longer than \(maxLength)")
        }
        return [MessageType.hasLabel.rawValue, UInt8(label.count)] + label + payload
    }

    /// Splits a label header off `data` where one is present (`label.go` `RemoveLabelHeaderFromPacket`).
    /// Data without one comes back unchanged with an empty label.
    public static func remove(from data: [UInt8]) throws(WireError) -> (label: [UInt8], rest: [UInt8]) {
        guard data.first == MessageType.hasLabel.rawValue else { return ([], data) }
        guard data.count >= 2 else { throw .truncated(context: "label header", needed: 2, available: data.count) }
        let size = Int(data[1])
        guard size >= 1 else { throw .invalidLabel("label header cannot be empty when present") }
        guard data.count >= 2 + size else {
            throw .truncated(context: "label", needed: 2 + size, available: data.count)
        }
        return (Array(data[2..<2 + size]), Array(data[(2 + size)...]))
    }
}
