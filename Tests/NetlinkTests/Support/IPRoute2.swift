import Foundation

/// Runs iproute2 (`ip`, `bridge`) and other tools for tests, as the oracle kernel state is compared with.
enum Shell {
    struct Failure: Error, CustomStringConvertible {
        let command: [String]
        let status: Int32
        let output: String
        var description: String { "\(command.joined(separator: " ")) exited \(status): \(output)" }
    }

    /// Runs a program (looked up in PATH) and returns its standard output; throws on a non-zero exit.
    @discardableResult
    static func run(_ arguments: [String], input: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        let inputPipe = Pipe()
        if input != nil { process.standardInput = inputPipe }
        try process.run()
        if let input {
            inputPipe.fileHandleForWriting.write(Data(input.utf8))
            try inputPipe.fileHandleForWriting.close()
        }
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let errData = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: outData, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(
                command: arguments, status: process.terminationStatus,
                output: text + String(decoding: errData, as: UTF8.self))
        }
        return text
    }

}

/// iproute2's JSON output decoded into typed rows: the oracle kernel tests compare weft's view with.
enum IPRoute2 {
    struct LinkRow: Decodable, Sendable {
        struct Info: Decodable, Sendable {
            struct VXLAN: Decodable, Sendable {
                let id: UInt32?
                let port: UInt16?
                let local: String?
                let learning: Bool?
                let proxy: Bool?
                let l2miss: Bool?
                let l3miss: Bool?
                let udp_csum: Bool?
                let ttl: Int?
                let link: String?
            }
            struct Port: Decodable, Sendable {
                let learning: Bool?
                let neigh_suppress: Bool?
            }
            let info_kind: String?
            let info_data: VXLAN?
            let info_slave_data: Port?
        }
        let ifname: String
        let mtu: UInt32?
        let address: String?
        let master: String?
        let flags: [String]?
        let linkinfo: Info?

        var kind: String? { linkinfo?.info_kind }
        var isUp: Bool { flags?.contains("UP") ?? false }
    }

    struct FDBRow: Decodable, Sendable, Hashable {
        let mac: String
        let ifname: String?
        let dst: String?
        let master: String?
        let state: String?
        let flags: [String]?
    }

    struct NeighbourRow: Decodable, Sendable, Hashable {
        let dst: String
        let dev: String?
        let lladdr: String?
        let state: [String]?
    }

    struct AddressRow: Decodable, Sendable {
        struct Info: Decodable, Sendable {
            let local: String
            let prefixlen: Int
        }
        let ifname: String
        let addr_info: [Info]
    }

    static func links(in namespace: String) throws -> [LinkRow] {
        try decode(["ip", "-n", namespace, "-d", "-j", "link", "show"])
    }

    static func fdb(in namespace: String, device: String? = nil) throws -> [FDBRow] {
        try decode(["bridge", "-n", namespace, "-j", "fdb", "show"] + (device.map { ["dev", $0] } ?? []))
    }

    static func neighbours(in namespace: String, device: String? = nil) throws -> [NeighbourRow] {
        try decode(["ip", "-n", namespace, "-j", "neigh", "show"] + (device.map { ["dev", $0] } ?? []))
    }

    static func addresses(in namespace: String, device: String) throws -> [AddressRow] {
        try decode(["ip", "-n", namespace, "-j", "addr", "show", "dev", device])
    }

    private static func decode<T: Decodable>(_ arguments: [String]) throws -> [T] {
        let text = try Shell.run(arguments)
        guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return [] }
        return try JSONDecoder().decode([T].self, from: Data(text.utf8))
    }
}
