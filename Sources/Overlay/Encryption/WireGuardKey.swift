import Crypto
import FoundationEssentials
import Gossip

/// A WireGuard key: 32 bytes (Curve25519), written as base64 by `wg` and in weft's gossip, as hex on
/// wireguard-go's UAPI socket.
public struct WireGuardKey: Sendable, Hashable, CustomStringConvertible {
    public static let length = 32
    public let bytes: [UInt8]

    /// nil unless exactly 32 bytes.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == Self.length else { return nil }
        self.bytes = Array(bytes)
    }

    /// Parses the base64 of exactly 32 bytes (44 characters), nil otherwise.
    public init?(base64 text: String) {
        guard text.utf8.count == 44, let data = Data(base64Encoded: text) else { return nil }
        self.init(bytes: data)
    }

    /// Parses 64 hex digits, nil otherwise.
    public init?(hex text: String) {
        let digits = Array(text.utf8)
        guard digits.count == 2 * Self.length else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.length)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = Self.nibble(digits[index]), let low = Self.nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.init(bytes: bytes)
    }

    public var base64: String { Data(bytes).base64EncodedString() }
    public var hex: String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
    /// The base64 form: a public key is no secret. Never print a private key.
    public var description: String { base64 }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// This host's WireGuard key pair. The private key lives in ``fileName`` in the state directory (mode 0600,
/// base64, as `wg genkey` writes it), created on first start and never sent anywhere; the public key is
/// published in the gossip.
public struct WireGuardKeyPair: Sendable {
    public enum KeyError: Error, Sendable, Equatable, CustomStringConvertible {
        case file(String)
        case malformed(path: String)

        public var description: String {
            switch self {
            case .file(let reason): "WireGuard key: \(reason)"
            case .malformed(let path): "WireGuard key \(path) is not the base64 of a 32-byte Curve25519 key"
            }
        }
    }

    /// The private key's file in the state directory.
    public static let fileName = "wireguard.key"

    /// Kept private: only the backends that configure the interface read it.
    let privateKey: WireGuardKey
    public let publicKey: WireGuardKey

    /// A fresh key pair, in memory only (tests, dry runs).
    public init() {
        self.init(Curve25519.KeyAgreement.PrivateKey())
    }

    private init(_ key: Curve25519.KeyAgreement.PrivateKey) {
        privateKey = WireGuardKey(bytes: key.rawRepresentation)!
        publicKey = WireGuardKey(bytes: key.publicKey.rawRepresentation)!
    }

    /// Loads the key pair from `directory`, creating it there (0600) on first start.
    public static func loadOrCreate(directory: String) throws(KeyError) -> WireGuardKeyPair {
        let path = directory + "/" + fileName
        let existing: [UInt8]?
        do { existing = try SecretFile.read(path, maxBytes: 256) } catch { throw .file("\(error)") }
        if let existing {
            let text = String(decoding: existing, as: UTF8.self).filter { !$0.isWhitespace }
            guard let raw = WireGuardKey(base64: text),
                let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw.bytes)
            else { throw .malformed(path: path) }
            return WireGuardKeyPair(key)
        }
        let pair = WireGuardKeyPair()
        try pair.save(directory: directory)
        return pair
    }

    /// Replaces the key file in `directory` with this pair's private key (0600, durably: written to a temporary
    /// file, synced, renamed), so that a restart at any moment finds either the old key or this one.
    public func save(directory: String) throws(KeyError) {
        let path = directory + "/" + Self.fileName
        do { try SecretFile.write(path, Array((privateKey.base64 + "\n").utf8)) } catch { throw .file("\(error)") }
    }
}

extension WireGuardKeyPair: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Only the public half: interpolating or dumping a configuration never prints the private key.
    public var description: String { "WireGuard key pair (public \(publicKey))" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["publicKey": publicKey]) }
}
