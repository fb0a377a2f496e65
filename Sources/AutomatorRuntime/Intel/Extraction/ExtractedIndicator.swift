/// An indicator found in a text: its normalised value, and where it was written.
///
/// The value is refanged and normalised (lower-case host names in A-label form, compressed
/// IPv6, lower-case hashes, upper-case CVE identifiers); `start` and `end` are the byte offsets
/// of the indicator as written in the input, defanged form included, `end` exclusive (for what
/// a rewritten link carries, those of the link that carries it: `RewrittenLink`).
public struct ExtractedIndicator: Hashable, Sendable {
    public var type: IndicatorType
    public var value: String
    public var start: Int
    public var end: Int

    public init(type: IndicatorType, value: String, start: Int, end: Int) {
        self.type = type
        self.value = value
        self.start = start
        self.end = end
    }
}
