import Foundation
public import Logging

/// A reputation call takes the set's current `index`.
extension FeedSet: FeedLookup {}

extension FeedSet {
    /// The feeds of the configuration file, loaded; what could not be read is logged.
    public convenience init(_ settings: [IntelConfiguration.FeedSettings], logger: Logger) {
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
        })
        for status in statuses {
            if let failure = status.failure { logger.error("feed \(status.feed.name) is not loaded: \(failure)") }
            for problem in status.problems { logger.warning("feed \(status.feed.name): \(problem)") }
        }
    }

    /// The format a feed's path suggests: `.csv`, `.json` (STIX), a folder (MISP), else text.
    private static func format(of path: String) -> String {
        if path.hasSuffix(".csv") { return "csv" }
        if path.hasSuffix(".json") { return "stix" }
        if path.hasSuffix("/") || FileManager.default.fileExists(atPath: path + "/manifest.json") { return "misp" }
        return "text"
    }
}
