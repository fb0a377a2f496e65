/// One pass over a text's bytes, finding indicators where words start.
///
/// A word starts at an ASCII letter or digit, or a non-ASCII letter, that follows anything
/// else. At each word start the parts are tried in turn (URL, `mailto:`, CVE, e-mail, IPv6,
/// IPv4, then a host name or a hash), and the scan goes on after what was taken, or after the
/// word (a whole dotted name once it failed). Every part looks ahead a bounded distance or
/// past bytes that it then consumes, and a local part that led to no address is not read
/// again (``noEmailBefore``), so the pass is linear.
struct IndicatorScanner {
    private struct Key: Hashable {
        var type: IndicatorType
        var value: String
    }

    let text: UnsafeBufferPointer<UInt8>
    /// Where the scan stops: the text's end, or a URL's end while its path is scanned.
    var limit: Int
    /// Whether the scan is inside a URL's path, query and fragment (see ``url(at:)``).
    var insideURL = false
    /// URLs found inside the current URL: capped, since each copies the rest of the outer one.
    var nestedURLs = 0
    /// No e-mail address starts before this offset: the local part that reached it led to none.
    var noEmailBefore = 0
    /// Scratch for a host name being read, reused so that a failed candidate allocates nothing.
    var hostBytes: [UInt8] = []
    private(set) var found: [ExtractedIndicator] = []
    private var seen: Set<Key> = []

    static func indicators(in text: UnsafeBufferPointer<UInt8>) -> [ExtractedIndicator] {
        var scanner = IndicatorScanner(text: text, limit: text.count)
        scanner.scan(from: 0)
        return unwrappingRewrittenLinks(scanner.found)
    }

    /// The byte at `i`, or 0 (which nothing matches) outside the text or past ``limit``.
    subscript(i: Int) -> UInt8 { i >= 0 && i < limit ? text[i] : 0 }

    mutating func scan(from start: Int) {
        var i = start
        while i < limit {
            let byte = text[i]
            if byte.isASCIIAlphanumeric {
                i = word(at: i)
            } else if byte >= 0x80 {
                i = wordScalarLength(at: i) > 0 ? word(at: i) : i + 1
            } else if byte == UInt8(ascii: ":"), self[i + 1] == UInt8(ascii: ":"), let end = ipv6(at: i) {
                i = end
            } else {
                i += 1
            }
        }
    }

    /// Tries the kinds of indicator that the word at `i` may start; returns where to go on.
    ///
    /// What follows the word's letters and digits says which kinds are possible: most words
    /// in prose are followed by a space and can only be a hash, which their length rules out.
    private mutating func word(at i: Int) -> Int {
        // In URL-encoded text `%2F` or `%20` separates words: `%2Fevil.com` names evil.com.
        if self[i - 1] == UInt8(ascii: "%"), self[i].isHexDigit, self[i + 1].isHexDigit, isWordStart(i + 2) {
            return i + 2
        }
        let wordEnd = alphanumericEnd(from: i)
        let hash = hashType(from: i, to: wordEnd)
        switch self[wordEnd] {
        case UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "-"), UInt8(ascii: "["),
            UInt8(ascii: "("), UInt8(ascii: "{"), UInt8(ascii: "_"), UInt8(ascii: "%"), UInt8(ascii: "+"):
            break
        case UInt8(ascii: " ") where self[wordEnd + 1].isOpeningBracket  // `evil [.] com`; the common space, at once
            && (dotLength(at: wordEnd) > 0 || atLength(at: wordEnd) > 0):
            break
        default:
            if let hash { emit(hash, start: i, end: wordEnd, value: lowercased(i..<wordEnd)) }
            return wordEnd
        }
        if let end = url(at: i) ?? mailto(at: i) ?? cve(at: i) { return end }
        if i >= noEmailBefore, let end = email(at: i) { return end }
        if let end = ipv6(at: i) ?? ipv4(at: i) { return end }
        if let hash, dotLength(at: wordEnd) == 0 {
            emit(hash, start: i, end: wordEnd, value: lowercased(i..<wordEnd))
            return wordEnd
        }
        let (host, runEnd) = hostName(at: i)
        if let host, host.isPublic, !host.isFileName, !isFieldName(start: host.start, end: host.end, value: host.value) {
            emit(.domain, start: host.start, end: host.end, value: host.value)
            return host.end
        }
        if let hash { emit(hash, start: i, end: wordEnd, value: lowercased(i..<wordEnd)) }
        return max(runEnd, wordEnd)
    }

    private func lowercased(_ range: Range<Int>) -> String {
        String(decoding: text[range], as: UTF8.self).lowercased()
    }

    /// Whether a word starts at `i` (its first character; what precedes is the caller's business).
    func isWordStart(_ i: Int) -> Bool { self[i].isASCIIAlphanumeric || wordScalarLength(at: i) > 0 }

    /// The end of the run of ASCII letters, digits and non-ASCII letters from `i`.
    func alphanumericEnd(from i: Int) -> Int {
        var p = i
        while true {
            let byte = self[p]
            if byte.isASCIIAlphanumeric {
                p += 1
            } else if byte >= 0xC2, case let length = wordScalarLength(at: p), length > 0 {
                p += length
            } else {
                return p
            }
        }
    }

    /// The length of the UTF-8 sequence at `i` if it is a non-ASCII letter (see
    /// `Unicode.Scalar.isWordLike`), else 0: ASCII, invalid or overlong sequences included.
    func wordScalarLength(at i: Int) -> Int {
        let lead = self[i]
        guard lead >= 0xC2 else { return 0 }
        let length = lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : lead < 0xF5 ? 4 : 0
        var value = UInt32(lead) & (0x7F >> length)
        for k in 1..<max(length, 1) {
            let byte = self[i + k]
            guard byte & 0xC0 == 0x80 else { return 0 }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        let shortest: UInt32 = length == 2 ? 0x80 : length == 3 ? 0x800 : 0x10000
        guard length > 0, value >= shortest, let scalar = Unicode.Scalar(value), scalar.isWordLike else { return 0 }
        return length
    }

    /// Records an indicator unless the same type and value came before (the first one stays).
    mutating func emit(_ type: IndicatorType, start: Int, end: Int, value: String) {
        guard seen.insert(Key(type: type, value: value)).inserted else { return }
        found.append(ExtractedIndicator(type: type, value: value, start: start, end: end))
    }
}
