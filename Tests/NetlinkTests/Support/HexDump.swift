/// Golden hex dumps: `//` comments and whitespace are ignored, the rest is the message in hex.
enum HexDump {
    static func bytes(_ annotated: String) -> [UInt8] {
        let hex = annotated.split(separator: "\n").map { line in
            line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        }.joined().filter { !$0.isWhitespace }
        precondition(hex.count % 2 == 0, "odd number of hex digits in golden dump")
        var bytes: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static func string(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
