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

    /// What to tell of a bare number given to a command-line option that takes a duration, nil
    /// for anything else (a bare 0 needs no unit): `--since 7` meant a week to the one who typed
    /// it and made a 7-second report, without a word. The options take what they mean with its
    /// unit; `unit` is the one the number most likely meant (`d` for a report, `s` for a lease).
    public static func missingUnit(_ option: String, _ text: String, likely unit: Character) -> String? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let number = Double(trimmed), number != 0 else { return nil }
        let name = ["s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"][unit] ?? ""
        return "\(option) wants its unit, as in \(trimmed)\(unit) (\(name)); the units are s, m, h, d and w: "
            + "90s, 15m, 4h, 2d, 1w"
    }

    /// A duration in its two largest units: `40s`, `5m`, `1h 20m`, `2d 3h`.
    public static func span(_ seconds: Double) -> String {
        let whole = Int(seconds)
        func unit(_ value: Int, _ name: String, then rest: Int, _ restName: String) -> String {
            "\(value)\(name)" + (rest > 0 ? " \(rest)\(restName)" : "")
        }
        switch whole {
        case ..<60: return "\(whole)s"
        case ..<3600: return "\(whole / 60)m"
        case ..<86400: return unit(whole / 3600, "h", then: whole % 3600 / 60, "m")
        default: return unit(whole / 86400, "d", then: whole % 86400 / 3600, "h")
        }
    }
}
