/// Text with each URL, domain, IPv4 and e-mail address in it written so that no chat client makes
/// it a link, and so that the extractor reads it back as the same indicator (it reads `hxxp://`
/// and `[.]`): "Phish from http://evil.example/login" is "Phish from hxxp://evil[.]example/login".
/// What the bot posts (`intel.defang` in Lua, the task notices).
public enum Defanging {
    /// The kinds chat clients turn into links; hashes, CVEs and IPv6 addresses stay as written.
    private static let linked: Set<IndicatorType> = [.url, .domain, .ipv4, .email]

    public static func text(_ text: String) -> String {
        var parts: [Substring] = []
        var rest = Substring(text)
        // `extract` gives each indicator once: the first is where the next one starts, and the text
        // after it is read again for the others, a repeated one included.
        while let found = Extractor.extract(rest.utf8).first {
            let utf8 = rest.utf8
            let start = utf8.index(utf8.startIndex, offsetBy: found.start)
            let end = utf8.index(utf8.startIndex, offsetBy: found.end)
            parts.append(rest[..<start])
            parts.append(linked.contains(found.type) ? Substring(indicator(found.value)) : rest[start..<end])
            rest = rest[end...]
        }
        parts.append(rest)
        return parts.joined()
    }

    /// One indicator: hxxp://evil-login[.]com/reset, evil-login[.]com, 203.0.113[.]45,
    /// alice@evil-login[.]com (the scheme, and the last dot of the host).
    static func indicator(_ value: String) -> String {
        var scheme = ""
        var rest = Substring(value)
        if let separator = value.firstRange(of: "://"), let first = value.first, first.isLetter,
           value[..<separator.lowerBound].allSatisfy({ $0.isLetter || $0.isNumber || "+.-".contains($0) })
        {
            scheme = String(value[..<separator.upperBound])
            rest = value[separator.upperBound...]
            if scheme.hasPrefix("http") { scheme = "hxxp" + scheme.dropFirst(4) }
            else if scheme.hasPrefix("ftp") { scheme = "fxp" + scheme.dropFirst(3) }
        }
        let hostEnd = rest.firstIndex { "/?#".contains($0) } ?? rest.endIndex
        var host = rest[..<hostEnd]
        if let dot = host.lastIndex(of: ".") { host = host[..<dot] + "[.]" + host[host.index(after: dot)...] }
        return scheme + host + rest[hostEnd...]
    }
}
