/// The kinds of indicator of compromise that ``Extractor`` finds in text.
public enum IndicatorType: String, CaseIterable, Sendable, Codable {
    case ipv4, ipv6, domain, url, email, md5, sha1, sha256, sha512, cve
}
