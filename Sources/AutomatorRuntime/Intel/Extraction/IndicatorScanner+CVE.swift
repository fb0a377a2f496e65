extension IndicatorScanner {
    /// A CVE identifier at `i`: `CVE-YYYY-NNNN` in any case, four digits or more after the
    /// year (19xx or 20xx), reported in upper case (`CVE-2021-44228`).
    mutating func cve(at i: Int) -> Int? {
        guard matches("cve-", at: i, ignoringCase: true), matches("19", at: i + 4) || matches("20", at: i + 4),
            (i + 6..<i + 8).allSatisfy({ self[$0].isASCIIDigit }), self[i + 8] == UInt8(ascii: "-")
        else { return nil }
        var end = i + 9
        while self[end].isASCIIDigit, end - i < 17 { end += 1 }
        guard end - (i + 9) >= 4, !self[end].isASCIIAlphanumeric, wordScalarLength(at: end) == 0 else { return nil }
        emit(.cve, start: i, end: end, value: String(decoding: text[i..<end], as: UTF8.self).uppercased())
        return end
    }
}
