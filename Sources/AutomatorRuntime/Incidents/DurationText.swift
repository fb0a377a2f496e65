import Foundation

/// Durations as people write them in playbooks and on the command line: `90s`, `15m`, `4h`,
/// `2d`, `1w`, a bare number of seconds, or `0`; at most a hundred years.
public enum DurationText {
    /// A hundred years. No SLA, window or lease is longer, and a duration far longer overflows
    /// what it is added to (a date, a `Duration` in nanoseconds) and stops the process: one
    /// `GET /api/v1/report?since=99999999999d` stopped `serve`.
    public static let longest = 100 * 365.25 * 86400

    /// Seconds, or nil for text that is not a duration.
    public static func seconds(_ text: some StringProtocol) -> Double? {
        let text = text.trimmingCharacters(in: .whitespaces)
        guard let unit = text.last else { return nil }
        let scale: Double? = switch unit {
        case "s": 1
        case "m": 60
        case "h": 3600
        case "d": 86400
        case "w": 7 * 86400
        default: nil
        }
        let number = scale == nil ? Substring(text) : text.dropLast()
        guard let value = Double(number), value >= 0, value * (scale ?? 1) <= longest else { return nil }
        return value * (scale ?? 1)
    }

    /// What the parsers say about text that is not a duration.
    public static let expected = "a duration such as 90s, 15m, 4h, 2d or 1w (at most 100 years)"
}
