import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the shared reference lives: `../shared` from the package root.
private let vectorsPath: String = {
    var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    components.removeLast(3)  // Tests/GossipTests/ReferenceFileTests.swift
    return components.joined(separator: "/") + "/../shared/reference/memberlist-vectors.txt"
}()

private func readVectorsFile() -> String? {
    guard let file = fopen(vectorsPath, "r") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = fread(&buffer, 1, buffer.count, file)
        guard count > 0 else { break }
        bytes += buffer.prefix(count)
    }
    return String(decoding: bytes, as: UTF8.self)
}

@Suite("the embedded vectors are the reference file's")
struct ReferenceFileTests {
    @Test(
        "every hex line of memberlist-vectors.txt is embedded and tested",
        .enabled(if: readVectorsFile() != nil, "shared/reference is not beside the package"))
    func everyLineCovered() throws {
        let text = try #require(readVectorsFile())
        var seen = 0
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let last = fields.last, fields.count >= 2 else { continue }
            let name = fields.dropLast().joined(separator: " ")
            // The key/nonce/plaintext line is a parameter line, not a vector; check its parts instead.
            if name.hasPrefix("gcm") {
                #expect(line.contains("key=" + Vectors.gcmKey))
                #expect(line.contains("nonce=" + Vectors.gcmNonce))
                #expect(line.contains("pt=" + Vectors.gcmPlaintext))
                continue
            }
            let embedded = Vectors.byFileName[name]
            #expect(embedded == String(last), "vector \(name)")
            seen += 1
        }
        #expect(seen == Vectors.byFileName.count)
    }
}
