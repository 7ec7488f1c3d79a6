import Foundation
import TestSupport
import Testing

/// `make demo` only (WEFT_DEMO=1): two simulated Docker hosts, weft on each joined to the other, one network, a
/// container on each, and a ping from one to the other, with every step printed. Everything is removed at the
/// end (the harness's teardown, as for every test). `examples/README.md` describes it.
@Suite(
    "Demo: two Docker hosts, one weft network",
    .enabled(if: ProcessInfo.processInfo.environment["WEFT_DEMO"] == "1" && Privileges.canRunEndToEndTests,
             "the demo: run by `make demo`"),
    .timeLimit(.minutes(3))
)
struct WeftDemo {
    static func say(_ text: String) { print("demo: \(text)") }

    /// Runs a docker command on `host` and prints it and what it printed, as a shell session would show it.
    @discardableResult
    static func docker(_ host: TestHost, _ arguments: String...) async throws -> String {
        print("\n[\(host.name) \(host.underlayAddress)]$ docker \(arguments.joined(separator: " "))")
        let output = try await host.docker(arguments)
        if !output.isEmpty { print(output) }
        return output
    }

    /// Runs a command inside `host` and prints it with its output.
    static func show(_ host: TestHost, _ title: String, _ command: String) async throws {
        print("\n[\(host.name) \(host.underlayAddress)]$ \(title)")
        print(try await host.run([Tools.sh, "-c", command]).check().output)
    }

    @Test func twoHosts() async throws {
        Self.say("""
            building two Docker hosts on this machine: each a network namespace with its own dockerd and weft,
                  joined by an underlay bridge (192.0.2.0/24) in a namespace of its own; nothing leaves them
            """)
        let weft: @Sendable (TestHost) async throws -> Void = { host in
            let other = host.index == 1 ? "192.0.2.12" : "192.0.2.11"
            _ = try await host.startWeft(arguments: ["--join", other])
            print("demo: \(host.name) (\(host.underlayAddress)): weft daemon --advertise-address \(host.underlayAddress) --join \(other)")
        }
        try await Cluster.with(hosts: 2, beforeDockerd: weft) { cluster in
            let (h1, h2) = (cluster["h1"], cluster["h2"])
            Self.say("both hosts are up, each with its dockerd and weft (\(cluster.timingReport.setUp.milliseconds) ms)")

            Self.say("the same network on each host: the same subnet gives the same VNI, so one segment across both")
            for host in [h1, h2] {
                try await Self.docker(host, "network", "create", "-d", "weft", "--ipam-driver", "weft", "--subnet", "10.99.0.0/24", "demo")
            }
            Self.say("a container on each host (--ip until weft's IPAM hands out cluster-wide unique addresses)")
            try await Self.docker(h1, "run", "-d", "--name", "alpha", "--network", "demo", "--ip", "10.99.0.11", TestImage.reference, "sleep", "600")
            try await Self.docker(h2, "run", "-d", "--name", "beta", "--network", "demo", "--ip", "10.99.0.12", TestImage.reference, "sleep", "600")

            Self.say("waiting until h1's weft has learnt beta's address and MAC from h2 over gossip")
            try await Poll.until("h1 to learn of beta", timeout: .seconds(20), interval: .milliseconds(100)) {
                try await h1.vxlanEntries().neighbours.contains { $0.address == "10.99.0.12" }
            }
            try await Self.show(
                h1, "ip neigh / bridge fdb of the VXLAN device in weft's namespace for the network",
                "for n in /run/weft/netns/*; do b=${n##*/}; echo \"# namespace $n\"; nsenter --net=$n ip -d link show wvx-$b | head -3; "
                    + "nsenter --net=$n ip neigh show dev wvx-$b; nsenter --net=$n bridge fdb show dev wvx-$b | grep dst; done")

            Self.say("alpha (on h1) pings beta (on h2) across the VXLAN overlay")
            try await Self.docker(h1, "exec", "alpha", "ping", "-c", "3", "10.99.0.12")
            Self.say("and back")
            try await Self.docker(h2, "exec", "beta", "ping", "-c", "3", "10.99.0.11")

            Self.say("cleaning up: containers, networks; then the hosts themselves")
            try await Self.docker(h1, "rm", "-f", "alpha")
            try await Self.docker(h2, "rm", "-f", "beta")
            for host in [h1, h2] { try await Self.docker(host, "network", "rm", "demo") }
        }
        Self.say("done: every namespace, engine and file of the demo is gone")
    }
}
