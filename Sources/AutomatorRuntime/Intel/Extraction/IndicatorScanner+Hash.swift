extension IndicatorScanner {
    /// The hash type of the word `[start, end)`: a whole run of hex digits of exactly 32, 40,
    /// 64 or 128 (MD5, SHA-1, SHA-256, SHA-512), between non-alphanumerics. So a SHA-1 is not
    /// read as an MD5 inside it, and runs of other lengths are nothing.
    func hashType(from start: Int, to end: Int) -> IndicatorType? {
        let type: IndicatorType
        switch end - start {
        case 32: type = .md5
        case 40: type = .sha1
        case 64: type = .sha256
        case 128: type = .sha512
        default: return nil
        }
        for p in start..<end where !text[p].isHexDigit { return nil }
        return type
    }
}
