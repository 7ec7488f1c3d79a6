import Foundation
import Glibc
import Testing
import TestSupport

/// A real Prometheus (Debian's package) scraping two real weft daemons: both in dry-run mode on loopback (no
/// kernel change, no namespace), gossiping with each other; Prometheus on loopback with its own data directory.
/// Everything the test starts is stopped, and its directory removed, also on failure.
@Suite(
    .serialized,
    .enabled(if: Executables.weftIsBuilt && Executables.isInstalled("prometheus"),
             "needs the weft executable (swift build) and prometheus (Debian's package)"))
struct PrometheusScrapeTests {
    @Test("Prometheus scrapes two gossiping weft daemons and finds weft_gossip_members{state=\"alive\"} == 2 on both",
          .timeLimit(.minutes(2)))
    func scrapeTwoDaemons() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("weft-prom-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var children: [ChildProcess] = []
        defer {
            for child in children { child.terminateBlocking() }
            try? FileManager.default.removeItem(atPath: directory)
        }
        let gossipPorts = try [freePort(), freePort()]
        let metricsPorts = try [freePort(), freePort()]
        for index in 0..<2 {
            let home = "\(directory)/h\(index)"
            children.append(try ChildProcess.start(
                label: "weft-h\(index)",
                argv: [
                    Executables.weft,
                    "daemon", "--dry-run", "--advertise-address", "127.0.0.1", "--node-name", "h\(index)",
                    "--gossip-port", "\(gossipPorts[index])", "--join", "127.0.0.1:\(gossipPorts[1 - index])",
                    "--insecure-gossip", "--socket", "\(home)/p.sock", "--control-socket", "\(home)/c.sock",
                    "--state-dir", "\(home)/state", "--runtime-dir", "\(home)/run",
                    "--metrics-address", "127.0.0.1:\(metricsPorts[index])",
                ],
                logFile: URL(fileURLWithPath: "\(directory)/weft-h\(index).log")))
        }
        let prometheusPort = try freePort()
        let targets = metricsPorts.map { "'127.0.0.1:\($0)'" }.joined(separator: ", ")
        try """
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: weft
                static_configs:
                  - targets: [\(targets)]
            """.write(toFile: "\(directory)/prometheus.yml", atomically: true, encoding: .utf8)
        children.append(try ChildProcess.start(
            label: "prometheus",
            argv: [
                Executables.path("prometheus"),
                "--config.file=\(directory)/prometheus.yml", "--storage.tsdb.path=\(directory)/data",
                "--web.listen-address=127.0.0.1:\(prometheusPort)",
            ],
            logFile: URL(fileURLWithPath: "\(directory)/prometheus.log")))

        let query = "http://127.0.0.1:\(prometheusPort)/api/v1/query?query=weft_gossip_members%7Bstate%3D%22alive%22%7D"
        var last = ""
        let found = await eventually(within: .seconds(90), every: .milliseconds(500)) {
            guard let outcome = try? await Command.run(["curl", "-sS", "--max-time", "2", query]) else { return false }
            last = outcome.stdout
            guard let reply = try? JSONDecoder().decode(QueryReply.self, from: Data(last.utf8)) else { return false }
            let values = Dictionary(reply.data.result.map { ($0.metric["instance"] ?? "", $0.value.last?.text ?? "") }) { first, _ in first }
            return metricsPorts.allSatisfy { values["127.0.0.1:\($0)"] == "2" }
        }
        #expect(found != nil, "last answer: \(last)\nweft h0: \(children[0].log())\nprometheus: \(children[2].logTail(40))")
        if let found { print("Prometheus saw weft_gossip_members{state=\"alive\"} == 2 on both daemons after \(found)") }

        // The probe round-trip histogram and the push/pull traffic of the join, as Prometheus stores them.
        for expression in [
            "sum by (instance) (weft_gossip_probe_rtt_seconds_count)",
            #"weft_gossip_message_bytes_total{type="push_pull",direction="received"}"#,
            "histogram_quantile(0.99, sum by (instance, le) (weft_gossip_probe_rtt_seconds_bucket))",
        ] {
            var values: [String: Double] = [:]
            let seen = await eventually(within: .seconds(30), every: .milliseconds(500)) {
                values = (try? await Self.query(expression, port: prometheusPort)) ?? [:]
                return metricsPorts.allSatisfy { (values["127.0.0.1:\($0)"] ?? 0) > 0 }
            }
            #expect(seen != nil, "\(expression): \(values)")
            print("Prometheus: \(expression) = \(values.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" })")
        }
        // promtool's linter on a live daemon's exposition (histograms, traffic by type and all).
        let exposition = try await Command.run(
            ["curl", "-sS", "--max-time", "2", "http://127.0.0.1:\(metricsPorts[0])/metrics"]).stdout
        #expect(exposition.contains(#"weft_gossip_probe_rtt_seconds_bucket{peer="h1",le="0.0001"}"#), "\(exposition)")
        let lint = try await Command.run(["promtool", "check", "metrics"], input: .text(exposition))
        #expect(lint.succeeded, "promtool: \(lint.stdout) \(lint.stderr)")
    }

    /// The values of an instant query, by instance.
    static func query(_ expression: String, port: Int) async throws -> [String: Double] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = expression.addingPercentEncoding(withAllowedCharacters: allowed) ?? expression
        let outcome = try await Command.run(
            ["curl", "-sS", "--max-time", "2", "http://127.0.0.1:\(port)/api/v1/query?query=\(encoded)"])
        let reply = try JSONDecoder().decode(QueryReply.self, from: Data(outcome.stdout.utf8))
        return Dictionary(reply.data.result.map { ($0.metric["instance"] ?? "", Double($0.value.last?.text ?? "") ?? 0) }) { first, _ in first }
    }

    struct QueryReply: Decodable {
        struct Data: Decodable {
            let result: [Series]
        }

        struct Series: Decodable {
            let metric: [String: String]
            let value: [StringOrNumber]
        }

        let data: Data
    }

    /// Prometheus's `[timestamp, "value"]`: a number then a string.
    struct StringOrNumber: Decodable, Equatable {
        let text: String

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let text = try? container.decode(String.self) {
                self.text = text
            } else {
                self.text = String(try container.decode(Double.self))
            }
        }
    }
}

/// A port on 127.0.0.1 nobody listens on now (the kernel's choice for port 0).
func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { throw TestFailure("socket: errno \(errno)") }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) } }
    guard bound == 0 else { throw TestFailure("bind: errno \(errno)") }
    let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
    guard named == 0 else { throw TestFailure("getsockname: errno \(errno)") }
    return Int(UInt16(bigEndian: address.sin_port))
}
