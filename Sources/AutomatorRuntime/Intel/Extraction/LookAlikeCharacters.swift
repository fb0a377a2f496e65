import Foundation

/// A text with the characters that hide an indicator from the scanner taken out or replaced, and
/// where its bytes came from. Invisible ones are removed: zero-width space, non-joiner and
/// joiner, word joiner, byte order mark, soft hyphen (`203.0.113<U+200B>.45` shows as the
/// address), except a zero-width space next to a letter of Thai, Lao, Myanmar or Khmer, which
/// breaks words there as a space does; look-alike dots (ideographic `。`, fullwidth `．`, halfwidth `｡`) become `.`, and
/// fullwidth digits ASCII ones (`２０３。０。１１３。４５`), as a person reading them would.
///
/// The scanner reads bytes, and these are multi-byte UTF-8. Most texts hold none, and are told
/// so eight bytes at a time while they are ASCII, without a copy.
struct LookAlikeCharacters {
    /// The text with the characters replaced.
    let bytes: [UInt8]
    /// From each `from` offset of `bytes` on (until the next), the original offset is `shift`
    /// further: one entry a character replaced, not one a byte, since a long text may hold few.
    private var shifts: [(from: Int, shift: Int)] = []

    /// Nil when `text` holds none of the characters.
    init?(_ text: UnsafeBufferPointer<UInt8>) {
        guard let first = Self.firstReplaced(in: text) else { return nil }
        var bytes = Array(text[..<first])
        bytes.reserveCapacity(text.count)
        var i = first
        while i < text.count {
            guard let (length, replacement) = Self.replacement(in: text, at: i) else {
                bytes.append(text[i])
                i += 1
                continue
            }
            if let replacement {
                shifts.append((bytes.count, i - bytes.count))
                bytes.append(replacement)
            }
            i += length
            shifts.append((bytes.count, i - bytes.count))
        }
        self.bytes = bytes
    }

    /// `indicator`, found in `bytes`, with the offsets of `text`, the original.
    func inOriginal(_ indicator: ExtractedIndicator, of text: UnsafeBufferPointer<UInt8>) -> ExtractedIndicator {
        var original = indicator
        original.start = offset(of: indicator.start)
        let last = offset(of: indicator.end - 1)
        original.end = last + (Self.replacement(in: text, at: last)?.length ?? 1)
        return original
    }

    /// The original offset of the byte at `offset` of `bytes`.
    private func offset(of offset: Int) -> Int {
        // The last entry from at most `offset`.
        var (low, high) = (0, shifts.count)
        while low < high {
            let middle = (low + high) / 2
            if shifts[middle].from <= offset { low = middle + 1 } else { high = middle }
        }
        return offset + (low == 0 ? 0 : shifts[low - 1].shift)
    }

    /// The offset of the first character to replace. Eight bytes at a time while they are ASCII:
    /// every character replaced starts with a byte that has the high bit set.
    private static func firstReplaced(in text: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let base = UnsafeRawPointer(text.baseAddress) else { return nil }
        var i = 0
        while i < text.count {
            if i + 8 <= text.count, base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & Self.highBits == 0 {
                i += 8
            } else if text[i] >= 0xC2, replacement(in: text, at: i) != nil {
                return i
            } else {
                i += 1
            }
        }
        return nil
    }

    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Whether the character at `j` is of a script written without spaces between words, where a
    /// zero-width space is the break between them (Thai, Lao, Myanmar, Khmer): read as a space,
    /// so that `บล็อก<U+200B>evil.com` gives `evil.com`, not a domain glued to a Thai word.
    private static func separatesWords(in text: UnsafeBufferPointer<UInt8>, at j: Int) -> Bool {
        guard j >= 0, j + 2 < text.count else { return false }
        return switch (text[j], text[j + 1]) {
        case (0xE0, 0xB8...0xBB): true  // U+0E00...U+0EFF Thai, Lao
        case (0xE1, 0x80...0x82), (0xE1, 0x9E...0x9F): true  // U+1000...U+109F Myanmar, U+1780...U+17FF Khmer
        default: false
        }
    }

    /// Whether the character that ends just before `i` is one of those scripts' (all three bytes long).
    private static func separatesWords(in text: UnsafeBufferPointer<UInt8>, before i: Int) -> Bool {
        separatesWords(in: text, at: i - 3)
    }

    /// The length of the character at `i` and the byte it becomes (nil: none, it is removed), if
    /// it is one to replace.
    private static func replacement(in text: UnsafeBufferPointer<UInt8>, at i: Int) -> (length: Int, byte: UInt8?)? {
        let rest = text.count - i
        switch text[i] {
        case 0xC2 where rest >= 2 && text[i + 1] == 0xAD:
            return (2, nil)  // U+00AD soft hyphen
        case 0xE2 where rest >= 3:
            switch (text[i + 1], text[i + 2]) {
            case (0x80, 0x8B) where separatesWords(in: text, before: i) || separatesWords(in: text, at: i + 3):
                return (3, UInt8(ascii: " "))  // U+200B between words of a script written without spaces
            case (0x80, 0x8B...0x8D), (0x81, 0xA0): return (3, nil)  // U+200B...U+200D, U+2060 word joiner
            default: return nil
            }
        case 0xE3 where rest >= 3 && text[i + 1] == 0x80 && text[i + 2] == 0x82:
            return (3, UInt8(ascii: "."))  // U+3002 ideographic full stop
        case 0xEF where rest >= 3:
            switch (text[i + 1], text[i + 2]) {
            case (0xBB, 0xBF): return (3, nil)  // U+FEFF byte order mark
            case (0xBC, 0x8E), (0xBD, 0xA1): return (3, UInt8(ascii: "."))  // U+FF0E, U+FF61
            case (0xBC, 0x90...0x99): return (3, text[i + 2] - 0x90 + UInt8(ascii: "0"))  // U+FF10...U+FF19 digits
            default: return nil
            }
        default:
            return nil
        }
    }
}
