import CHexDigits

/// Hexadecimal digits, without a lookup table: a lookup decodes 32 to 128 of them per hash.
enum Hex {
    /// 0–15, or 16 or more for a byte that is not a hex digit (either case).
    @inline(__always)
    static func digit(_ byte: UInt8) -> UInt8 {
        let lower = byte | 0x20
        let decimal = byte &- UInt8(ascii: "0")
        let letter = lower &- UInt8(ascii: "a")
        return decimal < 10 ? decimal : (letter < 6 ? letter + 10 : 0xFF)
    }

    /// Exactly `digits` hex digits (a multiple of 8), either case, into `words`: a word per 16
    /// digits, the first digit most significant, and the low half of one more for 8 left over.
    /// False when `text` has another length or a byte that is not a digit.
    ///
    /// SSE2 in C (`CHexDigits`): about 40 instructions for 16 digits (164 for a SHA-256),
    /// where eight at a time in a 64-bit register (SWAR) took about 80 (328).
    @inline(__always)
    static func decode<Words: BitwiseCopyable>(_ text: UnsafeBufferPointer<UInt8>, digits: Int,
                                               into words: inout Words) -> Bool {
        precondition(MemoryLayout<Words>.size >= (digits + 15) / 16 * 8, "too few words for \(digits) digits")
        guard text.count == digits else { return false }
        return withUnsafeMutableBytes(of: &words) {
            hex_decode(text.baseAddress, digits, $0.baseAddress!.assumingMemoryBound(to: UInt64.self))
        }
    }

    /// The hex digits at `start`, up to the first byte that is not one (or the end): their
    /// value (the last four digits of it) and how many there are, up to 8.
    ///
    /// Eight bytes read at once in one register (SWAR): a byte is a digit when it lies in
    /// `0`–`9` or, with the lower-case bit set, in `a`–`f`; its value is its low four bits, plus
    /// 9 for a letter (bit 6). Only the digits before the first byte that is not one count, so
    /// what follows it (a byte of 0x80 or more, whose sums carry into the next byte) cannot
    /// change the answer.
    @inline(__always)
    static func group(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> (value: UInt32, digits: Int) {
        let count = text.count - start
        guard count > 0 else { return (0, 0) }
        let raw = UnsafeRawPointer(text.baseAddress!)
        // `start..<start + count` in the low bytes, zeros (not digits) above: eight bytes read
        // within the text, from `start` or ending at its end, or gathered when it is shorter.
        var bytes: UInt64 = 0
        if count >= 8 {
            bytes = raw.loadUnaligned(fromByteOffset: start, as: UInt64.self)
        } else if text.count >= 8 {
            bytes = raw.loadUnaligned(fromByteOffset: text.count - 8, as: UInt64.self) &>> UInt64(64 - 8 * count)
        } else {
            for offset in 0..<count { bytes |= UInt64(text[start + offset]) << UInt64(8 * offset) }
        }
        // For bytes below 0x80, adding 0x80 - n sets a byte's sign bit exactly when it is n or
        // more: digits are 0x30 or more and not 0x3A or more; letters, lower-cased, 0x61 to 0x66.
        let lower = bytes | 0x2020_2020_2020_2020
        let decimal = (bytes &+ 0x5050_5050_5050_5050) & ~(bytes &+ 0x4646_4646_4646_4646)
        let letters = (lower &+ 0x1F1F_1F1F_1F1F_1F1F) & ~(lower &+ 0x1919_1919_1919_1919)
        let isDigit = (decimal | letters) & ~bytes & 0x8080_8080_8080_8080
        let digits = (~isDigit & 0x8080_8080_8080_8080).trailingZeroBitCount / 8
        guard digits > 0 else { return (0, 0) }
        let nibbles = (bytes & 0x0F0F_0F0F_0F0F_0F0F) &+ 9 &* ((bytes >> 6) & 0x0101_0101_0101_0101)
        // The digits' nibbles to the top, then swapped: the last digit in the lowest byte.
        let ordered = (nibbles &<< UInt64(64 - 8 * digits)).byteSwapped
        let pairs = ordered | ordered >> 4
        return (UInt32(truncatingIfNeeded: pairs & 0xFF | (pairs >> 8) & 0xFF00), digits)
    }

    /// `value` as `digits` lower-case hex digits, zero-padded.
    static func text(_ value: UInt64, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: digits - text.count) + text
    }
}
