extension IndicatorScanner {
    /// An IPv6 address at `i` (RFC 4291 text: up to eight groups of 1 to 4 hex digits, one
    /// `::`, an IPv4 tail), reported compressed (``IPv6Address``).
    ///
    /// Not an address: a MAC address (`00:1a:2b:3c:4d:5e`, six groups; eight groups of two
    /// digits is an EUI-64), a timestamp (`12:30:45`), a name with `::` and no digit
    /// (`Data::Dumper`, `dead::beef`), a run glued to more groups or to a word.
    mutating func ipv6(at i: Int) -> Int? {
        guard let (address, end) = ipv6Address(at: i) else { return nil }
        emit(.ipv6, start: i, end: end, value: address.text)
        return end
    }

    func ipv6Address(at i: Int) -> (IPv6Address, end: Int)? {
        let before = self[i - 1]
        guard before != UInt8(ascii: ":"), before != UInt8(ascii: "."), !before.isASCIIAlphanumeric,
            self[i].isHexDigit || (self[i] == UInt8(ascii: ":") && self[i + 1] == UInt8(ascii: ":"))
        else { return nil }
        var groups = SIMD8<UInt16>()
        var count = 0, gap = -1, p = i
        var sawDigit = false, allPairs = true
        if self[p] == UInt8(ascii: ":") {
            gap = 0
            p += 2
        }
        while count < 8 {
            let start = p
            var value: UInt16 = 0
            while self[p].isHexDigit, p - start < 5 {
                sawDigit = sawDigit || self[p].isASCIIDigit
                value = value &<< 4 | UInt16(self[p].hexValue)
                p += 1
            }
            let digits = p - start
            if digits == 0 { break }  // after a final `::`, as in `2001:db8::`
            guard digits <= 4 else { return nil }
            if self[p] == UInt8(ascii: "."), self[p + 1].isASCIIDigit {
                guard count <= 6, let (v4, end) = ipv4Address(at: start) else { return nil }
                let octets = v4.split(separator: ".").map { UInt16($0)! }
                groups[count] = octets[0] << 8 | octets[1]
                groups[count + 1] = octets[2] << 8 | octets[3]
                count += 2
                p = end
                sawDigit = true
                break
            }
            allPairs = allPairs && digits == 2
            groups[count] = value
            count += 1
            guard self[p] == UInt8(ascii: ":") else { break }
            if self[p + 1] == UInt8(ascii: ":") {
                guard gap < 0 else { return nil }
                gap = count
                p += 2
            } else if self[p + 1].isHexDigit, count < 8 {
                p += 1
            } else {
                break
            }
        }
        guard gap >= 0 ? count <= 7 : count == 8, sawDigit, gap >= 0 || !allPairs else { return nil }
        let next = self[p]
        if next.isASCIIAlphanumeric || next == UInt8(ascii: "_") || wordScalarLength(at: p) > 0 { return nil }
        if next == UInt8(ascii: ":"), self[p + 1].isHexDigit || self[p + 1] == UInt8(ascii: ":") { return nil }
        if next == UInt8(ascii: "."), self[p + 1].isASCIIDigit { return nil }
        if gap >= 0 {
            let tail = count - gap
            for k in stride(from: tail - 1, through: 0, by: -1) { groups[8 - tail + k] = groups[gap + k] }
            for k in gap..<(8 - tail) { groups[k] = 0 }
        }
        return (IPv6Address(groups: groups), p)
    }
}
