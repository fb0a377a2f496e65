import Foundation

/// `hooks/incident_closed.lua`, run once for each close of an incident, whoever closes it (a
/// playbook's `inc:close`, the API, the CLI, the bot), with the closed incident as `...`: what
/// tells the tool the alert came from (Sentinel, Defender, a ticket) that it is done.
///
/// Its run is created in the close's own transaction (`start(on:)`'s writes commit with the
/// close's), so that a crash neither loses it nor starts it twice: a replayed `inc:close` hands
/// back its record without writing again, and a run the crash left unfinished resumes as any
/// other. A hook that fails is a failed run, never a failed close.
struct IncidentClosedHook: Sendable, Hashable {
    static let path = "hooks/incident_closed.lua"

    var source: [UInt8]

    /// The hook's run on `closed` (the incident as its close leaves it), stored `running` by the
    /// writes to commit with the close: the run, and the journal's line on the incident.
    func start(on closed: Incident) -> (run: RunRecord, writes: [StoreWrite]) {
        var run = RunRecord(script: Self.path, source: source, arguments: "[" + IncidentJSON.forScript(closed) + "]",
                            entry: RunEntry.closeHook.stored, incident: closed.id, createdAt: closed.closedAt ?? Date())
        run.status = .running
        let entry = JournalEntry(incident: closed.id, at: run.createdAt, actor: "automator", kind: .playbook,
                                 text: "\(Self.path) started: run \(run.id)")
        return (run, [.createRun(run), .appendJournal([entry])])
    }
}
