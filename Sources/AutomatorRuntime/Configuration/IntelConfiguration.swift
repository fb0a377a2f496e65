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
///   misp:
///     internal: true                 # on our network: may be asked about 10.1.2.3, dc01.corp.local
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
        /// `internal: true`: it runs on the organisation's network (an on-premises MISP), so it may
        /// be asked about internal addresses and names, which third parties never are.
        public var isInternal = false
        /// `fetch: true` or `false`: whether `serve` runs the integration's fetch; nil follows its
        /// declaration (on, unless it says `opt_in = true`).
        public var fetch: Bool?

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
    /// - Throws: `ConfigurationError` naming the file, the line and the key of every bad value.
    public init(file path: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError) {
        self = try ConfigurationReader.read(path, environment: environment, Self.init(reading:with:)) ?? Self()
    }

    /// Reads the intel sections of `root` (and refuses a section no type reads), reporting the bad
    /// values to `reader`.
    init(reading root: ConfigurationMapping, with reader: ConfigurationReader) {
        let folder = (reader.file as NSString).deletingLastPathComponent
        for (section, value) in root.entries {
            switch section {
            case "feeds":
                for item in reader.sequence(value) ?? [] {
                    if let feed = Self.feed(item, in: folder, reader) { feeds.append(feed) }
                }
            case "integrations":
                for (name, item) in reader.mapping(value)?.entries ?? [] {
                    integrations[name] = Self.integration(item, reader)
                }
            case "cache":
                for (name, value) in reader.mapping(value)?.entries ?? [] {
                    guard let score = Score(name: name) else {
                        reader.report(value, "the cache is set by score: malicious, suspicious, benign, unknown")
                        continue
                    }
                    guard let text = reader.string(value) else { continue }
                    guard let seconds = DurationText.seconds(text) else {
                        reader.report(value, DurationText.expected)
                        continue
                    }
                    cacheTTL[score] = seconds
                }
            case "chat", "actions", "store", "log":
                continue  // ChatConfiguration's, ActionConfiguration's, StoreConfiguration's, LogConfiguration's
            default:
                reader.report(value, "unknown section: the configuration has feeds, integrations, cache, chat, actions, "
                    + "store and log")
            }
        }
    }

    private static func feed(_ item: ConfigurationValue, in folder: String, _ reader: ConfigurationReader) -> FeedSettings? {
        guard let fields = reader.mapping(item) else { return nil }
        reader.only(["name", "path", "verdict", "format", "options"], in: fields)
        var verdict: String?
        if let node = reader.required("verdict", in: fields), let text = reader.string(node) {
            if ["malicious", "suspicious", "allowlist"].contains(text) {
                verdict = text
            } else {
                reader.report(node, "malicious, suspicious or allowlist expected")
            }
        }
        var options: [String: String] = [:]
        for (name, value) in fields["options"].flatMap(reader.mapping)?.entries ?? [] {
            guard let text = reader.string(value) else { continue }
            if name == "separator", !(CSVColumns.separator(named: text).map(CSVColumns.canSeparate) ?? false) {
                reader.report(value, "one ASCII character but a double quote (\";\", \"|\"), or tab, expected")
                continue
            }
            options[name] = text
        }
        let format = fields["format"].flatMap(reader.string)
        guard let name = reader.required("name", in: fields).flatMap(reader.string),
              let file = reader.required("path", in: fields).flatMap(reader.string), let verdict
        else { return nil }
        return FeedSettings(name: name, path: file.hasPrefix("/") || folder.isEmpty ? file : folder + "/" + file,
                            verdict: verdict, format: format, options: options)
    }

    private static func integration(_ item: ConfigurationValue, _ reader: ConfigurationReader) -> IntegrationSettings {
        var settings = IntegrationSettings()
        for (field, value) in reader.mapping(item)?.entries ?? [] {
            switch field {
            case "enabled": settings.enabled = reader.bool(value) ?? settings.enabled
            case "internal": settings.isInternal = reader.bool(value) ?? settings.isInternal
            case "fetch": settings.fetch = reader.bool(value)
            case "reliability":
                guard let text = reader.string(value) else { continue }
                guard let reliability = Reliability(rawValue: text.uppercased()) else {
                    reader.report(value, "A, B, C, D, E or F expected")
                    continue
                }
                settings.reliability = reliability
            case "rate":
                guard let rate = reader.mapping(value) else { continue }
                reader.only(["per_minute", "per_day"], in: rate)
                settings.perMinute = rate["per_minute"].flatMap(reader.count)
                settings.perDay = rate["per_day"].flatMap(reader.count)
            default: settings.values[field] = reader.string(value)
            }
        }
        return settings
    }
}
