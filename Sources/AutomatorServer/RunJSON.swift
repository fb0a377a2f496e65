package import AutomatorRuntime
import Foundation

/// Runs as the API shows them:
///
/// ```json
/// {"id":"run-…","script":"triage.lua","status":"completed","args":["203.0.113.7"],"result":[true],
///  "error":null,"created_at":"2026-11-29T05:28:29.120Z","updated_at":"…","finished_at":"…",
///  "playbook":null,"incident":null,"playbook_loaded":null}
/// ```
///
/// `incident` is the incident a playbook's run works on (`INC-7`). `playbook` names a playbook's run's playbook; `playbook_loaded` is false for an unfinished one
/// whose playbook the server no longer has loaded (it goes on with the version it started with),
/// true for another unfinished one, and null where it does not matter (a finished run, a
/// script's). The commands that read the store with no server leave it out: no playbook is loaded
/// then, and the next serve loads its own --scripts (`playbook list` with none names the
/// playbooks of unfinished runs that its --scripts lacks).
///
/// `waiting_on` says what a waiting run waits on (`RunWait.json`): one run's read only
/// (`GET /api/v1/runs/ID`, `runs show`), a list leaves it out (a look at each run's waits).
/// `in_call` says which host call a `running` run is suspended in, and since when
/// (`HostCallInFlight.json`), when the server that answers holds it: one run's read only too.
///
/// Written as text rather than through `JSONSerialization`: `args` and `result` are JSON text in
/// the store already and go out byte for byte, so `1.0` stays `1.0` (a Lua script tells it
/// from `1`). Times are ISO 8601 in UTC, to the millisecond the store keeps.
package enum RunJSON {
    /// - Parameter loaded: the names of the playbooks the server has loaded now; nil with no server.
    package static func object(_ run: RunRecord, loaded: Set<String>?, waitingOn wait: RunWait? = nil,
                               inCall call: HostCallInFlight? = nil) -> String
    {
        var fields = [
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
            ("incident", run.incident.map { JSONText.string($0.description) } ?? "null"),
        ]
        if let loaded {
            let playbookLoaded = run.playbook.flatMap { run.status.isFinished ? nil : loaded.contains($0) }
            fields.append(("playbook_loaded", playbookLoaded.map { $0 ? "true" : "false" } ?? "null"))
        }
        if let wait { fields.append(("waiting_on", wait.json)) }
        if let call { fields.append(("in_call", call.json)) }
        return "{" + fields.map { "\"\($0)\":\($1)" }.joined(separator: ",") + "}"
    }

    /// `{"runs": [...]}`.
    package static func list(_ runs: [RunRecord], loaded: Set<String>?) -> String {
        #"{"runs":["# + runs.map { object($0, loaded: loaded) }.joined(separator: ",") + "]}"
    }
}
