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

    /// `seconds` in the largest unit that holds it whole (`86400` is `1d`, `5400` is `90m`), as
    /// people write it.
    public static func text(_ seconds: Double) -> String {
        let units: [(String, Double)] = [("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)]
        guard let (unit, scale) = units.first(where: { seconds >= $0.1 && seconds.remainder(dividingBy: $0.1) == 0 })
        else { return seconds.rounded() == seconds ? "\(Int(seconds))s" : "\(seconds)s" }
        return "\(Int(seconds / scale))\(unit)"
    }

    /// What the parsers say about text that is not a duration.
    public static let expected = "a duration such as 90s, 15m, 4h, 2d or 1w (at most 100 years)"
}
