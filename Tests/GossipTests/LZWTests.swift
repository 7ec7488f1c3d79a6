import Gossip
import Testing
import TestSupport

@Suite("LZW: Go's compress/lzw, LSB, literal width 8")
struct LZWTests {
    /// Cases compressed by Go 1.19's `compress/lzw` (Debian bookworm): input from ``generatedBytes``, the
    /// length and IEEE CRC-32 of Go's output. They cover the 12-bit table reset (CLEAR mid-stream) and long runs.
    struct GoCase: Sendable, CustomTestStringConvertible {
        let name: String
        let count: Int
        let alphabet: UInt64
        let seed: UInt64
        let compressedCount: Int
        let compressedCRC: UInt32
        var testDescription: String { name }
    }

    static let goCases: [GoCase] = [
        GoCase(name: "two letters", count: 30000, alphabet: 2, seed: 1, compressedCount: 4648, compressedCRC: 0xcd17_5d4a),
        GoCase(name: "four letters", count: 60000, alphabet: 4, seed: 2, compressedCount: 17959, compressedCRC: 0x8871_b16a),
        GoCase(name: "all bytes", count: 20000, alphabet: 256, seed: 3, compressedCount: 27290, compressedCRC: 0x4d1c_5ca0),
        GoCase(name: "one letter", count: 100_000, alphabet: 1, seed: 4, compressedCount: 530, compressedCRC: 0x2f32_f651),
        GoCase(name: "sixteen letters", count: 5000, alphabet: 16, seed: 5, compressedCount: 3233, compressedCRC: 0x3461_a674),
    ]

    @Test("the writer matches Go's output and the reader inverts it", arguments: goCases)
    func goReference(goCase: GoCase) throws {
        let input = generatedBytes(count: goCase.count, alphabet: goCase.alphabet, seed: goCase.seed)
        let compressed = LZW.compress(input)
        #expect(compressed.count == goCase.compressedCount)
        #expect(CRC32.checksum(compressed) == goCase.compressedCRC)
        #expect(try LZW.decompress(compressed, maxOutputBytes: input.count) == input)
    }

    @Test("empty and one-byte inputs as Go writes them")
    func tiny() throws {
        #expect(LZW.compress([]) == [0x00, 0x03, 0x02])
        #expect(LZW.compress([0x61]) == [0x00, 0xc3, 0x04, 0x04])
        #expect(try LZW.decompress([0x00, 0x03, 0x02], maxOutputBytes: 0) == [])
        #expect(try LZW.decompress([0x00, 0xc3, 0x04, 0x04], maxOutputBytes: 1) == [0x61])
    }

    @Test("garbage after the EOF code is refused (Go would ignore it)")
    func trailingGarbage() {
        #expect(throws: LZWError.trailingBytes(count: 2)) {
            try LZW.decompress(hex(Vectors.lzwToBeOrNot) + [0xde, 0xad], maxOutputBytes: 1000)
        }
    }

    @Test("data without an EOF code is truncated; every prefix fails cleanly")
    func truncated() {
        let data = hex(Vectors.lzwAlive)
        for length in 0..<data.count {
            #expect(throws: LZWError.truncated) { try LZW.decompress(Array(data.prefix(length)), maxOutputBytes: 1000) }
        }
    }

    @Test("a code beyond the dictionary is invalid")
    func invalidCode() {
        // CLEAR (256), then code 300 while the dictionary ends at 257: 9-bit LSB packing of [256, 300].
        let codes: [UInt32] = [256, 300]
        var bits: UInt32 = 0
        var count: UInt32 = 0
        var bytes: [UInt8] = []
        for code in codes {
            bits |= code << count
            count += 9
            while count >= 8 {
                bytes.append(UInt8(truncatingIfNeeded: bits))
                bits >>= 8
                count -= 8
            }
        }
        bytes.append(UInt8(truncatingIfNeeded: bits))
        #expect(throws: LZWError.invalidCode(code: 300, offset: 3)) { try LZW.decompress(bytes, maxOutputBytes: 100) }
    }

    @Test("output is bounded: a highly compressible input cannot exceed the limit")
    func bounded() throws {
        let bomb = LZW.compress(Array(repeating: 0, count: 1_000_000))
        #expect(bomb.count < 3000)
        #expect(throws: LZWError.outputTooLarge(limit: 10_000)) { try LZW.decompress(bomb, maxOutputBytes: 10_000) }
        #expect(try LZW.decompress(bomb, maxOutputBytes: 1_000_000).count == 1_000_000)
    }

    @Test("random garbage never traps: it decodes or throws")
    func garbage() {
        var state: UInt64 = 42
        for round in 0..<2000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(state >> 54)  // 0...1023
            let bytes = generatedBytes(count: length, alphabet: 256, seed: state)
            // Start half of them with a CLEAR code so they get past the first code more often.
            let input = round.isMultiple(of: 2) ? [0x00, 0x01] + bytes : bytes
            _ = try? LZW.decompress(input, maxOutputBytes: 1 << 20)
        }
    }
}
