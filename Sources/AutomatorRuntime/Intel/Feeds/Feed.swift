/// A local threat-intel feed: a file (or, for MISP, a folder) of indicators, all with one verdict.
///
/// ```swift
/// let feeds = FeedSet(feeds: [
///     Feed(name: "spamhaus-drop", verdict: .malicious, path: "/etc/automator/feeds/drop.txt", format: .text),
///     Feed(name: "partners", verdict: .benign, path: "/etc/automator/feeds/partners.csv",
///          format: .csv(CSVColumns(value: "indicator", comment: "owner"))),
/// ])
/// ```
public struct Feed: Sendable, Hashable {
    /// Names the feed in matches and problems.
    public var name: String
    public var verdict: FeedVerdict
    /// The file; for `.misp`, the folder that holds `manifest.json`.
    public var path: String
    public var format: FeedFormat

    public init(name: String, verdict: FeedVerdict, path: String, format: FeedFormat) {
        self.name = name
        self.verdict = verdict
        self.path = path
        self.format = format
    }
}

/// What a listing in a feed says about an indicator.
public enum FeedVerdict: String, Sendable, Hashable, Codable, CaseIterable {
    case malicious
    case suspicious
    /// An allowlist: known good, for playbooks to skip or close.
    case benign
}

/// How a feed's file is written.
public enum FeedFormat: Sendable, Hashable {
    /// One IP, CIDR, domain, URL, e-mail address, hash or CVE per line, its type detected;
    /// the rest of the line (less a leading `#` or `;`) is its comment. Blank lines and lines
    /// starting with `#` or `;` are skipped.
    case text
    /// RFC 4180 CSV with a header row; the columns are named by `CSVColumns`.
    case csv(CSVColumns)
    /// A STIX 2.1 bundle (JSON): its `indicator` objects whose pattern is equality
    /// comparisons joined by OR (`[ipv4-addr:value = '198.51.100.7']`); others are reported
    /// and skipped, revoked and expired ones left out.
    case stix
    /// A MISP feed folder: `manifest.json` and one `<uuid>.json` per event. Only attributes
    /// marked `to_ids` are read: the others are context, not something to detect.
    case misp
}

/// Which columns of a CSV feed hold what, by their names in the header row (compared without
/// regard to case or surrounding spaces).
public struct CSVColumns: Sendable, Hashable {
    /// The indicator.
    public var value: String
    /// Its type (`ipv4`, `domain`, `sha256`, `ip`, `hash`, MISP names such as `ip-dst`); when
    /// absent, or empty on a row, the type is detected from the value.
    public var type: String?
    /// Why it is listed: reported with every match.
    public var comment: String?
    /// Between fields: `,`, or another ASCII character but a double quote or a line break
    /// (`;` as spreadsheets write CSV where the comma is the decimal point, a tab).
    public var separator: Unicode.Scalar

    public init(value: String, type: String? = nil, comment: String? = nil, separator: Unicode.Scalar = ",") {
        self.value = value
        self.type = type
        self.comment = comment
        self.separator = separator
    }
}

extension CSVColumns {
    /// The separator a configuration file names: one character, or `tab`; nil for any other
    /// text (a character that cannot separate fields is refused when the feed is read).
    static func separator(named name: String) -> Unicode.Scalar? {
        if name.lowercased() == "tab" { return "\t" }
        return name.unicodeScalars.count == 1 ? name.unicodeScalars.first : nil
    }

    /// Whether `separator` can separate fields: ASCII, not a double quote, not a line break.
    static func canSeparate(_ separator: Unicode.Scalar) -> Bool {
        separator.isASCII && !["\"", "\r", "\n"].contains(separator)
    }
}
