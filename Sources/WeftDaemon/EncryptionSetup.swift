import Logging
import Overlay

extension Daemon {
    /// This host's WireGuard key pair (made on first start, 0600 in the state directory) and the backend
    /// `--wireguard` selects (the kernel's WireGuard is asked for over generic netlink), reported at start. With the
    /// kernel's WireGuard, wireguard-go (or the dry run's printing one), the datapath the driver uses for
    /// encrypted networks (its interface is made only when one exists); without one, encrypted networks are
    /// refused with the reason.
    func setUpEncryption(_ config: DaemonConfiguration) throws -> (EncryptionSupport, EncryptedDatapath?) {
        let keys = try WireGuardKeyPair.loadOrCreate(directory: config.stateDirectory)
        let capabilities = WireGuardSelection.Capabilities.detect()
        let selection = WireGuardSelection.choose(config.dryRun ? .dryRun : config.wireGuard, capabilities: capabilities)
        var metadata: Logger.Metadata = [
            "requested": "\(config.wireGuard)", "backend": "\(selection)", "public-key": "\(keys.publicKey)",
        ]
        let support: EncryptionSupport
        var datapath: EncryptedDatapath?
        switch selection {
        case .chosen(.userspace, _):
            let tool = capabilities.userspaceTool ?? "/usr/bin/wireguard-go"
            datapath = EncryptedDatapath(
                device: UserspaceWireGuardDevice(command: [tool]), keys: keys, keyDirectory: config.stateDirectory,
                backend: "\(selection)")
            support = .available
        case .chosen(.dryRun, _):
            let print: @Sendable (String) -> Void = { line in Swift.print(line) }
            datapath = EncryptedDatapath(
                device: DryRunWireGuardDevice(privateKeyPath: config.stateDirectory + "/" + WireGuardKeyPair.fileName, emit: print),
                filter: PlaintextVXLANFilter(printing: print), keys: keys, backend: "\(selection)")
            support = .available
        case .chosen(.kernel, _):
            do {
                datapath = EncryptedDatapath(
                    device: KernelWireGuardDevice(backend: try KernelWireGuard.open()), keys: keys,
                    keyDirectory: config.stateDirectory, backend: "\(selection)")
                support = .available
            } catch {
                support = .unavailable(reason: "\(error)")
            }
        case .chosen(let kind, _):
            support = .unavailable(reason: "the \(kind) WireGuard backend cannot carry encrypted networks")
        case .unavailable(let reason):
            support = .unavailable(reason: reason)
        }
        if case .unavailable(let reason) = support { metadata["encrypted-networks"] = "refused: \(reason)" }
        logger.notice("WireGuard", metadata: metadata)
        return (support, datapath)
    }
}
