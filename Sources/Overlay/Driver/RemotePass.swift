/// How a network's remote entries are brought to the cluster's view.
enum RemotePass: Int, Comparable, Sendable, CustomStringConvertible {
    /// The difference from the entries last programmed, without reading the kernel: one remote change.
    case change
    /// A dump of the VXLAN device compared with the desired entries: start, a new network, the periodic pass.
    case repair

    static func < (lhs: RemotePass, rhs: RemotePass) -> Bool { lhs.rawValue < rhs.rawValue }

    var description: String {
        switch self {
        case .change: "change"
        case .repair: "repair"
        }
    }
}
