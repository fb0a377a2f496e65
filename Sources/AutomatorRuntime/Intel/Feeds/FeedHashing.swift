/// The hash functions of the index's tables. Not Swift's `Hasher`: SipHash over a SHA-256 costs
/// more than the rest of a lookup, and these keys need less.
enum FeedHashing {
    /// A fresh seed for each index built, so a feed crafted to make keys collide (and lookups
    /// crawl) cannot aim at a layout it cannot know.
    static func newSeed() -> UInt64 { .random(in: .min ... .max) }

    /// Spreads a word's entropy over all 64 bits (a 64-bit finaliser, two multiply rounds).
    @inline(__always)
    static func mix(_ word: UInt64, seed: UInt64) -> UInt64 {
        var x = word ^ seed
        x = (x ^ (x >> 32)) &* 0xD6E8_FEB8_6659_FD93
        x = (x ^ (x >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return x ^ (x >> 32)
    }

    /// A home slot in `0..<capacity` from a mixed hash: its high bits scaled, no division.
    @inline(__always)
    static func slot(_ mixed: UInt64, capacity: Int) -> Int {
        Int(truncatingIfNeeded: mixed.multipliedFullWidth(by: UInt64(capacity)).high)
    }

    /// Bytes eight at a time: URLs, e-mail addresses and CVEs (an exact match only).
    @inline(__always)
    static func bytes(_ value: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
        let raw = UnsafeRawBufferPointer(value)
        var hash = seed ^ UInt64(value.count)
        var index = 0
        while index + 8 <= raw.count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) &* 0x9E37_79B9_7F4A_7C15
            hash ^= hash >> 29
            index += 8
        }
        var last: UInt64 = 0
        var shift: UInt64 = 0
        while index < raw.count {
            last |= UInt64(raw[index]) << shift
            shift += 8
            index += 1
        }
        return (hash ^ last) &* 0x9E37_79B9_7F4A_7C15
    }

    /// Domains: a byte at a time from the end (FNV-1a, reversed), so the hash of every parent
    /// (`example.com` of `a.b.example.com`) is a step on the way to the whole name's.
    @inline(__always)
    static func domainStep(_ hash: UInt64, _ byte: UInt8) -> UInt64 {
        (hash ^ UInt64(byte)) &* 0x100_0000_01B3
    }

    static func domain(_ value: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
        value.reversed().reduce(seed) { domainStep($0, $1) }
    }
}
