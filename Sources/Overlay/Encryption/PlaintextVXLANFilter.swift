import Foundation
import Netlink
import Synchronization

/// Drops VXLAN packets of encrypted networks that arrive in clear: the kernel's VXLAN socket is shared by every
/// network, so without it a forged packet for an encrypted VNI sent to the underlay address would be delivered
/// to that network. An nftables table `inet weft_encrypted` in the host namespace: UDP to the VXLAN port whose
/// VNI is an encrypted network's and which did not come out of the WireGuard interface is counted and dropped.
public final class PlaintextVXLANFilter: Sendable {
    public static let table = "weft_encrypted"
    /// `nft`, with any prefix that places it.
    private let command: [String]
    private let launch: @Sendable (Process) throws -> Void
    private let applied = Mutex<Set<VNI>?>(nil)
    /// The dry run's: prints each script as an `nft -f -` here-document instead of running it.
    private let emit: (@Sendable (String) -> Void)?

    public init(command: [String] = ["/usr/sbin/nft"], launch: @escaping @Sendable (Process) throws -> Void = { try $0.run() }) {
        self.command = command
        self.launch = launch
        self.emit = nil
    }

    /// A filter that prints what it would apply (`--dry-run`).
    public init(printing emit: @escaping @Sendable (String) -> Void) {
        self.command = ["nft"]
        self.launch = { _ in }
        self.emit = emit
    }

    /// The whole table for these VNIs (replaced atomically), or no table when there are none.
    public static func script(vnis: Set<VNI>, port: UInt16, interface: String) -> String {
        var lines = ["table inet \(table)", "delete table inet \(table)"]
        guard !vnis.isEmpty else { return lines.joined(separator: "\n") + "\n" }
        let values = vnis.sorted().map { "\($0.value)" }.joined(separator: ", ")
        lines += [
            "table inet \(table) {",
            "  chain input {",
            "    type filter hook input priority filter - 10; policy accept;",
            // The VNI: 24 bits after the UDP header (64 bits) and VXLAN's flags and reserved bytes (32 bits).
            "    udp dport \(port) @th,96,24 { \(values) } iifname != \"\(interface)\" counter drop",
            "  }",
            "}",
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    /// Makes the filter cover exactly `vnis`; nothing is run when they are what was last applied.
    public func apply(vnis: Set<VNI>, port: UInt16, interface: String) throws(WireGuardDeviceError) {
        guard applied.withLock({ $0 }) != vnis else { return }
        try run(Self.script(vnis: vnis, port: port, interface: interface))
        applied.withLock { $0 = vnis }
    }

    /// Removes the table (on exit, and when the last encrypted network goes).
    public func remove() {
        try? run(Self.script(vnis: [], port: 0, interface: ""))
        applied.withLock { $0 = [] }
    }

    private func run(_ script: String) throws(WireGuardDeviceError) {
        if let emit {
            emit("nft -f - <<'EOF'\n\(script)EOF")
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst()) + ["-f", "-"]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try launch(process) } catch { throw .filter(reason: "\(command[0]): \(error)") }
        input.fileHandleForWriting.write(Data(script.utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw .filter(reason: "nft -f exited \(process.terminationStatus)") }
    }
}
