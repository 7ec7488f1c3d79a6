/// Whether this host can carry an encrypted network's traffic inside WireGuard, and if not, why. An encrypted
/// network is refused on a host that cannot: it is never created in plaintext.
public enum EncryptionSupport: Sendable, Equatable {
    case available
    case unavailable(reason: String)

    /// This build of weft: the WireGuard datapath of encrypted networks is not there yet.
    public static let notBuilt = EncryptionSupport.unavailable(
        reason: "this weft cannot encrypt yet (its WireGuard datapath is not built), and it never sends an encrypted network's traffic in plaintext")
}
