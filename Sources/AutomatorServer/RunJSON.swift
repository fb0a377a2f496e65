package import AutomatorRuntime
import Foundation

/// Runs as the API shows them:
///
/// ```json
/// {"id":"run-…","script":"triage.lua","status":"completed","args":["203.0.113.7"],"result":[true],
///  "error":null,"created_at":"2026-11-29T05:28:29.120Z","updated_at":"…","finished_at":"…"}
/// ```
///
/// Written as text rather than through `JSONSerialization`: `args` and `result` are JSON text in
/// the store already and go out byte for byte, so `1.0` stays `1.0` (a Lua script tells it
/// from `1`). Times are ISO 8601 in UTC, to the millisecond the store keeps.
package enum RunJSON {
    package static func object(_ run: RunRecord) -> String {
        let fields = [
            ("id", string(run.id.rawValue)),
            ("script", string(run.script)),
            ("status", string(run.status.rawValue)),
            ("args", run.arguments),
            ("result", run.result ?? "null"),
            ("error", run.error.map(string) ?? "null"),
            ("created_at", time(run.createdAt)),
            ("updated_at", time(run.updatedAt)),
            ("finished_at", run.finishedAt.map(time) ?? "null"),
        ]
        return "{" + fields.map { "\"\($0)\":\($1)" }.joined(separator: ",") + "}"
    }

    /// `{"runs": [...]}`.
    package static func list(_ runs: [RunRecord]) -> String {
        #"{"runs":["# + runs.map(object).joined(separator: ",") + "]}"
    }

    /// `text` as a JSON string.
    static func string(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            case "\u{0}"..."\u{1F}", "\u{7F}", "\u{2028}", "\u{2029}":
                quoted += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                    + String(scalar.value, radix: 16)
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    private static func time(_ date: Date) -> String {
        string(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
    }
}
