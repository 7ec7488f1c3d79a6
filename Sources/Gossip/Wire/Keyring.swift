import Crypto
import FoundationEssentials

/// memberlist's encryption format version (`security.go`). The sender picks it from its own protocol version:
/// PCur 1 sends version 0, anything newer version 1. Receivers accept both.
public enum EncryptionVersion: UInt8, Sendable, Hashable {
    /// AES-GCM over the payload padded with PKCS#7 to 16 bytes.
    case v0 = 0
    /// AES-GCM without padding (what serf and Docker's networkdb send).
    case v1 = 1

    /// Version byte + nonce + tag (+ up to one block of padding for v0): what encryption adds.
    public func overhead(forPlaintextCount count: Int) -> Int {
        switch self {
        case .v0: 1 + Keyring.nonceSize + (count / 16 + 1) * 16 - count + Keyring.tagSize
        case .v1: 1 + Keyring.nonceSize + Keyring.tagSize
        }
    }
}

/// The shared AES-GCM keys of a memberlist cluster (`keyring.go`, `security.go`).
///
/// The first key is the primary: it encrypts. Decryption tries every key in order, so keys can be rotated by
/// installing the new key everywhere, then making it primary, then removing the old one.
///
/// An encrypted payload is `[version][nonce 12][ciphertext][tag 16]`, sealed with AES-128/192/256-GCM by key
/// length. The additional authenticated data is the label on UDP (empty without one) and `0a` + length (+ label)
/// on streams.
public struct Keyring: Sendable {
    /// The GCM nonce size memberlist uses (Go's `cipher.NewGCM` default).
    public static let nonceSize = 12
    /// The GCM tag size.
    public static let tagSize = 16
    /// The shortest valid encrypted payload: version, nonce and tag around nothing.
    public static let minimumEncryptedCount = 1 + nonceSize + tagSize

    /// The keys, primary first.
    public let keys: [[UInt8]]

    /// Makes a keyring from `keys`, primary first. Each key must be 16, 24 or 32 bytes.
    public init(keys: [[UInt8]]) throws(WireError) {
        guard !keys.isEmpty else { throw .emptyKeyring }
        for key in keys where ![16, 24, 32].contains(key.count) {
            throw .invalidKeySize(key.count)
        }
        self.keys = keys
    }

    /// Seals `plaintext` with the primary key.
    ///
    /// - Parameters:
    ///   - version: the format version (see ``EncryptionVersion``).
    ///   - additionalData: authenticated but not encrypted: the label on UDP, `0a`+length(+label) on streams.
    ///   - nonce: 12 bytes for reproducible tests; a fresh random nonce when `nil`. Never reuse a nonce.
    public func encrypt(
        _ plaintext: [UInt8], version: EncryptionVersion = .v1, additionalData: [UInt8] = [], nonce: [UInt8]? = nil
    ) throws(WireError) -> [UInt8] {
        var message = plaintext
        if version == .v0 {
            let padding = 16 - plaintext.count % 16
            message.append(contentsOf: repeatElement(UInt8(padding), count: padding))
        }
        let nonceBytes = nonce ?? Self.randomNonce()
        guard nonceBytes.count == Self.nonceSize else {
            throw .encryptionFailed("nonce must be \(Self.nonceSize) bytes, got \(nonceBytes.count)")
        }
        do {
            let sealed = try AES.GCM.seal(
                message, using: SymmetricKey(data: keys[0]), nonce: AES.GCM.Nonce(data: nonceBytes),
                authenticating: additionalData)
            var output: [UInt8] = [version.rawValue]
            output.reserveCapacity(Self.minimumEncryptedCount + message.count)
            output.append(contentsOf: nonceBytes)
            output.append(contentsOf: sealed.ciphertext)
            output.append(contentsOf: sealed.tag)
            return output
        } catch {
            throw .encryptionFailed("\(error)")
        }
    }

    /// Opens an encrypted payload with the first key that authenticates it.
    public func decrypt(_ payload: [UInt8], additionalData: [UInt8] = []) throws(WireError) -> [UInt8] {
        guard payload.count >= Self.minimumEncryptedCount else {
            throw .encryptedPayloadTooShort(length: payload.count, minimum: Self.minimumEncryptedCount)
        }
        guard let version = EncryptionVersion(rawValue: payload[0]) else {
            throw .unsupportedEncryptionVersion(payload[0])
        }
        let nonceEnd = 1 + Self.nonceSize
        let tagStart = payload.count - Self.tagSize
        let box: AES.GCM.SealedBox
        do {
            box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: payload[1..<nonceEnd]),
                ciphertext: payload[nonceEnd..<tagStart],
                tag: payload[tagStart...])
        } catch {
            throw .noKeyCouldDecrypt(keysTried: 0)
        }
        for key in keys {
            guard let opened = try? AES.GCM.open(box, using: SymmetricKey(data: key), authenticating: additionalData)
            else { continue }
            let plaintext = Array(opened)
            guard version == .v0 else { return plaintext }
            // PKCS#7: the last byte says how many padding bytes to drop (1...16).
            guard let padding = plaintext.last, (1...16).contains(padding), Int(padding) <= plaintext.count else {
                throw .invalidPadding
            }
            return Array(plaintext.dropLast(Int(padding)))
        }
        throw .noKeyCouldDecrypt(keysTried: keys.count)
    }

    private static func randomNonce() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<nonceSize).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }
}
