import Netlink

/// A network's `-o key=value` options, parsed and checked once at Docker's edge. Every option weft reads is a
/// typed field here; an option weft cannot honour is refused by name rather than silently ignored (a compose
/// file moved from Docker's overlay must not lose, say, its encryption without a word).
public struct NetworkOptions: Sendable, Equatable {
    /// `weft.vni`: the network's cluster-wide identity; nil derives it from the subnet.
    public var vni: VNI?
    /// `com.docker.network.driver.mtu` or `weft.mtu`; nil takes the host's default.
    public var mtu: UInt32?
    /// `encrypted` (Docker's name) or `weft.encrypted`: container traffic crosses the underlay only inside
    /// WireGuard.
    public var encrypted: Bool
    /// `weft.relay=false|off`: this network's traffic never goes through a relay host (when a direct path
    /// fails, it stops).
    public var relay: Bool

    public init(vni: VNI? = nil, mtu: UInt32? = nil, encrypted: Bool = false, relay: Bool = true) {
        self.vni = vni
        self.mtu = mtu
        self.encrypted = encrypted
        self.relay = relay
    }

    /// `-o encrypted`, the option of Docker's overlay driver; Docker sends it with an empty value when given bare.
    public static let dockerEncryptedOption = "encrypted"
    /// `-o weft.encrypted=true|false`, the same under weft's name.
    public static let encryptedOption = "weft.encrypted"
    /// `-o weft.relay=auto|on|off` (or true/false): whether the network may use relay hosts.
    public static let relayOption = "weft.relay"
    /// Options Docker's overlay driver honours that weft does not, with what to use instead.
    public static let overlayOptionsNotHonoured: [String: String] = [
        "com.docker.network.driver.overlay.vxlanid_list": "weft picks one VNI per network; use -o weft.vni=N",
    ]
    /// The `weft.*` options this type reads.
    public static let weftOptions: Set<String> = [NetworkPolicy.vniOption, NetworkPolicy.mtuOption, encryptedOption, relayOption]

    /// Parses Docker's `com.docker.network.generic` strings. Options outside `weft.*` that Docker's overlay does
    /// not know either are left alone, as Docker's own drivers do.
    /// - Parameter handledElsewhere: `weft.*` options the caller consumes itself (swarm's seeds and key).
    public init(parsing options: [String: String], handledElsewhere: Set<String> = []) throws(DriverError) {
        for name in options.keys.sorted() {
            if let remedy = Self.overlayOptionsNotHonoured[name] {
                throw .unsupportedOption(name: name, reason: remedy)
            }
            if name.hasPrefix("weft."), !Self.weftOptions.contains(name), !handledElsewhere.contains(name) {
                let known = Self.weftOptions.union(handledElsewhere).sorted().joined(separator: ", ")
                throw .unsupportedOption(name: name, reason: "weft has no such option (it knows \(known))")
            }
        }
        if let text = options[NetworkPolicy.vniOption] {
            guard let value = UInt32(text), let vni = VNI(value) else {
                throw .invalidOption(name: NetworkPolicy.vniOption, value: text, reason: "a VNI is a number from 1 to 16777215")
            }
            guard vni != PathProbe.vni else {
                throw .invalidOption(name: NetworkPolicy.vniOption, value: text, reason: "VNI \(text) is reserved for weft's path probes")
            }
            self.vni = vni
        }
        for name in [NetworkPolicy.dockerMTUOption, NetworkPolicy.mtuOption] {
            guard let text = options[name] else { continue }
            guard let value = UInt32(text), value >= NetworkPolicy.minimumMTU, value <= 65_535 else {
                throw .invalidOption(name: name, value: text, reason: "an MTU is a number from \(NetworkPolicy.minimumMTU) to 65535")
            }
            self.mtu = value
            break
        }
        var encrypted: Bool?
        for name in [Self.dockerEncryptedOption, Self.encryptedOption] {
            guard let text = options[name] else { continue }
            let value = try Self.boolean(name: name, text: text, bare: name == Self.dockerEncryptedOption)
            if let earlier = encrypted, earlier != value {
                throw .invalidOption(name: name, value: text, reason: "it contradicts -o \(Self.dockerEncryptedOption)")
            }
            encrypted = value
        }
        self.encrypted = encrypted ?? false
        self.relay = true
        if let text = options[Self.relayOption] {
            switch text.lowercased() {
            case "auto", "on", "true", "1": relay = true
            case "off", "false", "0": relay = false
            default: throw .invalidOption(name: Self.relayOption, value: text, reason: "expected auto or off")
            }
        }
    }

    /// `true`/`false` in any case, `1`/`0`; an empty value means true for an option Docker sends bare.
    static func boolean(name: String, text: String, bare: Bool) throws(DriverError) -> Bool {
        switch text.lowercased() {
        case "" where bare, "true", "1": return true
        case "false", "0": return false
        default: throw .invalidOption(name: name, value: text, reason: "expected true or false")
        }
    }
}
