import Netlink

/// One place where a network's kernel state differs from what weft wants, and the commands that would fix it.
public struct KernelDifference: Sendable, Equatable, Codable {
    /// What kind of kernel object differs.
    public enum Object: String, Sendable, Codable {
        case namespace
        case link
        case fdb
        case neighbour
    }

    /// How it differs.
    public enum Change: String, Sendable, Codable {
        /// weft wants it and the kernel lacks it.
        case missing
        /// The kernel has it and weft does not want it.
        case extra
        /// Both have it, with different attributes.
        case different
    }

    public var object: Object
    public var change: Change
    /// The object in words, e.g. `neighbour 10.1.0.5 lladdr 02:00:00:00:00:05`.
    public var subject: String
    /// The `ip`/`bridge` commands that would bring the kernel to what weft wants; empty when no command can
    /// (an endpoint's lost veth: Docker must reconnect its container).
    public var commands: [String]

    public init(object: Object, change: Change, subject: String, commands: [String]) {
        self.object = object
        self.change = change
        self.subject = subject
        self.commands = commands
    }
}

/// A network's kernel state compared with weft's: empty ``differences`` when they match.
public struct NetworkDrift: Sendable, Equatable, Codable {
    public var networkID: String
    public var vni: UInt32
    public var differences: [KernelDifference]
    /// Why the comparison is partial or what weft will do about it, in words; nil when there is nothing to add.
    public var note: String?

    public init(networkID: String, vni: UInt32, differences: [KernelDifference], note: String? = nil) {
        self.networkID = networkID
        self.vni = vni
        self.differences = differences
        self.note = note
    }

    public var matches: Bool { differences.isEmpty }
}

/// What the last repair pass of the remote entries did: when, and what it corrected.
public struct RepairSummary: Sendable, Equatable, Codable {
    /// Milliseconds since the epoch when the pass ended.
    public var finishedAt: UInt64
    public var networks: Int
    /// Entries written (missing or different) and removed (extra).
    public var written: Int
    public var removed: Int
    /// Kernel operations that failed.
    public var failed: Int

    public init(finishedAt: UInt64, networks: Int, written: Int, removed: Int, failed: Int) {
        self.finishedAt = finishedAt
        self.networks = networks
        self.written = written
        self.removed = removed
        self.failed = failed
    }
}
