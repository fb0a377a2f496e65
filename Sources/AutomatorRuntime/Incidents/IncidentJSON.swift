public import Foundation

/// Incidents and tasks as JSON: for scripts (times in seconds since the epoch, as `time.now()`
/// gives them) and for the API and the CLI (times in ISO 8601, with the SLA, the tasks and the
/// playbook's run). Custom fields and payloads go out as they were sent.
public enum IncidentJSON {
    /// The incident as a playbook sees it (`inc`): what is not set is absent (nil in Lua).
    public static func forScript(_ incident: Incident) -> String {
        var object = common(incident)
        object["created_at"] = JSONText.seconds(incident.createdAt)
        object["closed_at"] = incident.closedAt.map(JSONText.seconds)
        object["close_reason"] = incident.closeReason.map(JSONText.string)
        object["resolution"] = incident.resolution.map { JSONText.string($0.rawValue) }
        object["sla_due"] = incident.slaDueAt.map(JSONText.seconds)
        return object.textWithoutNulls
    }

    /// The incident as the API shows it, with its tasks, its playbook's run, its SLA breach's
    /// hook run, its last close's hook run, its evidence and its actions when given (`IncidentService.caseFile`).
    public static func forAPI(_ incident: Incident, tasks: [IncidentTask]? = nil, run: RunRecord? = nil,
                              breachHook: RunRecord? = nil, closeHook: RunRecord? = nil,
                              evidence: [(Evidence, [CustodyEvent])]? = nil,
                              actions: [ActionRecord]? = nil, now: Date = Date()) -> String
    {
        var object = common(incident)
        object["created_at"] = JSONText.time(incident.createdAt)
        object["updated_at"] = JSONText.time(incident.updatedAt)
        object["closed_at"] = incident.closedAt.map(JSONText.time)
        object["close_reason"] = incident.closeReason.map(JSONText.string)
        object["resolution"] = incident.resolution.map { JSONText.string($0.rawValue) }
        object["alert_count"] = "\(incident.alertCount)"
        object["links"] = JSONText.array(incident.links.map { JSONText.string($0.description) })
        var sla = JSONText.Object()
        sla["due"] = incident.slaDueAt.map(JSONText.time)
        sla["state"] = incident.slaState(at: now).map { JSONText.string($0.rawValue) }
        sla["breached_at"] = incident.slaBreachedAt.map(JSONText.time)
        if let breachHook { sla["hook"] = hookRun(breachHook) }
        object["sla"] = incident.slaDueAt == nil ? nil : sla.text
        var playbook = JSONText.Object()
        playbook["name"] = incident.playbook.map(JSONText.string)
        playbook["run"] = incident.runID.map { JSONText.string($0.rawValue) }
        if let run {
            playbook["status"] = JSONText.string(run.status.rawValue)
            playbook["error"] = run.error.map(JSONText.string)
        }
        object["playbook"] = incident.playbook == nil ? nil : playbook.text
        if let closeHook { object["close_hook"] = hookRun(closeHook) }
        if let tasks {
            object["tasks"] = JSONText.array(tasks.map { forAPI($0, now: now) })
            var progress = JSONText.Object()
            progress["done"] = "\(tasks.count { $0.status == .done })"
            progress["total"] = "\(tasks.count)"
            progress["overdue"] = "\(tasks.count { $0.isOverdue(at: now) })"
            progress["cancelled"] = "\(tasks.count { $0.status == .cancelled })"
            object["progress"] = progress.text
        }
        if let evidence { object["evidence"] = JSONText.array(evidence.map { EvidenceJSON.forAPI($0.0, custody: $0.1) }) }
        if let actions { object["actions"] = JSONText.array(actions.map(ActionsModule.json)) }
        return object.text
    }

    /// A hook's run, as an incident shows it (`sla.hook`, `close_hook`): whether it did its work.
    private static func hookRun(_ run: RunRecord) -> String {
        var hook = JSONText.Object()
        hook["script"] = JSONText.string(run.script)
        hook["run"] = JSONText.string(run.id.rawValue)
        hook["status"] = JSONText.string(run.status.rawValue)
        hook["error"] = run.error.map(JSONText.string)
        return hook.text
    }

    public static func forAPI(_ task: IncidentTask, now: Date = Date()) -> String {
        fields(of: task, now: now, time: JSONText.time).text
    }

    /// A task as scripts see it (`incidents.tasks`): times in seconds, what is not set absent.
    public static func forScript(_ task: IncidentTask, now: Date = Date()) -> String {
        fields(of: task, now: now, time: JSONText.seconds).textWithoutNulls
    }

    private static func fields(of task: IncidentTask, now: Date, time: (Date) -> String) -> JSONText.Object {
        var object = JSONText.Object()
        object["id"] = JSONText.string(task.id.description)
        object["incident"] = JSONText.string(task.incident.description)
        object["title"] = JSONText.string(task.title)
        object["owner"] = task.owner.map(JSONText.string)
        object["status"] = JSONText.string(task.status.rawValue)
        object["due"] = task.dueAt.map(time)
        object["overdue"] = task.isOverdue(at: now) ? "true" : "false"
        object["description"] = JSONText.string(task.description)
        object["choices"] = JSONText.array(task.choices.map(JSONText.string))
        object["answer"] = task.answer.map(JSONText.string)
        object["completed_by"] = task.completedBy.map(JSONText.string)
        object["created_at"] = time(task.createdAt)
        object["completed_at"] = task.completedAt.map(time)
        return object
    }

    /// `sequence` is left out of an entry the store has not numbered (one just added, whose
    /// number the group commit gave without a read back).
    public static func forAPI(_ entry: JournalEntry) -> String {
        var object = JSONText.Object()
        if entry.sequence > 0 { object["sequence"] = "\(entry.sequence)" }
        object["at"] = JSONText.time(entry.at)
        object["actor"] = JSONText.string(entry.actor)
        object["kind"] = JSONText.string(entry.kind.rawValue)
        object["text"] = JSONText.string(entry.text)
        return object.text
    }

    /// What arriving incident became: `{"id", "deduplicated", "playbook", "run", "incident"}`.
    public static func ingested(_ ingested: IncidentService.Ingested) -> String {
        var object = JSONText.Object()
        object["id"] = JSONText.string(ingested.incident.id.description)
        object["deduplicated"] = ingested.deduplicated ? "true" : "false"
        object["playbook"] = ingested.incident.playbook.map(JSONText.string)
        object["run"] = ingested.run.map { JSONText.string($0.id.rawValue) }
        object["warning"] = ingested.warning.map(JSONText.string)
        object["incident"] = forAPI(ingested.incident)
        return object.text
    }

    /// `{"incidents": [...]}`.
    public static func list(_ incidents: [Incident]) -> String {
        #"{"incidents":"# + JSONText.array(incidents.map { forAPI($0) }) + "}"
    }

    /// `{"tasks": [...]}`.
    public static func list(_ tasks: [IncidentTask]) -> String {
        #"{"tasks":"# + JSONText.array(tasks.map { forAPI($0) }) + "}"
    }

    /// `{"journal": [...]}`.
    public static func list(_ journal: [JournalEntry]) -> String {
        #"{"journal":"# + JSONText.array(journal.map(forAPI)) + "}"
    }

    /// `{"journal": [...], "more": false}`: a page of a journal (`IncidentService.journal(of:after:limit:)`);
    /// `more` when the next page, after the last entry's sequence, may hold more.
    public static func page(_ journal: [JournalEntry], more: Bool) -> String {
        #"{"journal":"# + JSONText.array(journal.map(forAPI)) + #","more":"# + (more ? "true" : "false") + "}"
    }

    /// `{"playbooks": [...], "problems": [...]}`: in the order they are tried, then the files that
    /// could not be read.
    /// `{"playbooks": [...], "problems": [...], "unloaded": [{"name", "runs": [{"id", "incident",
    /// "status", "script"}]}]}`: `unloaded` the playbooks no longer loaded that unfinished runs still run.
    public static func playbooks(_ playbooks: [Playbook], problems: [PlaybookProblem],
                                 unloaded: [IncidentService.UnloadedPlaybook]) -> String
    {
        let listed = playbooks.map { playbook in
            var object = JSONText.Object()
            object["name"] = JSONText.string(playbook.name)
            object["file"] = JSONText.string(playbook.path)
            object["priority"] = "\(playbook.priority)"
            object["match"] = JSONText.string(playbook.matchDescription)
            object["sla"] = playbook.sla.map { "\(Int($0))" }
            return object.text
        }
        let broken = problems.map { problem in
            var object = JSONText.Object()
            object["file"] = JSONText.string(problem.path)
            object["line"] = problem.line.map { "\($0)" }
            object["error"] = JSONText.string(problem.message)
            return object.text
        }
        let gone = unloaded.map { playbook in
            var object = JSONText.Object()
            object["name"] = JSONText.string(playbook.name)
            object["runs"] = JSONText.array(playbook.runs.map { run in
                var entry = JSONText.Object()
                entry["id"] = JSONText.string(run.id.rawValue)
                entry["incident"] = run.incident.map { JSONText.string($0.description) }
                entry["status"] = JSONText.string(run.status.rawValue)
                entry["script"] = JSONText.string(run.script)
                return entry.text
            })
            return object.text
        }
        return #"{"playbooks":"# + JSONText.array(listed) + #","problems":"# + JSONText.array(broken)
            + #","unloaded":"# + JSONText.array(gone) + "}"
    }

    private static func common(_ incident: Incident) -> JSONText.Object {
        var object = JSONText.Object()
        object["id"] = JSONText.string(incident.id.description)
        object["title"] = JSONText.string(incident.title)
        object["type"] = JSONText.string(incident.type)
        object["severity"] = JSONText.string(incident.severity.rawValue)
        object["status"] = JSONText.string(incident.status.rawValue)
        object["owner"] = incident.owner.map(JSONText.string)
        object["labels"] = JSONText.array(incident.labels.map(JSONText.string))
        object["fields"] = incident.fields
        object["details"] = JSONText.string(incident.details)
        object["raw"] = incident.raw
        object["source"] = incident.source.map(JSONText.string)
        object["source_ref"] = incident.sourceRef.map(JSONText.string)
        return object
    }
}
