import Addressing

/// An address assigned to a link, as an address dump reports it.
public struct AssignedAddress: Hashable, Sendable {
    /// The link's index.
    public var device: Int32
    public var address: IPInterface

    public init(device: Int32, address: IPInterface) {
        self.device = device
        self.address = address
    }
}
