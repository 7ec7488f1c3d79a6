import Logging
import Overlay

extension Daemon {
    /// This host's WireGuard key pair (made on first start, 0600 in the state directory) and the backend
    /// `--wireguard` selects, reported at start. Encrypted networks stay refused until weft's WireGuard datapath
    /// exists (``EncryptionSupport/notBuilt``): nothing here sends a packet.
    func reportEncryption(_ config: DaemonConfiguration) throws {
        let keys = try WireGuardKeyPair.loadOrCreate(directory: config.stateDirectory)
        let selection = WireGuardSelection.choose(
            config.dryRun ? .dryRun : config.wireGuard, capabilities: .detect())
        var metadata: Logger.Metadata = [
            "requested": "\(config.wireGuard)", "backend": "\(selection)", "public-key": "\(keys.publicKey)",
        ]
        if case .unavailable(let reason) = EncryptionSupport.notBuilt { metadata["encrypted-networks"] = "refused: \(reason)" }
        logger.notice("WireGuard", metadata: metadata)
    }
}
