import DockerPlugin
import Testing

private let network = RecordingBackend.knownNetwork
private let endpoint = String(repeating: "cd", count: 32)
private let unknownNetwork = String(repeating: "ef", count: 32)

/// One valid request per path: what Docker 20.10 sends, the reply expected, and the call the backend must see.
struct ValidCase: Sendable, CustomTestStringConvertible {
    var endpoint: PluginEndpoint
    var body: String
    var reply: String
    var call: RecordedCall?
    var testDescription: String { endpoint.rawValue }
}

private let validCases: [ValidCase] = [
    ValidCase(endpoint: .activate, body: "", reply: #"{"Implements":["NetworkDriver","IpamDriver"]}"#, call: nil),
    ValidCase(
        endpoint: .networkCapabilities, body: "", reply: #"{"ConnectivityScope":"global","Scope":"local"}"#,
        call: .networkCapabilities),
    ValidCase(
        endpoint: .createNetwork,
        body: """
            {"NetworkID":"\(network)","Options":{"com.docker.network.enable_ipv6":false,\
            "com.docker.network.generic":{"weft.vni":"4097","com.docker.network.driver.mtu":"1400"}},\
            "IPv4Data":[{"AddressSpace":"weft-local","Pool":"10.1.0.0/24","Gateway":"10.1.0.1/24",\
            "AuxAddresses":{"router":"10.1.0.5/24"}}],"IPv6Data":[]}

            """,
        reply: "{}",
        call: .createNetwork(
            CreateNetworkRequest(
                networkID: network,
                options: DriverOptions([
                    "com.docker.network.enable_ipv6": false,
                    "com.docker.network.generic": ["weft.vni": "4097", "com.docker.network.driver.mtu": "1400"],
                ]),
                ipv4Data: [
                    IPAMData(
                        addressSpace: "weft-local", pool: "10.1.0.0/24", gateway: "10.1.0.1/24",
                        auxAddresses: ["router": "10.1.0.5/24"])
                ]))),
    ValidCase(
        endpoint: .deleteNetwork, body: #"{"NetworkID":"\#(network)"}"#, reply: "{}",
        call: .deleteNetwork(DeleteNetworkRequest(networkID: network))),
    ValidCase(
        endpoint: .createEndpoint,
        body: """
            {"NetworkID":"\(network)","EndpointID":"\(endpoint)",\
            "Interface":{"Address":"10.1.0.2/24","AddressIPv6":"","MacAddress":""},\
            "Options":{"com.docker.network.endpoint.exposedports":[{"Proto":6,"Port":80}],\
            "com.docker.network.portmap":[]}}
            """,
        reply: #"{"Interface":{"MacAddress":"02:42:0a:01:00:02"}}"#,
        call: .createEndpoint(
            CreateEndpointRequest(
                networkID: network, endpointID: endpoint, interface: EndpointInterface(address: "10.1.0.2/24"),
                options: DriverOptions([
                    "com.docker.network.endpoint.exposedports": [["Proto": 6, "Port": 80]],
                    "com.docker.network.portmap": [],
                ])))),
    ValidCase(
        endpoint: .endpointOperInfo, body: #"{"NetworkID":"\#(network)","EndpointID":"\#(endpoint)"}"#,
        reply: #"{"Value":{"vni":4097}}"#,
        call: .endpointOperInfo(EndpointReference(networkID: network, endpointID: endpoint))),
    ValidCase(
        endpoint: .deleteEndpoint, body: #"{"NetworkID":"\#(network)","EndpointID":"\#(endpoint)"}"#, reply: "{}",
        call: .deleteEndpoint(EndpointReference(networkID: network, endpointID: endpoint))),
    ValidCase(
        endpoint: .join,
        body: """
            {"NetworkID":"\(network)","EndpointID":"\(endpoint)","SandboxKey":"/var/run/docker/netns/3f1a2b3c4d5e",\
            "Options":{"com.docker.network.generic":{"ParentEndpoints":[],"ChildEndpoints":[]}}}
            """,
        reply: """
            {"DisableGatewayService":true,"Gateway":"10.1.0.1","InterfaceName":{"DstPrefix":"eth","SrcName":"wvcdcdcdcd"},\
            "StaticRoutes":[{"Destination":"10.9.0.0/16","NextHop":"10.1.0.254","RouteType":0}]}
            """,
        call: .join(
            JoinRequest(
                networkID: network, endpointID: endpoint, sandboxKey: "/var/run/docker/netns/3f1a2b3c4d5e",
                options: DriverOptions(["com.docker.network.generic": ["ParentEndpoints": [], "ChildEndpoints": []]])))),
    ValidCase(
        endpoint: .leave, body: #"{"NetworkID":"\#(network)","EndpointID":"\#(endpoint)"}"#, reply: "{}",
        call: .leave(EndpointReference(networkID: network, endpointID: endpoint))),
    ValidCase(
        endpoint: .discoverNew,
        body: #"{"DiscoveryType":1,"DiscoveryData":{"Address":"192.0.2.5","BindAddress":"192.0.2.5","Self":true}}"#,
        reply: "{}",
        call: .discoverNew(
            DiscoveryNotification(
                discoveryType: 1, discoveryData: ["Address": "192.0.2.5", "BindAddress": "192.0.2.5", "Self": true]))),
    ValidCase(
        endpoint: .discoverDelete,
        body: #"{"DiscoveryType":1,"DiscoveryData":{"Address":"192.0.2.6","BindAddress":"","Self":false}}"#,
        reply: "{}",
        call: .discoverDelete(
            DiscoveryNotification(
                discoveryType: 1, discoveryData: ["Address": "192.0.2.6", "BindAddress": "", "Self": false]))),
    ValidCase(
        endpoint: .programExternalConnectivity,
        body: #"{"NetworkID":"\#(network)","EndpointID":"\#(endpoint)","Options":null}"#, reply: "{}",
        call: .programExternalConnectivity(ProgramExternalConnectivityRequest(networkID: network, endpointID: endpoint))),
    ValidCase(
        endpoint: .revokeExternalConnectivity, body: #"{"NetworkID":"\#(network)","EndpointID":"\#(endpoint)"}"#,
        reply: "{}",
        call: .revokeExternalConnectivity(EndpointReference(networkID: network, endpointID: endpoint))),
    ValidCase(
        endpoint: .allocateNetwork,
        body: """
            {"NetworkID":"n2ytn6f0pmcvk2b5rm1gdgkq1","Options":{"mode":"fast"},\
            "IPv4Data":[{"AddressSpace":"","Pool":"10.0.1.0/24","Gateway":"10.0.1.1/24"}],"IPv6Data":null}
            """,
        reply: #"{"Options":{"mode":"fast","weft.vni":"4097"}}"#,
        call: .allocateNetwork(
            AllocateNetworkRequest(
                networkID: "n2ytn6f0pmcvk2b5rm1gdgkq1", options: ["mode": "fast"],
                ipv4Data: [IPAMData(addressSpace: "", pool: "10.0.1.0/24", gateway: "10.0.1.1/24")]))),
    ValidCase(
        endpoint: .freeNetwork, body: #"{"NetworkID":"n2ytn6f0pmcvk2b5rm1gdgkq1"}"#, reply: "{}",
        call: .freeNetwork(NetworkReference(networkID: "n2ytn6f0pmcvk2b5rm1gdgkq1"))),
    ValidCase(
        endpoint: .ipamCapabilities, body: "", reply: #"{"RequiresMACAddress":false,"RequiresRequestReplay":false}"#,
        call: .ipamCapabilities),
    ValidCase(
        endpoint: .defaultAddressSpaces, body: "",
        reply: #"{"GlobalDefaultAddressSpace":"weft-global","LocalDefaultAddressSpace":"weft-local"}"#,
        call: .defaultAddressSpaces),
    ValidCase(
        endpoint: .requestPool,
        body: #"{"AddressSpace":"weft-local","Pool":"10.1.0.0/24","SubPool":"","Options":null,"V6":false}"#,
        reply: #"{"Data":{},"Pool":"10.1.0.0/24","PoolID":"pool-10.1.0.0/24"}"#,
        call: .requestPool(RequestPoolRequest(addressSpace: "weft-local", pool: "10.1.0.0/24"))),
    ValidCase(
        endpoint: .releasePool, body: #"{"PoolID":"pool-10.1.0.0/24"}"#, reply: "{}",
        call: .releasePool(ReleasePoolRequest(poolID: "pool-10.1.0.0/24"))),
    ValidCase(
        endpoint: .requestAddress,
        body: #"{"PoolID":"pool-10.1.0.0/24","Address":"","Options":{"RequestAddressType":"com.docker.network.gateway"}}"#,
        reply: #"{"Address":"10.1.0.2/24","Data":{}}"#,
        call: .requestAddress(
            RequestAddressRequest(
                poolID: "pool-10.1.0.0/24", options: ["RequestAddressType": "com.docker.network.gateway"]))),
    ValidCase(
        endpoint: .releaseAddress, body: #"{"PoolID":"pool-10.1.0.0/24","Address":"10.1.0.2"}"#, reply: "{}",
        call: .releaseAddress(ReleaseAddressRequest(poolID: "pool-10.1.0.0/24", address: "10.1.0.2"))),
]

/// The paths whose request has a required member, and that member.
private let requiredMembers: [(PluginEndpoint, String)] = [
    (.createNetwork, "NetworkID"), (.deleteNetwork, "NetworkID"), (.createEndpoint, "NetworkID"),
    (.endpointOperInfo, "NetworkID"), (.deleteEndpoint, "NetworkID"), (.join, "NetworkID"), (.leave, "NetworkID"),
    (.discoverNew, "DiscoveryType"), (.discoverDelete, "DiscoveryType"), (.programExternalConnectivity, "NetworkID"),
    (.revokeExternalConnectivity, "NetworkID"), (.allocateNetwork, "NetworkID"), (.freeNetwork, "NetworkID"),
    (.releasePool, "PoolID"), (.requestAddress, "PoolID"), (.releaseAddress, "PoolID"),
]

/// The paths that take no request body.
private let bodilessEndpoints: [PluginEndpoint] = [
    .activate, .networkCapabilities, .ipamCapabilities, .defaultAddressSpaces,
]

@Suite("PluginRouter")
struct RouterTests {
    let backend = RecordingBackend()
    var router: PluginRouter { PluginRouter(network: backend, ipam: backend) }

    @Test func everyPathOfTheProtocolIsCovered() {
        #expect(Set(validCases.map(\.endpoint)) == Set(PluginEndpoint.allCases))
        #expect(PluginEndpoint.allCases.count == 21)
    }

    @Test(arguments: validCases)
    func validRequestReachesTheBackendTyped(_ valid: ValidCase) async {
        let response = await router.respond(method: "POST", path: valid.endpoint.path, body: Array(valid.body.utf8))
        #expect(response.status == 200, "\(response.text)")
        #expect(response.text == valid.reply)
        #expect(response.endpoint == valid.endpoint)
        #expect(backend.calls == (valid.call.map { [$0] } ?? []))
    }

    @Test(arguments: bodilessEndpoints, ["", "null", "{}", "\n", "null\n"])
    func bodilessPathsAcceptEmptyAndNullBodies(_ endpoint: PluginEndpoint, body: String) async {
        let response = await router.respond(method: "POST", path: endpoint.path, body: Array(body.utf8))
        #expect(response.status == 200)
        #expect(response.text.hasPrefix("{"))
    }

    @Test(arguments: requiredMembers.map(\.0))
    func malformedJSONIsABadRequest(_ endpoint: PluginEndpoint) async {
        let response = await router.respond(method: "POST", path: endpoint.path, body: Array(#"{"NetworkID": "#.utf8))
        #expect(response.status == 400)
        #expect(response.text == #"{"Err":"invalid \#(endpoint.rawValue) request: malformed JSON"}"#)
        #expect(backend.calls.isEmpty)
    }

    @Test(arguments: requiredMembers, ["", "null", "{}"])
    func aMissingRequiredMemberIsNamed(_ required: (PluginEndpoint, String), body: String) async {
        let response = await router.respond(method: "POST", path: required.0.path, body: Array(body.utf8))
        #expect(response.status == 400)
        #expect(response.error == "invalid \(required.0.rawValue) request: missing field \"\(required.1)\"")
        #expect(backend.calls.isEmpty)
    }

    @Test(arguments: [
        (PluginEndpoint.createNetwork, #"{"NetworkID":5}"#, #"field "NetworkID" must be a string"#),
        (.createNetwork, #"{"NetworkID":"n","Options":"x"}"#, #"field "Options" must be an object"#),
        (.createNetwork, #"{"NetworkID":"n","IPv4Data":{}}"#, #"field "IPv4Data" must be an array"#),
        (.createNetwork, #"{"NetworkID":"n","IPv4Data":[{"Pool":5}]}"#, #"field "IPv4Data[0].Pool" must be a string"#),
        (.createEndpoint, #"{"NetworkID":"n","EndpointID":"e","Interface":{"Address":5}}"#,
         #"field "Interface.Address" must be a string"#),
        (.createEndpoint, #"{"NetworkID":"n"}"#, #"missing field "EndpointID""#),
        (.join, #"{"NetworkID":"n","EndpointID":"e","SandboxKey":true}"#, #"field "SandboxKey" must be a string"#),
        (.discoverNew, #"{"DiscoveryType":"1"}"#, #"field "DiscoveryType" must be an integer"#),
        (.requestPool, #"{"V6":"yes"}"#, #"field "V6" must be a boolean"#),
        (.requestPool, #"{"Options":{"a":1}}"#, #"field "Options.a" must be a string"#),
        (.requestAddress, #"{"PoolID":"p","Address":5}"#, #"field "Address" must be a string"#),
        (.releaseAddress, #"{"PoolID":"p"}"#, #"missing field "Address""#),
        (.allocateNetwork, #"{"NetworkID":"n","Options":{"k":true}}"#, #"field "Options.k" must be a string"#),
        (.deleteNetwork, #"{"NetworkID":""}"#, #"field "NetworkID": must not be empty"#),
        (.deleteNetwork, #"{"NetworkID":null}"#, #"field "NetworkID" must be a string, not null"#),
        (.deleteNetwork, #"["NetworkID"]"#, #"field "(body)" must be an object"#),
        (.deleteNetwork, #""NetworkID""#, #"field "(body)" must be an object"#),
    ])
    func wrongTypesAreNamed(_ endpoint: PluginEndpoint, body: String, reason: String) async {
        let response = await router.respond(method: "POST", path: endpoint.path, body: Array(body.utf8))
        #expect(response.status == 400)
        #expect(response.error == "invalid \(endpoint.rawValue) request: \(reason)")
        #expect(backend.calls.isEmpty)
    }

    @Test func nullMapsAndMissingOptionalMembersAreTolerated() async {
        let body = #"{"NetworkID":"\#(network)","Options":null,"IPv4Data":null,"IPv6Data":null,"Extra":[1]}"#
        let response = await router.respond(method: "POST", path: "/NetworkDriver.CreateNetwork", body: Array(body.utf8))
        #expect(response.status == 200)
        #expect(backend.calls == [.createNetwork(CreateNetworkRequest(networkID: network))])

        let pool = await router.respond(method: "POST", path: "/IpamDriver.RequestPool", body: [])
        #expect(pool.status == 200)
        #expect(backend.calls.last == .requestPool(RequestPoolRequest()))
    }

    @Test func unknownIDsFailWithTheObjectAndTheCause() async {
        let body = #"{"NetworkID":"\#(unknownNetwork)","EndpointID":"\#(endpoint)","Interface":null}"#
        let response = await router.respond(method: "POST", path: "/NetworkDriver.CreateEndpoint", body: Array(body.utf8))
        #expect(response.status == 500)
        #expect(
            response.text
                == #"{"Err":"endpoint cdcdcdcdcdcd on network efefefefefef: no such network \#(unknownNetwork)"}"#)
    }

    @Test(arguments: validCases.filter { $0.endpoint != .activate })
    func backendFailuresBecomeErrWithTheirSubject(_ valid: ValidCase) async throws {
        let failing = RecordingBackend(failure: BackendFailure(description: "the disk is on fire"))
        let router = PluginRouter(network: failing, ipam: failing)
        let response = await router.respond(method: "POST", path: valid.endpoint.path, body: Array(valid.body.utf8))
        #expect(response.status == 500)
        let error = try #require(response.error)
        #expect(error.hasSuffix(": the disk is on fire"))
        #expect(response.text == #"{"Err":"\#(error)"}"#)
        let subject = error.dropLast(": the disk is on fire".count)
        switch valid.endpoint {
        case .createNetwork, .deleteNetwork: #expect(subject == "network abababababab")
        case .createEndpoint, .join, .leave, .deleteEndpoint, .endpointOperInfo, .programExternalConnectivity,
            .revokeExternalConnectivity:
            #expect(subject == "endpoint cdcdcdcdcdcd on network abababababab")
        case .allocateNetwork, .freeNetwork: #expect(subject == "network n2ytn6f0pmcv")
        case .requestPool: #expect(subject == "pool request for subnet 10.1.0.0/24")
        case .releasePool: #expect(subject == "pool pool-10.1.0.0/24")
        case .requestAddress: #expect(subject == "gateway request in pool pool-10.1.0.0/24")
        case .releaseAddress: #expect(subject == "address 10.1.0.2 in pool pool-10.1.0.0/24")
        case .discoverNew, .discoverDelete: #expect(subject == "node discovery (type 1)")
        default: #expect(!subject.isEmpty)
        }
    }

    @Test func cancellationIsReportedAsShutdown() async {
        let router = PluginRouter(network: RecordingBackend(failure: CancellationError()), ipam: backend)
        let response = await router.respond(method: "POST", path: "/NetworkDriver.GetCapabilities", body: [])
        #expect(response.status == 500)
        #expect(response.error == "capabilities: cancelled: the plugin is shutting down")
    }

    @Test(arguments: ["/Nope", "/NetworkDriver.createnetwork", "NetworkDriver.CreateNetwork", "/", "",
                      "/NetworkDriver.CreateNetwork/extra", "/VolumeDriver.Create"])
    func unknownPathsAre404(_ path: String) async {
        let response = await router.respond(method: "POST", path: path, body: Array("{}".utf8))
        #expect(response.status == 404)
        #expect(response.endpoint == nil)
        #expect(response.text == #"{"Err":"unknown plugin API path \#(path)"}"#)
        #expect(backend.calls.isEmpty)
    }

    @Test(arguments: ["GET", "PUT", "DELETE", "HEAD"])
    func otherMethodsAre405(_ method: String) async {
        let response = await router.respond(method: method, path: "/Plugin.Activate", body: [])
        #expect(response.status == 405)
        #expect(response.error == "/Plugin.Activate accepts only POST, not \(method)")
    }

    @Test func aQueryStringIsIgnored() async {
        let response = await router.respond(method: "POST", path: "/Plugin.Activate?x=1", body: [])
        #expect(response.status == 200)
    }
}
