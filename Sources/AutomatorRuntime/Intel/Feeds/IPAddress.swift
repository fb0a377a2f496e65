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
    /// The groups are gathered as 16-bit numbers and placed once at the end: shifting a
    /// `UInt128` by a variable amount at every group cost several times the rest of a lookup.
    static func v6(_ text: UnsafeBufferPointer<UInt8>) -> UInt128? {
        let end = text.count
        var groups = SIMD8<UInt16>()
        var count = 0
        /// Where `::` stands among the groups, -1 if it does not.
        var gap = -1
        var index = 0
        if end >= 2, text[0] == UInt8(ascii: ":"), text[1] == UInt8(ascii: ":") {
            gap = 0
            index = 2
            if index == end { return 0 }
        }
        while true {
            let start = index
            var group: UInt32 = 0
            while index < end, case let digit = Hex.digit(text[index]), digit < 16 {
                group = group << 4 | UInt32(digit)
                index += 1
            }
            if index < end, text[index] == UInt8(ascii: ".") {
                // The IPv4 tail: it ends the address and counts as two groups.
                guard count <= 6, let v4 = v4(UnsafeBufferPointer(rebasing: text[start...])) else { return nil }
                groups[count] = UInt16(truncatingIfNeeded: v4 >> 16)
                groups[count + 1] = UInt16(truncatingIfNeeded: v4)
                count += 2
                break
            }
            guard index > start, index - start <= 4, count < 8 else { return nil }
            groups[count] = UInt16(truncatingIfNeeded: group)
            count += 1
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
        if gap >= 0 {
            // The groups after `::` move to the end; zeros fill between.
            guard count < 8 else { return nil }
            var placed = SIMD8<UInt16>()
            for position in 0..<count { placed[position < gap ? position : position + 8 - count] = groups[position] }
            groups = placed
        } else if count != 8 {
            return nil
        }
        let high = UInt64(groups[0]) << 48 | UInt64(groups[1]) << 32 | UInt64(groups[2]) << 16 | UInt64(groups[3])
        let low = UInt64(groups[4]) << 48 | UInt64(groups[5]) << 32 | UInt64(groups[6]) << 16 | UInt64(groups[7])
        return UInt128(high) << 64 | UInt128(low)
    }

    /// The IPv4 address an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, RFC 4291 2.5.5.2) is:
    /// how dual-stack sockets and their logs write IPv4 peers.
    static func mappedV4(_ address: UInt128) -> UInt32? {
        address >> 32 == 0xFFFF ? UInt32(truncatingIfNeeded: address) : nil
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
