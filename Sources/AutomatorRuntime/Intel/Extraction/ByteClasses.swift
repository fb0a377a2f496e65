/// ASCII classes the scanner asks about on every byte: plain comparisons, no tables or locale.
extension UInt8 {
    var isASCIIDigit: Bool { self &- UInt8(ascii: "0") < 10 }
    var isASCIILetter: Bool { (self | 0x20) &- UInt8(ascii: "a") < 26 }
    var isASCIIAlphanumeric: Bool { isASCIIDigit || isASCIILetter }
    var isHexDigit: Bool { isASCIIDigit || (self | 0x20) &- UInt8(ascii: "a") < 6 }
    var asciiLowercased: UInt8 { self &- UInt8(ascii: "A") < 26 ? self | 0x20 : self }
    /// `[`, `(` or `{`: a defanged dot or at sign may start here.
    var isOpeningBracket: Bool { self == UInt8(ascii: "[") || self == UInt8(ascii: "(") || self == UInt8(ascii: "{") }

    /// The value of a hexadecimal digit (the caller has checked ``isHexDigit``).
    var hexValue: UInt8 { isASCIIDigit ? self &- UInt8(ascii: "0") : (self | 0x20) &- UInt8(ascii: "a") &+ 10 }
}

extension Unicode.Scalar {
    /// Whether a non-ASCII scalar may be part of a word or an IDN label: letters and marks of
    /// any script. Punctuation, spaces, symbols, emoji, private use and the BOM are not, so
    /// `“evil.com”`, `evil.com…` and a non-breaking space end a name as ASCII punctuation does.
    var isWordLike: Bool {
        switch value {
        case 0x80...0xBF, 0xD7, 0xF7: false  // C1 controls, Latin-1 punctuation, × and ÷
        case 0x2000...0x2BFF, 0x2E00...0x2E7F, 0x3000...0x303F: false  // punctuation, symbols, CJK punctuation
        case 0xD800...0xF8FF, 0xFE00...0xFFFF: false  // surrogates, private use, forms, specials
        case 0x1F000...0x1FFFF, 0xE0000...: false  // emoji and symbols, tags, private planes
        default: true
        }
    }
}
