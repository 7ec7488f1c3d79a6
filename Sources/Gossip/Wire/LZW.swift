/// Why LZW data could not be decompressed.
public enum LZWError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The data ends before the EOF code.
    case truncated
    /// A code that is neither a literal, CLEAR, EOF nor a dictionary entry defined so far.
    case invalidCode(code: Int, offset: Int)
    /// The output would exceed the caller's limit.
    case outputTooLarge(limit: Int)
    /// Whole bytes follow the byte that holds the EOF code. Go's writer never produces them.
    case trailingBytes(count: Int)

    public var description: String {
        switch self {
        case .truncated: "lzw: data ends before the EOF code"
        case .invalidCode(let code, let offset): "lzw: invalid code \(code) near byte \(offset)"
        case .outputTooLarge(let limit): "lzw: decompressed data exceeds \(limit) bytes"
        case .trailingBytes(let count): "lzw: \(count) bytes of garbage after the EOF code"
        }
    }
}

/// Go's `compress/lzw` with `order = LSB` and `litWidth = 8`, the only algorithm memberlist compresses with.
///
/// Ported from Go's `reader.go` and `writer.go` line by line, because the code-width increase timing and the
/// table reset are specific to that implementation: codes start 9 bits wide and grow to 12, 256 is CLEAR,
/// 257 is EOF, the writer emits CLEAR first and EOF last, widens when `hi == overflow` after incrementing and
/// resets (CLEAR) when `hi` reaches 4095; the reader widens when `hi >= overflow` and stops adding entries at
/// 12-bit saturation until a CLEAR.
public enum LZW {
    private static let litWidth: UInt32 = 8
    private static let clearCode: UInt32 = 1 << litWidth
    private static let eofCode: UInt32 = clearCode + 1
    private static let maxWidth: UInt32 = 12
    private static let maxCode: UInt32 = 1 << maxWidth - 1
    private static let tableSize = 4 << maxWidth
    private static let tableMask = UInt32(tableSize - 1)

    /// Compresses `input` exactly as Go's `lzw.NewWriter(w, lzw.LSB, 8)` followed by one `Write` and `Close`.
    public static func compress(_ input: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 2 + 8)
        var bits: UInt32 = 0
        var bitCount: UInt32 = 0
        var width: UInt32 = litWidth + 1
        var hi: UInt32 = eofCode
        var overflow: UInt32 = 1 << (litWidth + 1)
        // Each entry is key << 12 | code, where key = prefix code << 8 | literal; 0 marks an empty slot.
        var table = [UInt32](repeating: 0, count: tableSize)

        func write(_ code: UInt32) {
            bits |= code << bitCount
            bitCount += width
            while bitCount >= 8 {
                output.append(UInt8(truncatingIfNeeded: bits))
                bits >>= 8
                bitCount -= 8
            }
        }

        /// Go's `incHi`: returns `true` when the codes ran out and the table was reset.
        func incrementHi() -> Bool {
            hi += 1
            if hi == overflow {
                width += 1
                overflow <<= 1
            }
            if hi == maxCode {
                write(clearCode)
                width = litWidth + 1
                hi = eofCode
                overflow = 1 << (litWidth + 1)
                for index in table.indices { table[index] = 0 }
                return true
            }
            return false
        }

        write(clearCode)
        guard let first = input.first else {
            // Close without a Write: CLEAR, then EOF.
            write(eofCode)
            if bitCount > 0 { output.append(UInt8(truncatingIfNeeded: bits)) }
            return output
        }
        var code = UInt32(first)
        nextByte: for byte in input.dropFirst() {
            let literal = UInt32(byte)
            let key = code << 8 | literal
            let hash = (key >> 12 ^ key) & tableMask
            var probe = hash
            var entry = table[Int(probe)]
            while entry != 0 {
                if key == entry >> 12 {
                    code = entry & maxCode
                    continue nextByte
                }
                probe = (probe + 1) & tableMask
                entry = table[Int(probe)]
            }
            write(code)
            code = literal
            if incrementHi() { continue }
            var slot = hash
            while table[Int(slot)] != 0 {
                slot = (slot + 1) & tableMask
            }
            table[Int(slot)] = key << 12 | hi
        }
        // Close: the saved code, then EOF, then the final partial byte.
        write(code)
        _ = incrementHi()
        write(eofCode)
        if bitCount > 0 { output.append(UInt8(truncatingIfNeeded: bits)) }
        return output
    }

    /// Decompresses Go LSB/8 LZW data, producing at most `maxOutputBytes` bytes.
    ///
    /// Stricter than Go's reader in one way: whole bytes after the byte that holds the EOF code are an error
    /// (Go ignores them; its writer never produces them).
    public static func decompress(_ input: [UInt8], maxOutputBytes: Int) throws(LZWError) -> [UInt8] {
        let invalid: UInt32 = .max
        var output: [UInt8] = []
        output.reserveCapacity(min(input.count * 3, max(maxOutputBytes, 0)))
        var bits: UInt32 = 0
        var bitCount: UInt32 = 0
        var position = 0
        var width: UInt32 = litWidth + 1
        var hi: UInt32 = eofCode
        var overflow: UInt32 = 1 << width
        var last: UInt32 = invalid
        var suffix = [UInt8](repeating: 0, count: 1 << maxWidth)
        var prefix = [UInt16](repeating: 0, count: 1 << maxWidth)
        // An expansion is written right to left into `scratch`; no code expands to more than 4096 bytes.
        var scratch = [UInt8](repeating: 0, count: 1 << maxWidth)

        while true {
            while bitCount < width {
                guard position < input.count else { throw .truncated }
                bits |= UInt32(input[position]) << bitCount
                position += 1
                bitCount += 8
            }
            let code = bits & (1 << width - 1)
            bits >>= width
            bitCount -= width

            if code < clearCode {
                guard output.count < maxOutputBytes else { throw .outputTooLarge(limit: maxOutputBytes) }
                output.append(UInt8(code))
                if last != invalid {
                    suffix[Int(hi)] = UInt8(code)
                    prefix[Int(hi)] = UInt16(last)
                }
            } else if code == clearCode {
                width = litWidth + 1
                hi = eofCode
                overflow = 1 << width
                last = invalid
                continue
            } else if code == eofCode {
                guard position == input.count else { throw .trailingBytes(count: input.count - position) }
                return output
            } else if code <= hi {
                var current = code
                var index = scratch.count - 1
                if code == hi && last != invalid {
                    // hi expands to last's expansion followed by the first byte of last's expansion.
                    current = last
                    while current >= clearCode { current = UInt32(prefix[Int(current)]) }
                    scratch[index] = UInt8(current)
                    index -= 1
                    current = last
                }
                while current >= clearCode {
                    // Prefix codes are always smaller than the code they extend, so this ends; the guard only
                    // keeps a logic error from trapping.
                    guard index > 0 else { throw .invalidCode(code: Int(code), offset: position) }
                    scratch[index] = suffix[Int(current)]
                    index -= 1
                    current = UInt32(prefix[Int(current)])
                }
                scratch[index] = UInt8(current)
                let expansion = scratch.count - index
                guard expansion <= maxOutputBytes - output.count else { throw .outputTooLarge(limit: maxOutputBytes) }
                output.append(contentsOf: scratch[index...])
                if last != invalid {
                    suffix[Int(hi)] = UInt8(current)
                    prefix[Int(hi)] = UInt16(last)
                }
            } else {
                throw .invalidCode(code: Int(code), offset: position)
            }
            last = code
            hi += 1
            if hi >= overflow {
                if width == maxWidth {
                    last = invalid
                    hi -= 1
                } else {
                    width += 1
                    overflow = 1 << width
                }
            }
        }
    }
}
