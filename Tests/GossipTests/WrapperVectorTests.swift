import Gossip
import Testing
import TestSupport

@Suite("memberlist wrappers match the Go vectors byte for byte")
struct WrapperVectorTests {
    static let keyring = try! Keyring(keys: [hex(Vectors.gcmKey)])

    @Test("compound of ping and suspect")
    func compound() throws {
        let encoded = try Compound.encode([Vectors.pingValue.encoded(), Vectors.suspectValue.encoded()])
        #expect(hexString(encoded) == Vectors.compound)
        let parts = try Compound.decode(hex(Vectors.compound))
        #expect(parts.truncatedCount == 0)
        #expect(parts.parts.map(hexString) == [Vectors.ping, Vectors.suspect])
    }

    @Test("CRC wrapper around the compound")
    func crc() throws {
        #expect(hexString(CRC32.wrap(hex(Vectors.compound))) == Vectors.crcCompound)
        #expect(try CRC32.unwrap(hex(Vectors.crcCompound)) == hex(Vectors.compound))
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
    }

    @Test("LZW of alive and of TOBEORNOT, both directions")
    func lzw() throws {
        #expect(hexString(LZW.compress(hex(Vectors.alive))) == Vectors.lzwAlive)
        #expect(try LZW.decompress(hex(Vectors.lzwAlive), maxOutputBytes: 1 << 20) == hex(Vectors.alive))
        let text = Array("TOBEORNOTTOBEORTOBEORNOT".utf8)
        #expect(hexString(LZW.compress(text)) == Vectors.lzwToBeOrNot)
        #expect(try LZW.decompress(hex(Vectors.lzwToBeOrNot), maxOutputBytes: 100) == text)
    }

    @Test("compress message of alive: Buf is str16 da 0055")
    func compress() throws {
        #expect(hexString(Compressed.wrap(hex(Vectors.alive))) == Vectors.compressAlive)
        #expect(try Compressed.unwrap(hex(Vectors.compressAlive), maxOutputBytes: 1 << 20) == hex(Vectors.alive))
        let decoded = try Compressed.decode(hex(Vectors.compressAlive))
        #expect(decoded.algo == 0)
        #expect(decoded.buf.count == 0x55)
    }

    @Test("AES-GCM v1 on UDP, without and with a label, and on a stream")
    func gcm() throws {
        let plaintext = hex(Vectors.gcmPlaintext)
        let nonce = hex(Vectors.gcmNonce)
        let keyring = Self.keyring
        #expect(hexString(try keyring.encrypt(plaintext, nonce: nonce)) == Vectors.udpNoLabel)
        #expect(try keyring.decrypt(hex(Vectors.udpNoLabel)) == plaintext)
        let label = Array("x".utf8)
        #expect(hexString(try keyring.encrypt(plaintext, additionalData: label, nonce: nonce)) == Vectors.udpLabelX)
        #expect(try keyring.decrypt(hex(Vectors.udpLabelX), additionalData: label) == plaintext)

        // Through the packet codec: the label vector is the payload after an f4 01 78 header.
        let plain = WireConfig(keyring: keyring)
        let labelled = WireConfig(keyring: keyring, label: label)
        let options = PacketOptions(nonce: nonce)
        #expect(hexString(try PacketCodec.encode(plaintext, options: options, config: plain)) == Vectors.udpNoLabel)
        #expect(
            hexString(try PacketCodec.encode(plaintext, options: options, config: labelled)) == "f40178" + Vectors.udpLabelX)
        let decoded = try PacketCodec.decode(hex("f40178" + Vectors.udpLabelX), config: labelled)
        #expect(decoded.messages == [.ping(Ping(seqNo: 1, node: ""))])
        #expect(decoded.label == label)
        #expect(decoded.wasEncrypted)
        #expect(try PacketCodec.decode(hex(Vectors.udpNoLabel), config: plain).messages == [.ping(Ping(seqNo: 1, node: ""))])

        // Stream framing: 0a + length 38, with the 5-byte header as additional data.
        let stream = try StreamCodec.encode(inner: plaintext, config: plain, nonce: nonce)
        #expect(hexString(stream) == Vectors.tcpNoLabel)
        let decodedStream = try StreamCodec.decode(hex(Vectors.tcpNoLabel), config: plain)
        #expect(decodedStream.message == .ping(Ping(seqNo: 1, node: "")))
        #expect(decodedStream.wasEncrypted)
        #expect(try StreamCodec.frameLength(of: Array(hex(Vectors.tcpNoLabel).prefix(5)), config: plain) == 43)
    }
}
