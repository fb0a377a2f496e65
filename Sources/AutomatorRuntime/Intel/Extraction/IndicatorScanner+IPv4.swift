extension IndicatorScanner {
    /// An IPv4 address at `i` in running text: four decimal octets, 0 to 255, without leading
    /// zeros (`01.2.3.4` and `256.1.1.1` are not addresses), dots possibly defanged.
    ///
    /// Not an address: a longer dotted run (`1.2.3.4.5`, an OID), one glued to a word
    /// (`v1.2.3.4`, `1.2.3.4-beta`), and a version: after `version`, `ver`, `v`, `build`,
    /// `release`, `rev`, `firmware`, `fw` or a word ending in `version` (`agent_version":
    /// "5.1.2.3"`), a product token outside URLs (`Chrome/120.0.0.0` in every user agent), and
    /// anything in an `X-Mailer` or `User-Agent` header (`Foxmail 7.2.25.228`). Three-part
    /// versions (`1.2.3`) never read as addresses; a plain `10.1.2.3` always does.
    mutating func ipv4(at i: Int) -> Int? {
        guard self[i].isASCIIDigit, self[i - 1] != UInt8(ascii: "."), let (address, end) = ipv4Address(at: i),
            !followsVersionWord(i), !isInHeader(["x-mailer", "user-agent"], at: i)
        else { return nil }
        emit(.ipv4, start: i, end: end, value: address)
        return end
    }

    /// The address at `i` and where it ends, when nothing but punctuation follows it.
    func ipv4Address(at i: Int) -> (String, end: Int)? {
        var p = i
        var value = ""
        for octet in 0..<4 {
            let digits = p
            var number = 0
            while self[p].isASCIIDigit, p - digits < 4 {
                number = number * 10 + Int(self[p] - UInt8(ascii: "0"))
                p += 1
            }
            let count = p - digits
            guard (1...3).contains(count), number <= 255, count == 1 || self[digits] != UInt8(ascii: "0") else {
                return nil
            }
            value += String(number)
            if octet < 3 {
                let dot = dotLength(at: p)
                guard dot > 0 else { return nil }
                p += dot
                value += "."
            }
        }
        let next = self[p]
        if next.isASCIIAlphanumeric || next == UInt8(ascii: "_") || wordScalarLength(at: p) > 0 { return nil }
        if case let dot = dotLength(at: p), dot > 0, self[p + dot].isASCIIAlphanumeric { return nil }
        if next == UInt8(ascii: "-"), self[p + 1].isASCIILetter { return nil }
        return (value, p)
    }

    /// Whether the dotted number at `i` follows a version word or a product token.
    private func followsVersionWord(_ i: Int) -> Bool {
        var p = i - 1
        if self[p] == UInt8(ascii: "/") { return !insideURL && self[p - 1].isASCIIAlphanumeric }
        while p > i - 7, [UInt8(ascii: " "), UInt8(ascii: ":"), UInt8(ascii: "="), UInt8(ascii: "\""),
            UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: "."), UInt8(ascii: "\t")].contains(self[p]) {
            p -= 1
        }
        let end = p + 1
        while p >= 0, end - p <= 24, self[p].isASCIILetter || self[p] == UInt8(ascii: "_") { p -= 1 }
        let word = String(decoding: UnsafeBufferPointer(rebasing: text[(p + 1)..<end]), as: UTF8.self).lowercased()
        return word.hasSuffix("version")
            || ["v", "ver", "build", "release", "rev", "revision", "firmware", "fw"].contains(word)
    }
}
