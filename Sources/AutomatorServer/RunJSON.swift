package import AutomatorRuntime
import Foundation

/// Runs as the API shows them:
///
/// ```json
/// {"id":"run-…","script":"triage.lua","status":"completed","args":["203.0.113.7"],"result":[true],
///  "error":null,"created_at":"2026-11-29T05:28:29.120Z","updated_at":"…","finished_at":"…",
///  "playbook":null,"playbook_loaded":null}
/// ```
///
/// `playbook` names a playbook's run's playbook; `playbook_loaded` is false for an unfinished one
/// whose playbook is no longer loaded (it goes on with the version it started with), true for
/// another unfinished one, and null where that is not known (a list read from the store, with no
/// server to say what it loaded) or does not matter (a finished run, a script's).
///
/// Written as text rather than through `JSONSerialization`: `args` and `result` are JSON text in
/// the store already and go out byte for byte, so `1.0` stays `1.0` (a Lua script tells it
/// from `1`). Times are ISO 8601 in UTC, to the millisecond the store keeps.
package enum RunJSON {
    /// - Parameter loaded: the names of the playbooks loaded now; nil when not known.
    package static func object(_ run: RunRecord, loaded: Set<String>? = nil) -> String {
        let playbookLoaded = run.playbook.flatMap { name in
            run.status.isFinished ? nil : loaded.map { $0.contains(name) ? "true" : "false" }
        }
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
            ("playbook", run.playbook.map(JSONText.string) ?? "null"),
            ("playbook_loaded", playbookLoaded ?? "null"),
        ]
        return "{" + fields.map { "\"\($0)\":\($1)" }.joined(separator: ",") + "}"
    }

    /// `{"runs": [...]}`.
    package static func list(_ runs: [RunRecord], loaded: Set<String>? = nil) -> String {
        #"{"runs":["# + runs.map { object($0, loaded: loaded) }.joined(separator: ",") + "]}"
    }
}
