import Crypto
import FoundationEssentials
import Gossip

/// This host's signing identity: an Ed25519 key pair. Every record this host writes carries its signature;
/// the public half travels in the host's gossip tags (``tagName``), where the other hosts pin it on first
/// sight (``PinnedIdentities``). So a host that holds the cluster key still cannot write another host's records.
///
/// The private key lives in ``fileName`` in the state directory (mode 0600, base64 of the 32-byte seed),
/// created on first start and never sent anywhere.
public struct NodeIdentity: Sendable {
    public enum IdentityError: Error, Sendable, Equatable, CustomStringConvertible {
        case file(String)
        case malformed(path: String)

        public var description: String {
            switch self {
            case .file(let reason): "identity key: \(reason)"
            case .malformed(let path): "identity key \(path) is not the base64 of a 32-byte Ed25519 key"
            }
        }
    }

    /// The identity key's file in the state directory.
    public static let fileName = "identity.key"
    /// The gossip tag that carries the public key (base64, 44 characters).
    public static let tagName = "id"

    private let privateKey: Curve25519.Signing.PrivateKey
    /// The raw 32-byte public key.
    public let publicKey: [UInt8]

    /// A fresh identity, kept in memory only (tests, dry runs).
    public init() {
        self.init(privateKey: Curve25519.Signing.PrivateKey())
    }

    private init(privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
        publicKey = Array(privateKey.publicKey.rawRepresentation)
    }

    /// Loads the identity from `directory`, creating it there on first start.
    public static func loadOrCreate(directory: String) throws(IdentityError) -> NodeIdentity {
        let path = directory + "/" + fileName
        do {
            if let bytes = try SecretFile.read(path, maxBytes: 256) {
                let text = String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace }
                guard let seed = Data(base64Encoded: text), seed.count == 32,
                    let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)
                else { throw IdentityError.malformed(path: path) }
                return NodeIdentity(privateKey: key)
            }
            let identity = NodeIdentity()
            try SecretFile.write(path, Array((identity.privateKey.rawRepresentation.base64EncodedString() + "\n").utf8))
            return identity
        } catch let error as IdentityError {
            throw error
        } catch {
            throw .file("\(error)")
        }
    }

    /// The public key as its gossip tag value.
    public var tag: String { Data(publicKey).base64EncodedString() }

    /// The tags to add to this host's gossip tags.
    public var tags: [String: String] { [Self.tagName: tag] }

    /// The public key a tag value names, nil unless it is the base64 of 32 bytes.
    public static func publicKey(tag: String) -> [UInt8]? {
        guard tag.utf8.count == 44, let bytes = Data(base64Encoded: tag), bytes.count == 32 else { return nil }
        return Array(bytes)
    }

    /// The update signed with this identity, as ``ClusterState`` signs every record it writes.
    public func signing(_ update: ClusterCodec.Update) -> ClusterCodec.Update {
        update.withSignature(sign(ClusterCodec.signedBytes(update)))
    }

    func sign(_ bytes: [UInt8]) -> [UInt8] {
        (try? Array(privateKey.signature(for: bytes))) ?? []
    }

    static func isValid(signature: [UInt8], of bytes: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == ClusterCodec.signatureLength,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey)
        else { return false }
        return key.isValidSignature(signature, for: bytes)
    }
}
