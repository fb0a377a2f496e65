import Foundation
public import Logging

/// A reputation call takes the set's `lookupIndex()`.
extension FeedSet: FeedLookup {}

extension FeedSet {
    /// The feeds of the configuration file, loaded as `firstLoad` says; what could not be read
    /// is logged.
    public convenience init(_ settings: [IntelConfiguration.FeedSettings], logger: Logger, firstLoad: FirstLoad = .now) {
        self.init(feeds: settings.map { setting in
            let format: FeedFormat = switch setting.format ?? Self.format(of: setting.path) {
            // The configuration refused a separator that is not one character or `tab`.
            case "csv": .csv(CSVColumns(value: setting.options["value"] ?? "value", type: setting.options["type"],
                                        comment: setting.options["comment"],
                                        separator: setting.options["separator"].flatMap(CSVColumns.separator) ?? ","))
            case "stix": .stix
            case "misp": .misp
            default: .text
            }
            return Feed(name: setting.name, verdict: setting.verdict == "allowlist" ? .benign
                            : FeedVerdict(rawValue: setting.verdict) ?? .malicious,
                        path: setting.path, format: format)
        }, logger: logger, firstLoad: firstLoad)
    }

    /// The format a feed's path suggests: `.csv`, `.json` (STIX), a folder (MISP), else text.
    private static func format(of path: String) -> String {
        if path.hasSuffix(".csv") { return "csv" }
        if path.hasSuffix(".json") { return "stix" }
        if path.hasSuffix("/") || FileManager.default.fileExists(atPath: path + "/manifest.json") { return "misp" }
        return "text"
    }
}
