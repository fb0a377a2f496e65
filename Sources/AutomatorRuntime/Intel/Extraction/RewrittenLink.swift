import Foundation

/// Links that mail gateways rewrite before a person sees them: Microsoft Defender's Safe Links
/// (`https://nam02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fevil.com%2Fpay&data=…`)
/// and Proofpoint's URL Defense (`https://urldefense.proofpoint.com/v2/url?u=https-3A__evil.com_pay&d=…`,
/// `https://urldefense.com/v3/__https://evil.com/pay__;!!…`). In a reported phishing mail every
/// link is one of them: the link inside is the indicator, the wrapper only the gateway's host.
enum RewrittenLink {
    /// The link `url` wraps, decoded; nil when it is not a rewritten link.
    static func inner(of url: String) -> String? {
        // Most links are none of these: a look for the names before anything is parsed.
        guard url.contains(".safelinks.") || url.contains("urldefense"), let host = host(of: url),
              host.hasSuffix(".safelinks.protection.outlook.com")
            || host == "urldefense.proofpoint.com" || host == "urldefense.com",
            let components = URLComponents(string: url)
        else { return nil }
        if host == "urldefense.com" {
            // v3: the link as written between `__` and `__;`. A link with characters the gateway
            // replaced by `*` (their values are in the part after `;`) is left to the wrapper.
            guard components.path.hasPrefix("/v3/__"), let start = url.range(of: "/v3/__"),
                  let end = url.range(of: "__;", range: start.upperBound..<url.endIndex)
            else { return nil }
            let inner = url[start.upperBound..<end.lowerBound]
            return inner.contains("*") ? nil : String(inner)
        }
        if host == "urldefense.proofpoint.com" {
            // v2: `-XX` for `%XX`, `_` for `/` (a `-` of the link itself is `-2D`).
            guard components.path == "/v2/url", let encoded = components.queryItems?.first(where: { $0.name == "u" })?.value
            else { return nil }
            return encoded.replacingOccurrences(of: "_", with: "/").replacingOccurrences(of: "-", with: "%")
                .removingPercentEncoding
        }
        return components.queryItems?.first { $0.name.lowercased() == "url" }?.value  // decoded by URLComponents
    }

    /// The host of a URL as the scanner writes it (`scheme://host…`, the host in lower case).
    private static func host(of url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        return String(url[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" && $0 != ":" })
    }
}

extension IndicatorScanner {
    /// Adds, after each rewritten link, what the link inside it holds, at the wrapper's place;
    /// what the scan read inside the wrapper (pieces of the encoded link, such as a host cut at
    /// `%2F`, or a v3 link with the gateway's suffix) gives way to it.
    static func unwrappingRewrittenLinks(_ found: [ExtractedIndicator]) -> [ExtractedIndicator] {
        guard found.contains(where: { $0.type == .url && RewrittenLink.inner(of: $0.value) != nil }) else { return found }
        var result: [ExtractedIndicator] = []
        var wrapper: (range: Range<Int>, host: String)?
        var seen = Set<String>()
        func add(_ indicator: ExtractedIndicator) {
            if seen.insert("\(indicator.type.rawValue) \(indicator.value)").inserted { result.append(indicator) }
        }
        for indicator in found {
            if let (range, host) = wrapper, range.contains(indicator.start), indicator.value != host { continue }
            if indicator.type == .url, let inner = RewrittenLink.inner(of: indicator.value) {
                add(indicator)
                // The gateway's own host, the first name in its link, stays where it is.
                let host = found.first { $0.type == .domain && $0.start > indicator.start && $0.start < indicator.end }
                wrapper = (indicator.start..<indicator.end, host?.value ?? "")
                if let host { add(host) }
                for carried in Extractor.extract(Array(inner.utf8)) {
                    add(ExtractedIndicator(type: carried.type, value: carried.value, start: indicator.start, end: indicator.end))
                }
                continue
            }
            add(indicator)
        }
        return result
    }
}
