import ArgumentParser
import Overlay

/// `weft encryption`: the WireGuard key of encrypted networks on this host.
struct EncryptionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encryption",
        abstract: "This host's WireGuard key of encrypted networks.",
        subcommands: [Rotate.self])

    struct Rotate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace this host's WireGuard key now, without losing traffic (the daemon also does on --encryption-key-rotation).",
            discussion: "The new key is saved, set on weft-wg and announced; each peer replaces its entry for this host as soon as it sees the key and handshakes at once.")

        @OptionGroup var options: ControlOptions

        func run() throws {
            let connection = options.connection
            do {
                let body = try connection.send("POST", "/encryption/rotate")
                if options.json {
                    print(body)
                    return
                }
                let result = try connection.decode(body, from: "/encryption/rotate", as: WireGuardRotationResult.self)
                print("WireGuard key rotated: \(result.previousPublicKey) -> \(result.publicKey)")
                print(result.interfaceUpdated
                    ? "announced in \(result.announcedNetworks) encrypted network(s); peers switch as they receive it"
                    : "no WireGuard interface is up here (no encrypted network): the next one starts with the new key")
            } catch {
                printError(error.description)
                throw ExitCode(1)
            }
        }
    }
}
