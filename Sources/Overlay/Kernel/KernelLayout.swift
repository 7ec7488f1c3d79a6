import Netlink

/// Where a network's kernel objects live and what they are called. Names derive from the VNI and endpoint
/// IDs only, so weft finds its objects again after a restart.
public struct KernelLayout: Sendable {
    public let vni: VNI
    public let namespaceDirectory: String

    public init(vni: VNI, namespaceDirectory: String) {
        self.vni = vni
        self.namespaceDirectory = namespaceDirectory
    }

    /// Six hex digits of the VNI: `00002a`.
    public var vniTag: String {
        let digits = String(vni.value, radix: 16)
        return String(repeating: "0", count: 6 - digits.count) + digits
    }

    /// The network's namespace, named after the VNI.
    public var namespace: NamespaceReference { .path("\(namespaceDirectory)/\(vniTag)") }
    public var bridgeName: String { "wbr-\(vniTag)" }
    public var vxlanName: String { "wvx-\(vniTag)" }

    /// The VNI a namespace file name stands for, when it is one of weft's.
    public static func vni(fromNamespaceName name: String) -> VNI? {
        guard name.count == 6, let value = UInt32(name, radix: 16) else { return nil }
        return VNI(value)
    }

    /// Prefixes of weft's link names; a link named otherwise is never touched.
    public static let hostEndPrefix = "wve"
    public static let bridgeEndPrefix = "wvp"
    public static let vxlanPrefix = "wvx-"

    /// The endpoint's veth end in the host namespace, which Docker moves into the container.
    public static func hostEnd(endpoint id: String) -> String { hostEndPrefix + String(id.prefix(linkNameIDLength)) }
    /// How much of an endpoint ID its link names hold.
    static let linkNameIDLength = 11
    /// Whether two endpoints' links would have the same names (their IDs begin alike), without building them.
    static func sameLinkNames(_ one: String, _ other: String) -> Bool {
        one.utf8.prefix(linkNameIDLength).elementsEqual(other.utf8.prefix(linkNameIDLength))
    }
    /// The endpoint's veth end in the network namespace, a port of the bridge.
    public static func bridgeEnd(endpoint id: String) -> String { bridgeEndPrefix + String(id.prefix(linkNameIDLength)) }
}
