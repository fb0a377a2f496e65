public import Logging

/// The `log` section of the configuration file: how `automator serve` writes its log on standard
/// error, as `--log-level` and `--log-format` set it (the command line wins).
///
/// ```yaml
/// log:
///   level: warning   # trace, debug, info, notice, warning, error, critical
///   format: json     # text, json
/// ```
public struct LogConfiguration: Sendable, Hashable {
    public var level: Logger.Level?
    public var format: LogFormat?

    public init() {}

    /// Reads the `log` section of `root`, reporting a bad value, with the choices, to `reader`.
    init(reading root: ConfigurationMapping, with reader: ConfigurationReader) {
        guard let section = root["log"], let fields = reader.mapping(section) else { return }
        reader.only(["level", "format"], in: fields)
        level = fields["level"].flatMap { Self.choice($0, of: Logger.Level.self, reader) }
        format = fields["format"].flatMap { Self.choice($0, of: LogFormat.self, reader) }
    }

    private static func choice<Choice: CaseIterable & RawRepresentable<String>>(
        _ node: ConfigurationValue, of _: Choice.Type, _ reader: ConfigurationReader) -> Choice?
    {
        guard let text = reader.string(node) else { return nil }
        guard let choice = Choice(rawValue: text) else {
            reader.report(node, Choice.allCases.map(\.rawValue).joined(separator: ", ") + " expected")
            return nil
        }
        return choice
    }
}

/// How a log line is written: `text` for a person (`2026-12-01T02:38:31Z info automator: ...`),
/// `json` for a log shipper (one object a line: time, level, label, message, source, metadata).
public enum LogFormat: String, Sendable, Hashable, CaseIterable {
    case text
    case json
}
