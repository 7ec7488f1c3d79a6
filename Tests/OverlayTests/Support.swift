import Overlay

func subnet(_ text: String) -> IPv4Subnet {
    do {
        return try IPv4Subnet(parsing: text)
    } catch {
        fatalError("test subnet \(text): \(error)")
    }
}

func address(_ text: String) -> IPv4Address {
    guard let address = IPv4Address(text) else { fatalError("test address \(text)") }
    return address
}
