import DockerPlugin
import FoundationEssentials
import Testing

@Suite("Wire types")
struct WireTypeTests {
    private func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.utf8))
    }

    private func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func createNetworkOptionsExposeTheUserOptions() throws {
        let request = try decode(
            CreateNetworkRequest.self,
            #"""
            {"NetworkID":"n","Options":{"com.docker.network.enable_ipv6":true,"com.docker.network.internal":true,
             "com.docker.network.generic":{"weft.vni":"42","odd":7}},"IPv4Data":[{"AddressSpace":"weft-local",
             "Pool":"10.1.0.0/24"}],"IPv6Data":[]}
            """#)
        #expect(request.options.enableIPv6)
        #expect(request.options.isInternal)
        #expect(request.options.genericStrings == ["weft.vni": "42"])
        #expect(request.options.generic["odd"] == .integer(7))
        #expect(request.ipv4Data == [IPAMData(addressSpace: "weft-local", pool: "10.1.0.0/24")])
        #expect(request.ipv4Data[0].gateway == nil && request.ipv4Data[0].auxAddresses == nil)
    }

    @Test func optionsDefaultWhenAbsent() throws {
        let request = try decode(CreateNetworkRequest.self, #"{"NetworkID":"n"}"#)
        #expect(!request.options.enableIPv6)
        #expect(!request.options.isInternal)
        #expect(request.options.genericStrings.isEmpty)
    }

    @Test func createEndpointInterfaceMembersMayBeMissing() throws {
        let request = try decode(
            CreateEndpointRequest.self, #"{"NetworkID":"n","EndpointID":"e","Interface":{"Address":"10.1.0.2/24"}}"#)
        #expect(request.interface == EndpointInterface(address: "10.1.0.2/24"))
    }

    @Test func nodeDiscoveryIsExtracted() throws {
        let notification = try decode(
            DiscoveryNotification.self,
            #"{"DiscoveryType":1,"DiscoveryData":{"Address":"192.0.2.5","BindAddress":"0.0.0.0","Self":true}}"#)
        #expect(notification.node == NodeDiscovery(address: "192.0.2.5", bindAddress: "0.0.0.0", isSelf: true))
        let other = try decode(DiscoveryNotification.self, #"{"DiscoveryType":2,"DiscoveryData":{"Provider":"x"}}"#)
        #expect(other.node == nil)
    }

    @Test func repliesOmitWhatIsUnset() throws {
        #expect(try encode(CreateEndpointResponse()) == "{}")
        #expect(try encode(JoinResponse()) == "{}")
        #expect(try encode(EmptyResponse()) == "{}")
        #expect(try encode(NetworkDriverCapabilities(scope: .local)) == #"{"Scope":"local"}"#)
        #expect(try encode(EndpointOperInfoResponse()) == #"{"Value":{}}"#)
        #expect(try encode(AllocateNetworkResponse()) == #"{"Options":{}}"#)
        #expect(try encode(ErrorResponse("pool 10.1.0.0/29 has no free address"))
            == #"{"Err":"pool 10.1.0.0/29 has no free address"}"#)
    }

    @Test func joinReplyUsesDockersShapes() throws {
        let reply = JoinResponse(
            interfaceName: InterfaceName(srcName: "wv0123"), gateway: "10.1.0.1",
            staticRoutes: [StaticRoute(destination: "10.1.0.1/32", routeType: .connected)])
        #expect(
            try encode(reply)
                == #"{"Gateway":"10.1.0.1","InterfaceName":{"DstPrefix":"eth","SrcName":"wv0123"},"#
                + #""StaticRoutes":[{"Destination":"10.1.0.1/32","RouteType":1}]}"#)
    }

    @Test func requestAddressRecognisesGatewayRequests() throws {
        let gateway = try decode(
            RequestAddressRequest.self,
            #"{"PoolID":"p","Address":"","Options":{"RequestAddressType":"com.docker.network.gateway"}}"#)
        #expect(gateway.isGatewayRequest)
        let endpoint = try decode(RequestAddressRequest.self, #"{"PoolID":"p","Address":"10.1.0.9","Options":null}"#)
        #expect(!endpoint.isGatewayRequest)
        #expect(endpoint.address == "10.1.0.9")
    }

    @Test func jsonValuesRoundTripExactly() throws {
        let value: JSONValue = ["big": .integer(9_007_199_254_740_993), "pi": .number(3.5), "list": [nil, true, "s"]]
        let text = try encode(value)
        #expect(text == #"{"big":9007199254740993,"list":[null,true,"s"],"pi":3.5}"#)
        #expect(try decode(JSONValue.self, text) == value)
    }
}
