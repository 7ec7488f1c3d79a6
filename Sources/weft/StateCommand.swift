import ArgumentParser
import Glibc
import Overlay

/// `weft state`: what weft remembers (networks, endpoints, IPAM), as saved in its state directory.
struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Print weft's saved state: networks, endpoints and IPAM allocations."
    )

    @Option(help: "The daemon's state directory.")
    var stateDir: String = "/var/lib/weft"

    func run() throws {
        guard access(stateDir, F_OK) == 0 else { throw ValidationError("\(stateDir) does not exist: weft has not run with this state directory") }
        // Read-only: no lock, so it works beside the running daemon.
        let store = try StateStore(directory: stateDir, readOnly: true)
        let state = store.current
        print("state directory \(stateDir) (newest file: \(store.newestFile ?? "-"))")
        print("networks (\(state.networks.count)):")
        for network in state.networks.values.sorted(by: { $0.vni < $1.vni }) {
            let gateway = network.gateway.map { " gateway \($0)" } ?? ""
            let ipv6 = network.subnet6.map { " subnet6 \($0)" + (network.gateway6.map { " gateway6 \($0)" } ?? "") } ?? ""
            print("  \(network.shortID) vni \(network.vni) subnet \(network.subnet)\(gateway)\(ipv6) mtu \(network.mtu)\(network.isInternal ? " internal" : "")")
            for endpoint in state.endpoints(of: network.id) {
                let address6 = endpoint.address6.map { " \($0)/\(network.subnet6?.prefixLength ?? 128)" } ?? ""
                print("    endpoint \(endpoint.shortID) \(endpoint.address)/\(endpoint.prefixLength)\(address6) mac \(endpoint.mac)")
            }
        }
        if let address = state.swarmAddress { print("swarm advertises this node at \(address)") }
        for (id, allocation) in state.allocatedNetworks.sorted(by: { $0.key < $1.key }) {
            print("allocated as swarm manager: network \(id.prefix(12)) vni \(allocation.vni) subnet \(allocation.subnet)")
        }
        print("IPAM pools (\(state.ipam.pools.count)):")
        for (id, pool) in state.ipam.pools.sorted(by: { $0.key.description < $1.key.description }) {
            let addresses = pool.addresses.keys.sorted().map(\.description).joined(separator: " ")
            print("  \(id) references \(pool.references) allocated: \(addresses.isEmpty ? "-" : addresses)")
        }
        if !state.ipam.pools6.isEmpty { print("IPv6 IPAM pools (\(state.ipam.pools6.count)):") }
        for (id, pool) in state.ipam.pools6.sorted(by: { $0.key.description < $1.key.description }) {
            let addresses = pool.addresses.keys.sorted().map(\.description).joined(separator: " ")
            print("  \(id) blocks /\(pool.blockPrefixLength) references \(pool.references) allocated: \(addresses.isEmpty ? "-" : addresses)")
        }
    }
}
