/// Bytes from a hex string or an annotated golden dump: white space and `//` comments (to the end of a line) are
/// ignored. Test helper: traps on malformed literals.
public func hex(_ text: String) -> [UInt8] {
    let digits = Array(
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.split(separator: "//", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        }.joined().filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0, "odd number of hex digits")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

/// Lower-case hex of bytes, for readable failures.
public func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}
