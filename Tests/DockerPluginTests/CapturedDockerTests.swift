import DockerPlugin
import Overlay
import Testing

/// A request exactly as dockerd 20.10.24 (Debian's docker.io) sent it to weft's server, and weft's reply when it
/// does not depend on the network backend. Captured with `--log-level trace` from a private dockerd in a network +
/// mount namespace: `docker network create -d weft --ipam-driver weft -o weft.vni=42 w1`, `docker run --rm
/// --network w1 …`, `docker network rm w1`; then a `-d bridge --ipam-driver weft --subnet 10.1.0.0/24 --ip-range
/// 10.1.0.128/25 --gateway 10.1.0.254 --aux-address r=10.1.0.5` network, and `-d weft` with Docker's default IPAM.
struct CapturedCall: Sendable, CustomTestStringConvertible {
    var path: String
    var body: String
    var reply: String?

    init(_ path: String, _ body: String, reply: String?) {
        self.path = path
        // Go's json.Encoder ends every body with a newline; bodiless calls send nothing at all.
        self.body = body.isEmpty ? "" : body + "\n"
        self.reply = reply
    }

    var testDescription: String { path }
}

/// One container's life on a weft network, in the order dockerd sent it.
let containerLifecycle: [CapturedCall] = [
    CapturedCall(#"Plugin.Activate"#, #""#, reply: #"{"Implements":["NetworkDriver","IpamDriver"]}"#),
    CapturedCall(#"NetworkDriver.GetCapabilities"#, #""#, reply: nil),
    CapturedCall(#"IpamDriver.GetCapabilities"#, #""#, reply: #"{"RequiresMACAddress":false,"RequiresRequestReplay":false}"#),
    CapturedCall(#"IpamDriver.GetDefaultAddressSpaces"#, #""#, reply: #"{"GlobalDefaultAddressSpace":"weft-global","LocalDefaultAddressSpace":"weft-local"}"#),
    CapturedCall(#"IpamDriver.RequestPool"#, #"{"AddressSpace":"weft-local","Pool":"","SubPool":"","Options":{},"V6":false}"#, reply: #"{"Data":{},"Pool":"10.200.0.0/24","PoolID":"weft:10.200.0.0/24"}"#),
    CapturedCall(#"IpamDriver.RequestAddress"#, #"{"PoolID":"weft:10.200.0.0/24","Address":"","Options":{"RequestAddressType":"com.docker.network.gateway"}}"#, reply: #"{"Address":"10.200.0.1/24","Data":{}}"#),
    CapturedCall(#"NetworkDriver.CreateNetwork"#, #"{"NetworkID":"1183b4310d91f1096d94c125793ca0a21d8d7ca22b3a2558d4b78d68ac77febb","Options":{"com.docker.network.enable_ipv6":false,"com.docker.network.generic":{"weft.vni":"42"}},"IPv4Data":[{"AddressSpace":"weft-local","Gateway":"10.200.0.1/24","Pool":"10.200.0.0/24"}],"IPv6Data":[]}"#, reply: nil),
    CapturedCall(#"IpamDriver.RequestAddress"#, #"{"PoolID":"weft:10.200.0.0/24","Address":"","Options":null}"#, reply: #"{"Address":"10.200.0.2/24","Data":{}}"#),
    CapturedCall(#"NetworkDriver.CreateEndpoint"#, #"{"NetworkID":"1183b4310d91f1096d94c125793ca0a21d8d7ca22b3a2558d4b78d68ac77febb","EndpointID":"5ed35e15f285387f9d5b28245d1ab330d3aac09e5026213483e66c7af7b0e6e4","Interface":{"Address":"10.200.0.2/24","AddressIPv6":"","MacAddress":""},"Options":{"com.docker.network.endpoint.exposedports":[],"com.docker.network.portmap":[]}}"#, reply: nil),
    CapturedCall(#"NetworkDriver.Join"#, #"{"NetworkID":"1183b4310d91f1096d94c125793ca0a21d8d7ca22b3a2558d4b78d68ac77febb","EndpointID":"5ed35e15f285387f9d5b28245d1ab330d3aac09e5026213483e66c7af7b0e6e4","SandboxKey":"/var/run/docker/netns/55764bf5a7a4","Options":{"com.docker.network.endpoint.exposedports":[],"com.docker.network.portmap":[]}}"#, reply: nil),
    CapturedCall(#"NetworkDriver.ProgramExternalConnectivity"#, #"{"NetworkID":"1183b4310d91f1096d94c125793ca0a21d8d7ca22b3a2558d4b78d68ac77febb","EndpointID":"5ed35e15f285387f9d5b28245d1ab330d3aac09e5026213483e66c7af7b0e6e4","Options":{"com.docker.network.endpoint.exposedports":[],"com.docker.network.portmap":[]}}"#, reply: nil),
    CapturedCall(#"NetworkDriver.EndpointOperInfo"#, #"{"NetworkID":"1183b4310d91f1096d94c125793ca0a21d8d7ca22b3a2558d4b78d68ac77febb","EndpointID":"5ed35e15f285387f9d5b28245d1ab330d3aac09e5026213483e66c7af7b0e6e4"}"#, reply: nil),
    CapturedCall(#"NetworkDriver.EndpointOperInfo"#, #"{"NetworkID":"1183b4310d91f1096d94c125793ca0a21d8d7ca22b3a2558d4b78d68ac77febb","EndpointID":"5ed35e15f285387f9d5b28245d1ab330d3aac09e5026213483e66c7af7b0e6e4"}"#, reply: nil),
    CapturedCall(#"NetworkDriver.RevokeExternalConnectivity"#, #"{"NetworkID":"1183b4310d91f1096d94c125793ca0a21d8d7ca22b3a2558d4b78d68ac77febb","EndpointID":"5ed35e15f285387f9d5b28245d1ab330d3aac09e5026213483e66c7af7b0e6e4"}"#, reply: nil),
    CapturedCall(#"NetworkDriver.Leave"#, #"{"NetworkID":"1183b4310d91f1096d94c125793ca0a21d8d7ca22b3a2558d4b78d68ac77febb","EndpointID":"5ed35e15f285387f9d5b28245d1ab330d3aac09e5026213483e66c7af7b0e6e4"}"#, reply: nil),
    CapturedCall(#"NetworkDriver.DeleteEndpoint"#, #"{"NetworkID":"1183b4310d91f1096d94c125793ca0a21d8d7ca22b3a2558d4b78d68ac77febb","EndpointID":"5ed35e15f285387f9d5b28245d1ab330d3aac09e5026213483e66c7af7b0e6e4"}"#, reply: nil),
    CapturedCall(#"IpamDriver.ReleaseAddress"#, #"{"PoolID":"weft:10.200.0.0/24","Address":"10.200.0.2"}"#, reply: #"{}"#),
    CapturedCall(#"IpamDriver.ReleaseAddress"#, #"{"PoolID":"weft:10.200.0.0/24","Address":"10.200.0.1"}"#, reply: #"{}"#),
    CapturedCall(#"IpamDriver.ReleasePool"#, #"{"PoolID":"weft:10.200.0.0/24"}"#, reply: #"{}"#),
    CapturedCall(#"NetworkDriver.DeleteNetwork"#, #"{"NetworkID":"1183b4310d91f1096d94c125793ca0a21d8d7ca22b3a2558d4b78d68ac77febb"}"#, reply: nil),
]

/// A bridge network using weft's IPAM with every IPAM option, then a weft network on Docker's default IPAM.
let ipamOptions: [CapturedCall] = [
    CapturedCall(#"IpamDriver.RequestPool"#, #"{"AddressSpace":"weft-local","Pool":"10.1.0.0/24","SubPool":"10.1.0.128/25","Options":{},"V6":false}"#, reply: #"{"Data":{},"Pool":"10.1.0.0/24","PoolID":"weft:10.1.0.0/24:10.1.0.128/25"}"#),
    CapturedCall(#"IpamDriver.RequestAddress"#, #"{"PoolID":"weft:10.1.0.0/24:10.1.0.128/25","Address":"10.1.0.254","Options":{"RequestAddressType":"com.docker.network.gateway"}}"#, reply: #"{"Address":"10.1.0.254/24","Data":{}}"#),
    CapturedCall(#"IpamDriver.RequestAddress"#, #"{"PoolID":"weft:10.1.0.0/24:10.1.0.128/25","Address":"10.1.0.5","Options":null}"#, reply: #"{"Address":"10.1.0.5/24","Data":{}}"#),
    CapturedCall(#"NetworkDriver.CreateNetwork"#, #"{"NetworkID":"2a89387ca84624742725009101189191b8731f3f07a95075a3d5013b73645d1f","Options":{"com.docker.network.enable_ipv6":false,"com.docker.network.generic":{"weft.vni":"42"}},"IPv4Data":[{"AddressSpace":"LocalDefault","Gateway":"172.17.0.1/16","Pool":"172.17.0.0/16"}],"IPv6Data":[]}"#, reply: nil),
    CapturedCall(#"IpamDriver.ReleaseAddress"#, #"{"PoolID":"weft:10.1.0.0/24:10.1.0.128/25","Address":"10.1.0.254"}"#, reply: #"{}"#),
    CapturedCall(#"IpamDriver.ReleaseAddress"#, #"{"PoolID":"weft:10.1.0.0/24:10.1.0.128/25","Address":"10.1.0.5"}"#, reply: #"{}"#),
    CapturedCall(#"IpamDriver.ReleasePool"#, #"{"PoolID":"weft:10.1.0.0/24:10.1.0.128/25"}"#, reply: #"{}"#),
]

@Suite("Requests captured from dockerd 20.10.24")
struct CapturedDockerTests {
    private func replay(_ calls: [CapturedCall]) async {
        let backend = RecordingBackend()
        let router = PluginRouter(network: backend, ipam: AllocatorIpamBackend(allocator: LocalAddressAllocator()))
        for call in calls {
            let response = await router.respond(method: "POST", path: "/" + call.path, body: Array(call.body.utf8))
            #expect(response.status == 200, "\(call.path): \(response.text)")
            if let reply = call.reply {
                #expect(response.text == reply, "\(call.path)")
            }
        }
        #expect(backend.calls.count == calls.filter { $0.path.hasPrefix("NetworkDriver.") }.count)
    }

    @Test func aContainerLifecycleReplaysCleanly() async {
        await replay(containerLifecycle)
    }

    @Test func ipamOptionsReplayCleanly() async {
        await replay(ipamOptions)
    }

    @Test func dockerSendsAnEmptyOptionsObjectNotNullWithoutIpamOpt() throws {
        let pool = try #require(containerLifecycle.first { $0.path == "IpamDriver.RequestPool" })
        #expect(pool.body.contains(#""Options":{}"#))
    }

    @Test func anIPv6PassIsServedAndOneWithoutASubnetRefusedWithAMessageForTheUser() async {
        let router = PluginRouter(
            network: RecordingBackend(), ipam: AllocatorIpamBackend(allocator: LocalAddressAllocator()))
        let body = #"{"AddressSpace":"weft-local","Pool":"fd00::/64","SubPool":"","Options":{},"V6":true}"# + "\n"
        let response = await router.respond(method: "POST", path: "/IpamDriver.RequestPool", body: Array(body.utf8))
        #expect(response.status == 200)
        #expect(response.text == #"{"Data":{},"Pool":"fd00::/64","PoolID":"weft:fd00::/64"}"#)
        let bare = #"{"AddressSpace":"weft-local","Pool":"","SubPool":"","Options":{},"V6":true}"# + "\n"
        let refused = await router.respond(method: "POST", path: "/IpamDriver.RequestPool", body: Array(bare.utf8))
        #expect(refused.status == 500)
        // dockerd shows the user: "Error response from daemon: IpamDriver.RequestPool: " followed by this.
        #expect(
            refused.error
                == "IPv6 pool request: --ipv6 needs an IPv6 --subnet (such as fd00:30::/64): weft's IPAM does not pick IPv6 pools itself")
    }
}
