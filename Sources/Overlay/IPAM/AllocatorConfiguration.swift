/// Where the allocator finds subnets for pools requested without one.
public struct AllocatorConfiguration: Sendable, Equatable, Codable {
    /// The range split into pools when a network is created without `--subnet` (default `10.200.0.0/16`).
    public var defaultRange: IPv4Subnet
    /// The prefix length of those pools (default 24, so `10.200.0.0/24`, `10.200.1.0/24`, …).
    public var defaultPrefixLength: Int
    /// Under swarm, a requested endpoint address that is already held gains a holder instead of being refused:
    /// a manager's weft is asked for each address twice, by swarm's allocator and again when the task starts on
    /// the manager, and swarm keeps addresses unique itself. Off for the socket plugin, where a second
    /// `--ip` of a held address is a mistake to refuse.
    public var sharesRequestedAddresses = false

    /// Checks that pools of `defaultPrefixLength` fit in `defaultRange` and leave room for addresses.
    public init(
        defaultRange: IPv4Subnet = Self.standardRange, defaultPrefixLength: Int = 24, sharesRequestedAddresses: Bool = false
    ) throws(IPAMError) {
        guard defaultPrefixLength >= defaultRange.prefixLength else {
            throw .invalidConfiguration(
                "default pools of /\(defaultPrefixLength) do not fit in the default range \(defaultRange)")
        }
        guard defaultPrefixLength <= 30 else {
            throw .invalidConfiguration("default pools of /\(defaultPrefixLength) leave no room for addresses")
        }
        self.defaultRange = defaultRange
        self.defaultPrefixLength = defaultPrefixLength
        self.sharesRequestedAddresses = sharesRequestedAddresses
    }

    /// `10.200.0.0/16`.
    public static let standardRange: IPv4Subnet = {
        do {
            return try IPv4Subnet(parsing: "10.200.0.0/16")
        } catch {
            fatalError("the standard range is a valid subnet: \(error)")
        }
    }()

    /// `10.200.0.0/16` split into /24 pools.
    public static let standard: AllocatorConfiguration = {
        do {
            return try AllocatorConfiguration()
        } catch {
            fatalError("the standard configuration is valid: \(error)")
        }
    }()
}
