import Foundation

/// Runs iproute2 (`ip`, `bridge`) and other tools for tests, as the oracle kernel state is compared with.
public enum Shell {
    public struct Failure: Error, CustomStringConvertible {
        public let command: [String]
        public let status: Int32
        public let output: String
        public var description: String { "\(command.joined(separator: " ")) exited \(status): \(output)" }
    }

    /// What a finished program printed, and how it ended.
    public struct Outcome: Sendable {
        public let status: Int32
        public let standardOutput: String
        public let standardError: String
        public var succeeded: Bool { status == 0 }
    }

    /// Runs a program (looked up in PATH) and returns its standard output; throws on a non-zero exit.
    @discardableResult
    public static func run(_ arguments: [String], input: String? = nil) throws -> String {
        let outcome = try outcome(arguments, input: input)
        guard outcome.succeeded else {
            throw Failure(command: arguments, status: outcome.status, output: outcome.standardOutput + outcome.standardError)
        }
        return outcome.standardOutput
    }

    /// Runs a program (a path, or a name looked up in PATH) to its end, whatever its exit status.
    ///
    /// Standard error and the input go through temporary files, so only standard output is a pipe, read to its
    /// end before the wait: no pipe can fill up and block the child (or this test) whatever either writes.
    public static func outcome(_ arguments: [String], input: String? = nil) throws -> Outcome {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("weft-shell-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let errorsFile = scratch.appendingPathComponent("stderr")
        let inputFile = scratch.appendingPathComponent("stdin")
        _ = FileManager.default.createFile(atPath: errorsFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: inputFile.path, contents: Data((input ?? "").utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let errors = try FileHandle(forWritingTo: errorsFile)
        let inputHandle = try FileHandle(forReadingFrom: inputFile)
        defer {
            try? errors.close()
            try? inputHandle.close()
        }
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = inputHandle
        try ProcessLauncher.start(process)
        try? output.fileHandleForWriting.close()
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: (try? String(contentsOf: errorsFile, encoding: .utf8)) ?? "")
    }

}

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
