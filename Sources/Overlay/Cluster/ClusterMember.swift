import Gossip
import Netlink

/// What this host knows of another gossip member to judge its records: where its VTEP is and which key signs
/// for it.
struct ClusterMember: Sendable, Equatable {
    /// The gossip tag that names the member's VTEP.
    static let vtepTag = "vtep"

    /// Its VTEP: its `vtep` tag, which must be the address it gossips from (nil when the tag says otherwise or
    /// is missing, and then none of its endpoints or networks is valid).
    var vtep: IPAddress?
    /// Its pinned identity key, nil when its tags carry none or one that is not the pinned key.
    var publicKey: [UInt8]?
    /// Its tags show another key than the pinned one.
    var identityChanged: Bool

    init(_ member: Member, identity: PinnedIdentities.Outcome?) {
        let tags = member.tags
        let gossipAddress = member.address.ip
        let tagged = tags[Self.vtepTag].flatMap { IPAddress($0) }
        vtep = tagged != nil && tagged == gossipAddress ? tagged : nil
        switch identity {
        case .pinned?, .matches?:
            publicKey = tags[NodeIdentity.tagName].flatMap(NodeIdentity.publicKey(tag:))
            identityChanged = false
        case .differs?:
            publicKey = nil
            identityChanged = true
        case nil:
            publicKey = nil
            identityChanged = false
        }
    }
}
