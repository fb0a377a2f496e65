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
            ("id", JSONText.string(run.id.rawValue)),
            ("script", JSONText.string(run.script)),
            ("status", JSONText.string(run.status.rawValue)),
            ("args", run.arguments),
            ("result", run.result ?? "null"),
            ("error", run.error.map(JSONText.string) ?? "null"),
            ("created_at", JSONText.time(run.createdAt)),
            ("updated_at", JSONText.time(run.updatedAt)),
            ("finished_at", run.finishedAt.map(JSONText.time) ?? "null"),
        ]
        return "{" + fields.map { "\"\($0)\":\($1)" }.joined(separator: ",") + "}"
    }

    /// `{"runs": [...]}`.
    package static func list(_ runs: [RunRecord]) -> String {
        #"{"runs":["# + runs.map(object).joined(separator: ",") + "]}"
    }
}
