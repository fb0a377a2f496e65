extension IndicatorScanner {
    /// The host of a URL: its place, its text in the URL's value, and the indicator it is.
    private struct URLHost {
        var start: Int
        var end: Int
        /// Past the host: after `]` for an IPv6 literal.
        var after: Int
        var text: String
        /// An IP address, or a domain under a public suffix; nil for internal names
        /// (`http://intranet.corp.local/`), which make a URL but no domain.
        var indicator: IndicatorType?
    }

    /// A URL at `i`, with its host (as a domain, IPv4 or IPv6) and what its path holds.
    ///
    /// A scheme (`http`, `https`, `ftp`, `sftp`, `ftps`, defanged `hxxp`, `hxxps`, `fxp`, any
    /// case), `://` (maybe defanged), a user, a host (a name with two labels or more and a
    /// top-level label of letters, an IPv4 address, or `[IPv6]`), a port, then the path, query
    /// and fragment up to a space, a quote, `<>{}|\^` or a backquote, HTML's `&lt;`, `&gt;`,
    /// `&quot;`, or non-ASCII punctuation. Trailing `.,;:!?'*` and unbalanced `)` and `]` are
    /// the sentence's, not the URL's (`(see https://en.wikipedia.org/wiki/Sudo_(command))`).
    ///
    /// The value has the scheme and host normalised and the rest refanged, with `\/` (JSON)
    /// and `&amp;` (HTML, Slack) unescaped. The path is then scanned for indicators of its own
    /// (`/gui/file/<sha256>`, `/vuln/detail/CVE-2021-44228`, `?u=http://next.example.com/`);
    /// a URL found there runs to the outer one's end, and only four are taken, so that the
    /// work stays linear. In Slack's `<http://x.com/a|label>` the label is read on as any text:
    /// it may name another indicator, and one it repeats (`<http://x.com|x.com>`) is given once.
    mutating func url(at i: Int) -> Int? {
        guard let (scheme, schemeEnd) = urlScheme(at: i), !insideURL || nestedURLs < 4 else { return nil }
        let separator = schemeSeparatorLength(at: schemeEnd)
        guard separator > 0 else { return nil }
        let authority = schemeEnd + separator
        let hostStart = userInfoEnd(from: authority).map { $0 + 1 } ?? authority
        guard let host = urlHost(at: hostStart) else { return nil }
        var pathStart = host.after
        if self[pathStart] == UInt8(ascii: ":"), self[pathStart + 1].isASCIIDigit {
            pathStart += 1
            while self[pathStart].isASCIIDigit { pathStart += 1 }
        }
        let end = insideURL ? limit : pathEnd(from: pathStart)
        let value = scheme + "://" + refanged(authority..<hostStart) + host.text + refanged(host.after..<end)
        emit(.url, start: i, end: end, value: value)
        if let type = host.indicator {
            emit(type, start: host.start, end: host.end, value: type == .ipv6 ? String(host.text.dropFirst().dropLast()) : host.text)
        }
        if insideURL {
            nestedURLs += 1
            return pathStart
        }
        if pathStart < end { scanInside(pathStart..<end) }
        return end
    }

    /// The scheme at `i`, normalised (`hXXps` → `https`), and where it ends.
    private func urlScheme(at i: Int) -> (String, end: Int)? {
        switch self[i] | 0x20 {
        case UInt8(ascii: "h"), UInt8(ascii: "f"), UInt8(ascii: "s"): break
        default: return nil
        }
        var end = i
        while self[end].isASCIILetter, end - i < 6 { end += 1 }
        switch String(decoding: text[i..<end], as: UTF8.self).lowercased() {
        case "http", "hxxp": return ("http", end)
        case "https", "hxxps": return ("https", end)
        case "ftp", "fxp": return ("ftp", end)
        case "sftp": return ("sftp", end)
        case "ftps": return ("ftps", end)
        default: return nil
        }
    }

    /// The `@` that ends a user part (`user:pass@`) starting at `i`, if there is one.
    private func userInfoEnd(from i: Int) -> Int? {
        var p = i
        while p - i < 128 {
            let byte = self[p]
            if byte == UInt8(ascii: "@") { return p > i ? p : nil }
            guard byte.isASCIIAlphanumeric || "-._~!$&'()*+,;=:%".utf8.contains(byte) else { return nil }
            p += 1
        }
        return nil
    }

    private mutating func urlHost(at i: Int) -> URLHost? {
        if self[i] == UInt8(ascii: "[") {
            guard let (address, end) = ipv6Address(at: i + 1), self[end] == UInt8(ascii: "]") else { return nil }
            return URLHost(start: i + 1, end: end, after: end + 1, text: "[" + address.text + "]", indicator: .ipv6)
        }
        if let (address, end) = ipv4Address(at: i) {
            return URLHost(start: i, end: end, after: end, text: address, indicator: .ipv4)
        }
        let (host, _) = hostName(at: i)
        guard let host, host.start == i else { return nil }
        return URLHost(start: i, end: host.end, after: host.end, text: host.value, indicator: host.isPublic ? .domain : nil)
    }

    /// Where the path, query and fragment from `i` end, trailing punctuation left out.
    private func pathEnd(from i: Int) -> Int {
        var p = i
        var parentheses = 0, brackets = 0
        scanning: while true {
            let byte = self[p]
            switch byte {
            case UInt8(ascii: "("): parentheses += 1
            case UInt8(ascii: ")"): parentheses -= 1
            case UInt8(ascii: "["): brackets += 1
            case UInt8(ascii: "]"): brackets -= 1
            case UInt8(ascii: "\\") where self[p + 1] == UInt8(ascii: "/"):
                p += 2
                continue scanning
            case UInt8(ascii: "{"):
                let dot = dotLength(at: p)
                guard dot > 0 else { break scanning }
                p += dot
                continue scanning
            case UInt8(ascii: "&") where matches("&gt;", at: p) || matches("&lt;", at: p) || matches("&quot;", at: p):
                break scanning
            case 0x80...:
                let length = wordScalarLength(at: p)
                guard length > 0 else { break scanning }
                p += length
                continue scanning
            default:
                guard isURLByte(byte) else { break scanning }
            }
            p += 1
        }
        while p > i {
            switch self[p - 1] {
            case UInt8(ascii: "."), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: ":"), UInt8(ascii: "!"),
                UInt8(ascii: "?"), UInt8(ascii: "'"), UInt8(ascii: "*"):
                p -= 1
            case UInt8(ascii: ")") where parentheses < 0:
                parentheses += 1
                p -= 1
            case UInt8(ascii: "]") where brackets < 0:
                brackets += 1
                p -= 1
            default:
                return p
            }
        }
        return p
    }

    /// Printable ASCII but for what cannot be in a URL as written in text: `"<>\^{|}` and `` ` ``.
    private func isURLByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "\\"), UInt8(ascii: "^"),
            UInt8(ascii: "`"), UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"):
            false
        default: byte > 0x20 && byte < 0x7F
        }
    }

    /// The bytes of `range` with defanged dots and at signs, `\/` and `&amp;` undone.
    private func refanged(_ range: Range<Int>) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(range.count)
        var p = range.lowerBound
        while p < range.upperBound {
            if case let dot = dotLength(at: p), dot > 1 {
                bytes.append(UInt8(ascii: "."))
                p += dot
            } else if case let at = atLength(at: p), at > 1 {
                bytes.append(UInt8(ascii: "@"))
                p += at
            } else if matches(#"\/"#, at: p) {
                bytes.append(UInt8(ascii: "/"))
                p += 2
            } else if matches("&amp;", at: p) {
                bytes.append(UInt8(ascii: "&"))
                p += 5
            } else {
                bytes.append(text[p])
                p += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Scans a URL's path, query and fragment for the indicators they hold.
    private mutating func scanInside(_ range: Range<Int>) {
        let outerLimit = limit
        (limit, insideURL, nestedURLs) = (range.upperBound, true, 0)
        scan(from: range.lowerBound)
        (limit, insideURL) = (outerLimit, false)
    }
}
