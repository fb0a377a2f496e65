public import Foundation
import Yams

/// The intel part of the configuration file (`--config automator.yml`): the local feeds, each
/// integration's settings and secrets, and how long verdicts are cached.
///
/// ```yaml
/// feeds:
///   - name: bad-ips
///     path: feeds/bad-ips.txt        # relative to the configuration file
///     verdict: malicious             # malicious, suspicious or allowlist
///     format: text                   # text, csv, stix or misp
///   - name: partners
///     path: feeds/partners.csv
///     verdict: allowlist
///     options: { value: indicator, comment: owner, separator: ";" }   # CSV: columns, separator
/// integrations:
///   virustotal:                      # scripts/integrations/virustotal.lua
///     api_key: ${VIRUSTOTAL_API_KEY} # from the environment
///     rate: { per_minute: 4, per_day: 500 }
///   abuseipdb:
///     enabled: false
/// cache:                             # how long a verdict is kept, by score
///   malicious: 6h
///   unknown: 1h
/// ```
///
/// `${NAME}` is replaced by the environment variable NAME; an error names the file, the line
/// and the key.
public struct IntelConfiguration: Sendable, Hashable {
    public struct FeedSettings: Sendable, Hashable {
        public var name: String
        /// Absolute, or relative to the configuration file's folder.
        public var path: String
        public var verdict: String
        public var format: String?
        public var options: [String: String]

        public init(name: String, path: String, verdict: String, format: String? = nil, options: [String: String] = [:]) {
            self.name = name
            self.path = path
            self.verdict = verdict
            self.format = format
            self.options = options
        }
    }

    public struct IntegrationSettings: Sendable, Hashable {
        public var enabled = true
        /// Values for the integration's `config`, secrets included.
        public var values: [String: String] = [:]
        public var perMinute: Int?
        public var perDay: Int?
        public var reliability: Reliability?

        public init(values: [String: String] = [:]) { self.values = values }
    }

    public var feeds: [FeedSettings] = []
    /// By the integration file's name without `.lua`.
    public var integrations: [String: IntegrationSettings] = [:]
    /// Seconds a verdict with this score is cached.
    public var cacheTTL: [Score: TimeInterval] = [.malicious: 6 * 3600, .suspicious: 6 * 3600, .benign: 24 * 3600,
                                                  .unknown: 3600]

    public init() {}

    /// Reads `path`.
    ///
    /// - Throws: `ConfigurationError` naming the file, the line and the key.
    public init(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) {
        guard let (reader, root) = try ConfigurationReader.root(of: path, environment: environment) else { return }
        let folder = (path as NSString).deletingLastPathComponent
        for (key, value) in root {
            switch key {
            case "feeds":
                for (index, item) in try reader.sequence(value, key: "feeds").enumerated() {
                    let key = "feeds[\(index)]"
                    let fields = try reader.mapping(item, key: key)
                    try reader.only(["name", "path", "verdict", "format", "options"], in: fields, key: key)
                    let file = try reader.string(fields["path"], key: key + ".path")
                    let verdict = try reader.string(fields["verdict"], key: key + ".verdict")
                    guard ["malicious", "suspicious", "allowlist"].contains(verdict) else {
                        throw reader.error(fields["verdict"], key + ".verdict", "malicious, suspicious or allowlist expected")
                    }
                    var options: [String: String] = [:]
                    if let given = fields["options"] {
                        for (name, value) in try reader.mapping(given, key: key + ".options") {
                            let text = try reader.string(value, key: key + ".options." + name)
                            let separator = name == "separator" ? CSVColumns.separator(named: text) : nil
                            if name == "separator", !(separator.map(CSVColumns.canSeparate) ?? false) {
                                throw reader.error(value, key + ".options.separator",
                                                   "one ASCII character but a double quote (\";\", \"|\"), or tab, expected")
                            }
                            options[name] = text
                        }
                    }
                    var format: String?
                    if let given = fields["format"] { format = try reader.string(given, key: key + ".format") }
                    feeds.append(FeedSettings(name: try reader.string(fields["name"], key: key + ".name"),
                                              path: file.hasPrefix("/") || folder.isEmpty ? file : folder + "/" + file,
                                              verdict: verdict, format: format, options: options))
                }
            case "integrations":
                for (name, item) in try reader.mapping(value, key: "integrations") {
                    let key = "integrations." + name
                    var settings = IntegrationSettings()
                    for (field, value) in try reader.mapping(item, key: key) {
                        switch field {
                        case "enabled": settings.enabled = try reader.bool(value, key: key + ".enabled")
                        case "reliability":
                            let text = try reader.string(value, key: key + ".reliability")
                            guard let reliability = Reliability(rawValue: text.uppercased()) else {
                                throw reader.error(value, key + ".reliability", "A, B, C, D, E or F expected")
                            }
                            settings.reliability = reliability
                        case "rate":
                            let rate = try reader.mapping(value, key: key + ".rate")
                            try reader.only(["per_minute", "per_day"], in: rate, key: key + ".rate")
                            if let given = rate["per_minute"] { settings.perMinute = try reader.count(given, key: key + ".rate.per_minute") }
                            if let given = rate["per_day"] { settings.perDay = try reader.count(given, key: key + ".rate.per_day") }
                        default: settings.values[field] = try reader.string(value, key: key + "." + field)
                        }
                    }
                    integrations[name] = settings
                }
            case "cache":
                for (name, value) in try reader.mapping(value, key: "cache") {
                    guard let score = Score(name: name) else {
                        throw reader.error(value, "cache." + name, "the cache is set by score: malicious, suspicious, benign, unknown")
                    }
                    let text = try reader.string(value, key: "cache." + name)
                    guard let seconds = DurationText.seconds(text) else {
                        throw reader.error(value, "cache." + name, DurationText.expected)
                    }
                    cacheTTL[score] = seconds
                }
            case "chat", "actions", "store":
                continue  // ChatConfiguration's, ActionConfiguration's, StoreConfiguration's
            default:
                throw reader.error(value, key, "unknown section: the configuration has feeds, integrations, cache, "
                    + "chat, actions and store")
            }
        }
    }
}
