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
    static func v6(_ text: UnsafeBufferPointer<UInt8>) -> UInt128? {
        let count = text.count
        var head: UInt128 = 0
        var headGroups = 0
        var tail: UInt128 = 0
        var tailGroups = 0
        var compressed = false
        var index = 0
        if count >= 2, text[0] == UInt8(ascii: ":"), text[1] == UInt8(ascii: ":") {
            compressed = true
            index = 2
            if index == count { return 0 }
        }
        while true {
            let start = index
            var group: UInt32 = 0
            while index < count, index - start < 5 {
                let digit = Hex.digit(text[index])
                guard digit < 16 else { break }
                group = group << 4 | UInt32(digit)
                index += 1
            }
            var groups: UInt128
            var width: Int
            if index < count, text[index] == UInt8(ascii: ".") {
                // The IPv4 tail: it ends the address and counts as two groups.
                guard let v4 = v4(UnsafeBufferPointer(rebasing: text[start...])) else { return nil }
                (groups, width, index) = (UInt128(v4), 2, count)
            } else {
                guard index > start, index - start <= 4 else { return nil }
                (groups, width) = (UInt128(group), 1)
            }
            if compressed {
                tail = tail << (16 * width) | groups
                tailGroups += width
            } else {
                head = head << (16 * width) | groups
                headGroups += width
            }
            guard headGroups + tailGroups <= 8 else { return nil }
            if index == count { break }
            guard text[index] == UInt8(ascii: ":") else { return nil }
            index += 1
            if index < count, text[index] == UInt8(ascii: ":") {
                guard !compressed else { return nil }
                compressed = true
                index += 1
                if index == count { break }
            } else if index == count {
                return nil
            }
        }
        if compressed {
            guard headGroups + tailGroups < 8 else { return nil }
            return headGroups == 0 ? tail : head << (16 * (8 - headGroups)) | tail
        }
        return headGroups == 8 ? head : nil
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
