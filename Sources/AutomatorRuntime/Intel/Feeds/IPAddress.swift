/// IPv4 and IPv6 addresses read from and written as text, as integers (most significant byte
/// first), so CIDR containment is a comparison.
enum IPAddress {
    /// A dotted quad, strictly: four decimal parts 0–255 without leading zeros (`010.0.0.1`
    /// is octal to some tools and decimal to others, so it is refused).
    static func v4(_ text: UnsafeBufferPointer<UInt8>) -> UInt32? {
        var address: UInt32 = 0
        var part: UInt32 = 0
        var digits = 0
        var dots = 0
        for byte in text {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, dots < 3, part < 256 else { return nil }
                address = address << 8 | part
                part = 0
                digits = 0
                dots += 1
                continue
            }
            let digit = UInt32(byte &- UInt8(ascii: "0"))
            guard digit < 10, digits < 3, !(digits == 1 && part == 0) else { return nil }
            part = part * 10 + digit
            digits += 1
        }
        guard dots == 3, digits > 0, part < 256 else { return nil }
        return address << 8 | part
    }

    /// Any RFC 4291 text form: full, `::`-compressed, upper or lower case, with an IPv4 tail
    /// (`::ffff:192.0.2.1`). No zone (`%eth0`).
    ///
    /// A group at a time, its digits read eight bytes at once (`Hex.group`), gathered by fixed
    /// shifts into one number; the groups after `::` moved once at the end. A byte at
    /// a time, with the groups in a `SIMD8` written at a variable index, took some 800
    /// instructions an address.
    static func v6(_ text: UnsafeBufferPointer<UInt8>) -> UInt128? {
        let end = text.count
        guard end >= 2 else { return nil }
        // The groups as read, the first highest; those after `::` are the lowest `count - gap`.
        var groups: UInt128 = 0
        var count = 0
        /// How many groups precede `::`, -1 if there is none.
        var gap = -1
        var index = 0
        if text[0] == UInt8(ascii: ":"), text[1] == UInt8(ascii: ":") {
            gap = 0
            index = 2
            if index == end { return 0 }
        }
        while true {
            let (group, digits) = Hex.group(text, from: index)
            if index + digits < end, text[index + digits] == UInt8(ascii: ".") {
                // The IPv4 tail: it ends the address and counts as two groups.
                guard count <= 6, let v4 = v4(UnsafeBufferPointer(rebasing: text[index...])) else { return nil }
                groups = groups &<< 32 | UInt128(v4)
                count += 2
                break
            }
            guard digits > 0, digits <= 4, count < 8 else { return nil }
            groups = groups &<< 16 | UInt128(group)
            count += 1
            index += digits
            if index == end { break }
            guard text[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            if index < end, text[index] == UInt8(ascii: ":") {
                guard gap < 0 else { return nil }
                gap = count
                index += 1
                if index == end { break }
            } else if index == end {
                return nil
            }
        }
        if gap < 0 { return count == 8 ? groups : nil }
        // The groups after `::` end the address, those before it start it; zeros fill between.
        guard count < 8 else { return nil }
        let after = UInt128(16 * (count - gap))
        let tail = groups & (1 &<< after &- 1)
        return gap == 0 ? tail : (groups &>> after) &<< UInt128(16 * (8 - gap)) | tail
    }

    /// The /96 prefixes under which an IPv6 address is an IPv4 address in its last 32 bits:
    /// IPv4-mapped `::ffff:0:0/96` (RFC 4291 2.5.5.2, how dual-stack sockets and their logs write
    /// IPv4 peers), IPv4-compatible `::/96` (deprecated, still read by many stacks) and NAT64's
    /// `64:ff9b::/96` (RFC 6052).
    static let v4Embeddings: [UInt128] = [0xFFFF << 32, 0, 0x64_FF9B << 96]

    /// The IPv4 address or network an IPv6 one is written for, when it lies under one of
    /// `v4Embeddings`: `::ffff:192.0.2.1` is 192.0.2.1, `::ffff:10.0.0.0/104` is 10.0.0.0/8.
    /// `::` and `::1` (unspecified, loopback) are themselves, not 0.0.0.0 and 0.0.0.1.
    static func embeddedV4(_ network: UInt128, prefixLength: Int = 128) -> (network: UInt32, prefixLength: Int)? {
        guard prefixLength >= 96, v4Embeddings.contains((network >> 32) << 32) else { return nil }
        let v4 = UInt32(truncatingIfNeeded: network)
        if network >> 32 == 0, prefixLength >= 127, v4 < 2 { return nil }
        return (v4, prefixLength - 96)
    }

    static func text(v4 address: UInt32) -> String {
        "\(address >> 24).\(address >> 16 & 0xFF).\(address >> 8 & 0xFF).\(address & 0xFF)"
    }

    /// RFC 5952: lower case, no leading zeros, the longest run of two or more zero groups
    /// (the first of equals) as `::`.
    static func text(v6 address: UInt128) -> String {
        let groups = (0..<8).map { UInt16(truncatingIfNeeded: address >> (112 - 16 * $0)) }
        var best = (start: 0, length: 0)
        var run = (start: 0, length: 0)
        for (index, group) in groups.enumerated() {
            if group == 0 {
                run = run.length == 0 ? (index, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else {
                run = (0, 0)
            }
        }
        func hex(_ range: Range<Int>) -> String {
            groups[range].map { String($0, radix: 16) }.joined(separator: ":")
        }
        guard best.length >= 2 else { return hex(0..<8) }
        return hex(0..<best.start) + "::" + hex(best.start + best.length..<8)
    }
}
