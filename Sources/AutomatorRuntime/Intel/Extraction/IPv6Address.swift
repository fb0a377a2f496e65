/// An IPv6 address as eight 16-bit groups, written in the RFC 5952 form: lower case, no
/// leading zeros, the longest run of two or more zero groups (the first of equals) as `::`,
/// and IPv4-mapped addresses as `::ffff:192.0.2.1`.
struct IPv6Address {
    var groups: SIMD8<UInt16>

    var text: String {
        if (0..<5).allSatisfy({ groups[$0] == 0 }), groups[5] == 0xFFFF {
            let (high, low) = (groups[6], groups[7])
            return "::ffff:\(high >> 8).\(high & 0xFF).\(low >> 8).\(low & 0xFF)"
        }
        var (bestStart, bestLength, runStart) = (-1, 1, -1)
        for index in 0..<8 {
            if groups[index] == 0 {
                if runStart < 0 { runStart = index }
                if index - runStart + 1 > bestLength { (bestStart, bestLength) = (runStart, index - runStart + 1) }
            } else {
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            range.map { String(groups[$0], radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }
}
