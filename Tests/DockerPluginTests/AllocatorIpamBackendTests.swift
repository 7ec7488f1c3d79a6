import DockerPlugin
import Overlay
import Testing

/// The IPAM glue, driven through the router the way dockerd drives it.
@Suite("AllocatorIpamBackend")
struct AllocatorIpamBackendTests {
    let router = PluginRouter(
        network: RecordingBackend(), ipam: AllocatorIpamBackend(allocator: LocalAddressAllocator()))

    private func post(_ endpoint: PluginEndpoint, _ body: String) async -> PluginResponse {
        await router.respond(method: "POST", path: endpoint.path, body: Array(body.utf8))
    }

    @Test func dockerNetworkLifecycle() async {
        #expect(await post(.ipamCapabilities, "").text == #"{"RequiresMACAddress":false,"RequiresRequestReplay":false}"#)
        #expect(
            await post(.defaultAddressSpaces, "").text
                == #"{"GlobalDefaultAddressSpace":"weft-global","LocalDefaultAddressSpace":"weft-local"}"#)
        let pool = await post(.requestPool, #"{"AddressSpace":"weft-local","Pool":"","SubPool":"","Options":null,"V6":false}"#)
        #expect(pool.text == #"{"Data":{},"Pool":"10.200.0.0/24","PoolID":"weft:10.200.0.0/24"}"#)
        let gateway = await post(
            .requestAddress,
            #"{"PoolID":"weft:10.200.0.0/24","Address":"","Options":{"RequestAddressType":"com.docker.network.gateway"}}"#)
        #expect(gateway.text == #"{"Address":"10.200.0.1/24","Data":{}}"#)
        let container = await post(.requestAddress, #"{"PoolID":"weft:10.200.0.0/24","Address":"","Options":null}"#)
        #expect(container.text == #"{"Address":"10.200.0.2/24","Data":{}}"#)
        let pinned = await post(.requestAddress, #"{"PoolID":"weft:10.200.0.0/24","Address":"10.200.0.9","Options":null}"#)
        #expect(pinned.text == #"{"Address":"10.200.0.9/24","Data":{}}"#)
        for address in ["10.200.0.2", "10.200.0.9", "10.200.0.1"] {
            #expect(await post(.releaseAddress, #"{"PoolID":"weft:10.200.0.0/24","Address":"\#(address)"}"#).text == "{}")
        }
        #expect(await post(.releasePool, #"{"PoolID":"weft:10.200.0.0/24"}"#).text == "{}")
        // Released twice, as a retried delivery would: still fine.
        #expect(await post(.releasePool, #"{"PoolID":"weft:10.200.0.0/24"}"#).status == 200)
    }

    @Test func ipv6WithoutASubnetOrOutsideTheIPv4PassIsRefusedClearly() async {
        let response = await post(.requestPool, #"{"AddressSpace":"weft-local","Pool":"","V6":true}"#)
        #expect(response.status == 500)
        #expect(response.error == "IPv6 pool request: \(IPAMError.ipv6SubnetRequired)")
        let range = await post(.requestPool, #"{"Pool":"10.9.0.0/24","SubPool":"fd00::/80"}"#)
        #expect(range.error == "pool request for subnet 10.9.0.0/24: \(IPAMError.ipv6NotSupported)")
        let wide = await post(.requestPool, #"{"Pool":"fd00::/48","V6":true}"#)
        #expect(wide.error?.contains("--ipam-opt weft.ipv6-block=N") == true)
        let badBlock = await post(.requestPool, #"{"Pool":"fd00::/48","V6":true,"Options":{"weft.ipv6-block":"x"}}"#)
        #expect(badBlock.error?.contains("--ipam-opt weft.ipv6-block=x is not a prefix length") == true)
        let range6 = await post(.requestPool, #"{"Pool":"fd00:1::/64","SubPool":"fd00:1::/80","V6":true}"#)
        #expect(range6.error?.contains("--ip-range") == true)
    }

    /// The IPv6 pass of `docker network create --ipv6 --subnet fd00:30::/64`, then `docker run --ip6`.
    @Test func dualStackNetworkLifecycle() async {
        let pool = await post(.requestPool, #"{"AddressSpace":"weft-local","Pool":"fd00:30::/64","SubPool":"","Options":{},"V6":true}"#)
        #expect(pool.text == #"{"Data":{},"Pool":"fd00:30::/64","PoolID":"weft:fd00:30::/64"}"#)
        let gateway = await post(
            .requestAddress,
            #"{"PoolID":"weft:fd00:30::/64","Address":"","Options":{"RequestAddressType":"com.docker.network.gateway"}}"#)
        #expect(gateway.text == #"{"Address":"fd00:30::1/64","Data":{}}"#)
        let container = await post(.requestAddress, #"{"PoolID":"weft:fd00:30::/64","Address":"","Options":null}"#)
        #expect(container.text == #"{"Address":"fd00:30::2/64","Data":{}}"#)
        let pinned = await post(.requestAddress, #"{"PoolID":"weft:fd00:30::/64","Address":"fd00:30::beef","Options":null}"#)
        #expect(pinned.text == #"{"Address":"fd00:30::beef/64","Data":{}}"#)
        let outside = await post(.requestAddress, #"{"PoolID":"weft:fd00:30::/64","Address":"fd00:31::5","Options":null}"#)
        #expect(outside.error?.contains("address fd00:31::5 (--ip6) is outside the IPv6 pool fd00:30::/64") == true)
        let overlapping = await post(.requestPool, #"{"Pool":"fd00:30::/56","V6":true,"Options":{"weft.ipv6-block":"64"}}"#)
        #expect(overlapping.error?.contains("--subnet fd00:30::/56 overlaps the IPv6 pool fd00:30::/64") == true)
        #expect(await post(.releaseAddress, #"{"PoolID":"weft:fd00:30::/64","Address":"fd00:30::beef"}"#).text == "{}")
        #expect(await post(.releasePool, #"{"PoolID":"weft:fd00:30::/64"}"#).text == "{}")
        let again = await post(.requestPool, #"{"Pool":"fd00:30::/56","V6":true,"Options":{"weft.ipv6-block":"/64"}}"#)
        #expect(again.text == #"{"Data":{},"Pool":"fd00:30::/56","PoolID":"weft:fd00:30::/56"}"#)
    }

    /// Swarm's allocator asks for every pool with V6 false (swarmkit's cnmallocator, Docker 20.10 to 29): an
    /// IPv6 subnet is still an IPv6 pool, and its addresses come as IPv6.
    @Test func anIPv6SubnetWithoutV6IsAnIPv6Pool() async {
        let pool = await post(.requestPool, #"{"AddressSpace":"weft-global","Pool":"fd00:33::/64","SubPool":"","Options":{},"V6":false}"#)
        #expect(pool.text == #"{"Data":{},"Pool":"fd00:33::/64","PoolID":"weft:fd00:33::/64"}"#)
        let gateway = await post(
            .requestAddress,
            #"{"PoolID":"weft:fd00:33::/64","Address":"","Options":{"RequestAddressType":"com.docker.network.gateway"}}"#)
        #expect(gateway.text == #"{"Address":"fd00:33::1/64","Data":{}}"#)
        let task = await post(.requestAddress, #"{"PoolID":"weft:fd00:33::/64","Address":"","Options":null}"#)
        #expect(task.text == #"{"Address":"fd00:33::2/64","Data":{}}"#)
        let ranged = await post(.requestPool, #"{"Pool":"fd00:34::/64","SubPool":"fd00:34::/80"}"#)
        #expect(ranged.error?.contains("--ip-range") == true)
    }

    @Test func badSubnetsAndAddressesAreNamed() async {
        let hostBits = await post(.requestPool, #"{"Pool":"10.1.0.5/24"}"#)
        #expect(hostBits.status == 500)
        #expect(
            hostBits.error == "pool request for subnet 10.1.0.5/24: subnet 10.1.0.5/24 has host bits set; did you mean 10.1.0.0/24?")
        _ = await post(.requestPool, #"{"Pool":"10.1.0.0/24"}"#)
        let bogus = await post(.requestAddress, #"{"PoolID":"weft:10.1.0.0/24","Address":"bogus"}"#)
        #expect(bogus.error?.hasPrefix("address bogus in pool weft:10.1.0.0/24: \"bogus\" is not an IPv4 address") == true)
        let outside = await post(.requestAddress, #"{"PoolID":"weft:10.1.0.0/24","Address":"10.2.0.1"}"#)
        #expect(outside.error == "address 10.2.0.1 in pool weft:10.1.0.0/24: address 10.2.0.1 is outside pool 10.1.0.0/24")
    }

    @Test func unknownPoolsAndExhaustionReachDocker() async {
        let unknown = await post(.requestAddress, #"{"PoolID":"weft:10.7.0.0/24","Address":""}"#)
        #expect(unknown.status == 500)
        #expect(
            unknown.error
                == #"address request in pool weft:10.7.0.0/24: no pool with ID "weft:10.7.0.0/24" (never requested, or already released)"#)
        _ = await post(.requestPool, #"{"Pool":"10.1.0.0/30"}"#)
        #expect(await post(.requestAddress, #"{"PoolID":"weft:10.1.0.0/30"}"#).status == 200)
        #expect(await post(.requestAddress, #"{"PoolID":"weft:10.1.0.0/30"}"#).status == 200)
        let full = await post(.requestAddress, #"{"PoolID":"weft:10.1.0.0/30"}"#)
        #expect(full.text == #"{"Err":"address request in pool weft:10.1.0.0/30: pool 10.1.0.0/30 has no free address"}"#)
    }

    @Test func subPoolAndCIDRAddressesAreAccepted() async {
        let pool = await post(.requestPool, #"{"Pool":"10.1.0.0/24","SubPool":"10.1.0.128/25"}"#)
        #expect(pool.text == #"{"Data":{},"Pool":"10.1.0.0/24","PoolID":"weft:10.1.0.0/24:10.1.0.128/25"}"#)
        #expect(
            await post(.requestAddress, #"{"PoolID":"weft:10.1.0.0/24:10.1.0.128/25"}"#).text
                == #"{"Address":"10.1.0.128/24","Data":{}}"#)
        #expect(
            await post(.releaseAddress, #"{"PoolID":"weft:10.1.0.0/24:10.1.0.128/25","Address":"10.1.0.128/24"}"#)
                .status == 200)
    }
}
