import Foundation

/// iproute2's JSON output decoded into typed rows: the oracle kernel tests compare weft's view with.
public enum IPRoute2 {
    public struct LinkRow: Decodable, Sendable {
        public struct Info: Decodable, Sendable {
            public struct VXLAN: Decodable, Sendable {
                public let id: UInt32?
                public let port: UInt16?
                public let local: String?
                public let learning: Bool?
                public let proxy: Bool?
                public let l2miss: Bool?
                public let l3miss: Bool?
                public let udp_csum: Bool?
                public let ttl: Int?
                public let link: String?
            }
            public struct Port: Decodable, Sendable {
                public let learning: Bool?
                public let neigh_suppress: Bool?
            }
            public let info_kind: String?
            public let info_data: VXLAN?
            public let info_slave_data: Port?
        }
        public let ifname: String
        public let mtu: UInt32?
        public let address: String?
        public let master: String?
        public let flags: [String]?
        public let linkinfo: Info?

        public var kind: String? { linkinfo?.info_kind }
        public var isUp: Bool { flags?.contains("UP") ?? false }
    }

    public struct FDBRow: Decodable, Sendable, Hashable {
        public let mac: String
        public let ifname: String?
        public let dst: String?
        public let master: String?
        public let state: String?
        public let flags: [String]?
    }

    public struct NeighbourRow: Decodable, Sendable, Hashable {
        public let dst: String
        public let dev: String?
        public let lladdr: String?
        public let state: [String]?
    }

    public struct AddressRow: Decodable, Sendable {
        public struct Info: Decodable, Sendable {
            public let local: String
            public let prefixlen: Int
        }
        public let ifname: String
        public let addr_info: [Info]
    }

    public static func links(in namespace: String) throws -> [LinkRow] {
        try decode(["ip", "-n", namespace, "-d", "-j", "link", "show"])
    }

    public static func fdb(in namespace: String, device: String? = nil) throws -> [FDBRow] {
        try decode(["bridge", "-n", namespace, "-j", "fdb", "show"] + (device.map { ["dev", $0] } ?? []))
    }

    public static func neighbours(in namespace: String, device: String? = nil) throws -> [NeighbourRow] {
        try decode(["ip", "-n", namespace, "-j", "neigh", "show"] + (device.map { ["dev", $0] } ?? []))
    }

    public static func addresses(in namespace: String, device: String) throws -> [AddressRow] {
        try decode(["ip", "-n", namespace, "-j", "addr", "show", "dev", device])
    }

    private static func decode<T: Decodable>(_ arguments: [String]) throws -> [T] {
        let text = try Shell.run(arguments)
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return [] }
        return try JSONDecoder().decode([T].self, from: Data(text.utf8))
    }
}
