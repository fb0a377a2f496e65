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

    /// Domains: label by label from the end, so the hash of every parent (`example.com` of
    /// `a.b.example.com`) is a step on the way to the whole name's; each label's bytes eight at
    /// a time (a byte at a time took some 300 instructions a name). A label runs from the byte
    /// after a dot (or the first) up to the next label, its dot included: the positions
    /// `DomainIndex` probes.
    static func domain(_ value: UnsafeBufferPointer<UInt8>, seed: UInt64) -> UInt64 {
        var hash = seed
        var end = value.count
        while end > 0 {
            let start = lastDot(in: value, before: end - 1) + 1
            hash = domainLabel(hash, value, from: start, to: end).hash
            end = start
        }
        return hash
    }

    /// `hash` followed by the label at `start..<end` (not empty), and its bytes OR-ed together
    /// (a non-ASCII byte shows in the top bit of one of them).
    @inline(__always)
    static func domainLabel(_ hash: UInt64, _ name: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int)
        -> (hash: UInt64, bytes: UInt64)
    {
        // Every load below reads `start..<end`, or eight bytes inside `0..<name.count`.
        let raw = UnsafeRawPointer(name.baseAddress!)
        var hash = (hash ^ UInt64(end - start)) &* 0x9E37_79B9_7F4A_7C15
        var bytes: UInt64 = 0
        var index = start
        while index + 8 <= end {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            bytes |= word
            hash = (hash ^ word) &* 0x9E37_79B9_7F4A_7C15
            hash ^= hash >> 29
            index += 8
        }
        let rest = end - index
        if rest > 0 {
            var word: UInt64 = 0
            if end >= 8 {
                // The eight bytes ending at `end`, the `rest` of this label on top: shifted down.
                word = raw.loadUnaligned(fromByteOffset: end - 8, as: UInt64.self) &>> UInt64(64 - 8 * rest)
            } else if name.count >= 8 {
                // The first eight bytes, holding `index..<end`: shifted down, the rest masked off.
                word = raw.loadUnaligned(as: UInt64.self) &>> UInt64(8 * index) & (1 &<< UInt64(8 * rest) &- 1)
            } else {
                for offset in 0..<rest { word |= UInt64(name[index + offset]) << UInt64(8 * offset) }
            }
            bytes |= word
            hash = (hash ^ word) &* 0x9E37_79B9_7F4A_7C15
            hash ^= hash >> 29
        }
        return (hash, bytes)
    }

    /// The position of the last `.` in `name[..<end]`, -1 if there is none: eight bytes at a
    /// time from the end.
    @inline(__always)
    static func lastDot(in name: UnsafeBufferPointer<UInt8>, before end: Int) -> Int {
        let dots: UInt64 = 0x2E2E_2E2E_2E2E_2E2E
        let low: UInt64 = 0x7F7F_7F7F_7F7F_7F7F
        /// The top bit of each byte of `word` that is a dot, exactly (no borrow between bytes).
        func dotBits(_ word: UInt64) -> UInt64 {
            let x = word ^ dots
            return ~((x & low) &+ low | x | low)
        }
        var end = end
        // Loads of eight bytes ending at `end`, or at 8 when fewer are left: inside the name.
        while end >= 8 {
            let found = dotBits(UnsafeRawPointer(name.baseAddress! + end - 8).loadUnaligned(as: UInt64.self))
            if found != 0 { return end - 8 + (63 - found.leadingZeroBitCount) / 8 }
            end -= 8
        }
        guard end > 0 else { return -1 }
        if name.count >= 8 {
            let found = dotBits(UnsafeRawPointer(name.baseAddress!).loadUnaligned(as: UInt64.self))
                & (1 &<< UInt64(8 * end) &- 1)
            return found == 0 ? -1 : (63 - found.leadingZeroBitCount) / 8
        }
        while end > 0 {
            end -= 1
            if name[end] == UInt8(ascii: ".") { return end }
        }
        return -1
    }
}
