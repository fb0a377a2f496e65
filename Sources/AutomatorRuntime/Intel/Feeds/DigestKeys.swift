/// A key of an `ExactTable`: integers, compared bit for bit, with a 64-bit word to hash.
protocol TableKey: Equatable, Sendable, BitwiseCopyable {
    var hashWord: UInt64 { get }
}

/// A hash (MD5, SHA-1, SHA-256, SHA-512) as its raw bytes in 64-bit words: half the memory
/// of its hex text, and compared in a few instructions.
protocol DigestKey: TableKey, Hashable {
    static var type: IndicatorType { get }
    static var hexLength: Int { get }
    /// Exactly `hexLength` hex digits, either case.
    init?(hex: UnsafeBufferPointer<UInt8>)
    /// Lower-case hex.
    var hex: String { get }
}

extension UInt32: TableKey {
    var hashWord: UInt64 { UInt64(self) }
}

/// An IPv6 address in two words: a table slot of 24 bytes with its reference, where a
/// `UInt128` (16-byte aligned) would take 32.
struct IPv6Key: TableKey {
    var high: UInt64
    var low: UInt64

    init(_ address: UInt128) {
        high = UInt64(truncatingIfNeeded: address >> 64)
        low = UInt64(truncatingIfNeeded: address)
    }

    init(high: UInt64, low: UInt64) {
        (self.high, self.low) = (high, low)
    }

    var hashWord: UInt64 { high ^ (low &* 0x9E37_79B9_7F4A_7C15) }
}

struct MD5Key: DigestKey {
    static let type = IndicatorType.md5
    static let hexLength = 32
    var a, b: UInt64

    init(a: UInt64, b: UInt64) {
        (self.a, self.b) = (a, b)
    }

    init?(hex: UnsafeBufferPointer<UInt8>) {
        var words = (UInt64(0), UInt64(0))
        guard Hex.decode(hex, digits: Self.hexLength, into: &words) else { return nil }
        self.init(a: words.0, b: words.1)
    }

    // The bytes of a hash are uniformly random already.
    var hashWord: UInt64 { a }
    var hex: String { Hex.text(a, digits: 16) + Hex.text(b, digits: 16) }
}

struct SHA1Key: DigestKey {
    static let type = IndicatorType.sha1
    static let hexLength = 40
    var a, b: UInt64
    var c: UInt32

    init(a: UInt64, b: UInt64, c: UInt32) {
        (self.a, self.b, self.c) = (a, b, c)
    }

    init?(hex: UnsafeBufferPointer<UInt8>) {
        var words = (UInt64(0), UInt64(0), UInt64(0))
        guard Hex.decode(hex, digits: Self.hexLength, into: &words) else { return nil }
        self.init(a: words.0, b: words.1, c: UInt32(truncatingIfNeeded: words.2))
    }

    var hashWord: UInt64 { a }
    var hex: String { Hex.text(a, digits: 16) + Hex.text(b, digits: 16) + Hex.text(UInt64(c), digits: 8) }
}

struct SHA256Key: DigestKey {
    static let type = IndicatorType.sha256
    static let hexLength = 64
    var a, b, c, d: UInt64

    init(a: UInt64, b: UInt64, c: UInt64, d: UInt64) {
        (self.a, self.b, self.c, self.d) = (a, b, c, d)
    }

    init?(hex: UnsafeBufferPointer<UInt8>) {
        var words = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        guard Hex.decode(hex, digits: Self.hexLength, into: &words) else { return nil }
        self.init(a: words.0, b: words.1, c: words.2, d: words.3)
    }

    var hashWord: UInt64 { a }
    var hex: String { [a, b, c, d].map { Hex.text($0, digits: 16) }.joined() }
}

struct SHA512Key: DigestKey {
    static let type = IndicatorType.sha512
    static let hexLength = 128
    var a, b, c, d, e, f, g, h: UInt64

    init(words: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)) {
        (a, b, c, d, e, f, g, h) = words
    }

    init?(hex: UnsafeBufferPointer<UInt8>) {
        var words = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        guard Hex.decode(hex, digits: Self.hexLength, into: &words) else { return nil }
        self.init(words: words)
    }

    var hashWord: UInt64 { a }
    var hex: String { [a, b, c, d, e, f, g, h].map { Hex.text($0, digits: 16) }.joined() }
}
