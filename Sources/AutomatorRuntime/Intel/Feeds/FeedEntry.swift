/// One indicator a feed lists, as loaded: what `Feed.load()` returns.
public struct FeedEntry: Sendable, Hashable, CustomStringConvertible {
    let key: IndicatorKey
    /// Why it is listed: the rest of a text line, a CSV comment column, a STIX indicator's name,
    /// a MISP attribute's comment or its event's info.
    public let comment: String?

    init(_ key: IndicatorKey, comment: String?) {
        self.key = key
        self.comment = comment
    }

    public var type: IndicatorType { key.type }

    /// Normalised: addresses in their canonical form, hashes in lower case, domains in lower
    /// case, a network as `198.51.100.0/24`.
    public var value: String { key.text }

    /// `ipv4 198.51.100.0/24 # comment`.
    public var description: String {
        "\(type.rawValue) \(value)" + (comment.map { " # " + $0 } ?? "")
    }
}
