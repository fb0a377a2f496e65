public import AutomatorRuntime
public import Foundation

/// A dozen incidents with known times, SLAs, tasks, journals, runs, indicators, response actions
/// and their approvals in chat, around a window
/// of three UTC days (2026-03-01 to 2026-03-04), looked at on 2026-03-04 at 12:00. Every figure
/// of its report is computed by hand in `Tests/RuntimeTests/ReportTests.swift`.
///
/// Times are hours from 2026-03-01T00:00Z: the window is [0, 72), now is 84.
public enum ReportFixture {
    public static let start = Date(timeIntervalSince1970: 1_772_323_200)  // 2026-03-01T00:00:00Z
    public static let window = ReportWindow(from: start, to: hour(72))
    public static let now = hour(84)

    public static func hour(_ hours: Double) -> Date { start.addingTimeInterval(hours * 3600) }

    /// Writes the fixture into an empty store.
    public static func fill(_ store: some Store) async throws {
        for write in writes { try await store.write(write) }
    }

    private struct Row {
        var number: Int, type: String, severity: Incident.Severity, status: Incident.Status
        var created: Double, closed: Double?, due: Double?, breached: Double?
        var resolution: Incident.Resolution? = nil
    }

    private static let incidents: [Row] = [
        Row(number: 1, type: "phishing", severity: .high, status: .closed, created: 1, closed: 5, due: 5, breached: nil,
            resolution: .falsePositive),
        Row(number: 2, type: "phishing", severity: .medium, status: .closed, created: 2, closed: 30, due: 26, breached: 26,
            resolution: .truePositive),
        Row(number: 3, type: "phishing", severity: .low, status: .active, created: 10, closed: nil, due: 100, breached: nil),
        Row(number: 4, type: "malware", severity: .critical, status: .closed, created: 20, closed: 22, due: 24, breached: nil,
            resolution: .truePositive),
        Row(number: 5, type: "malware", severity: .high, status: .new, created: 25, closed: nil, due: 200, breached: nil),
        Row(number: 6, type: "malware", severity: .high, status: .pending, created: 30, closed: nil, due: 40, breached: 40),
        Row(number: 7, type: "malware", severity: .medium, status: .closed, created: 50, closed: 80, due: nil, breached: nil),
        Row(number: 8, type: "access", severity: .low, status: .closed, created: 60, closed: 61, due: 70, breached: nil,
            resolution: .benign),
        Row(number: 9, type: "access", severity: .info, status: .active, created: 70, closed: nil, due: nil, breached: nil),
        Row(number: 10, type: "phishing", severity: .high, status: .closed, created: -24, closed: 12, due: nil, breached: nil,
            resolution: .falsePositive),
        Row(number: 11, type: "malware", severity: .low, status: .new, created: 73, closed: nil, due: nil, breached: nil),
        Row(number: 12, type: "access", severity: .medium, status: .closed, created: 40, closed: 75, due: 48, breached: 48,
            resolution: .undetermined),
    ]

    /// (incident, hours, actor, kind): besides the `created` entry by `api` each incident has.
    private static let journal: [(Int, Double, String, JournalEntry.Kind)] = [
        (1, 1.1, "playbook playbooks/phishing.lua (run-1)", .note), (1, 3, "cli:alice", .taskDone),
        (2, 4, "slack:bob", .chat), (2, 26, "automator", .sla),
        (3, 11, "automator", .playbook), (3, 12, "script", .note),
        (4, 20.5, "api", .note),
        (5, 26, "api", .alert),
        (6, 36, "cli:carol", .update), (6, 40, "automator", .sla),
        (7, 50, "automator", .playbook), (7, 80, "cli:alice", .closed),
        (8, 61, "playbook playbooks/access.lua (run-8)", .closed),
        (9, 71, "cli:dave", .note),
        (10, -20, "cli:alice", .note),
        (12, 44, "slack:bob", .chat), (12, 50, "cli:alice", .note),
    ]

    /// (task, incident, owner, created, due, completed).
    private static let tasks: [(Int, Int, String?, Double, Double?, Double?)] = [
        (1, 1, "tier1", 1.5, nil, 3), (2, 3, "tier1", 10.5, 50, nil), (3, 5, "tier2", 25.5, 100, nil),
        (4, 6, "tier2", 30.5, nil, nil), (5, 9, nil, 70.5, 80, nil), (6, 10, "tier1", -10, nil, 11),
        (7, 7, "tier2", 51, nil, 79),
    ]

    /// (script, entry, incident, created, status, playbook): the phishing playbook moved to
    /// another folder between its runs; a run stored before runs kept their playbook's name has
    /// only its file.
    private static let runs: [(String, String?, Int?, Double, RunRecord.Status, String?)] = [
        ("playbooks/phishing.lua", "playbook:run", 1, 1, .completed, "phishing"),
        ("playbooks/email/phishing.lua", "playbook:run", 2, 2, .failed, "phishing"),
        ("playbooks/email/phishing.lua", "playbook:run", 3, 10, .waiting, "phishing"),
        ("playbooks/malware.lua", "playbook:run", 4, 20, .completed, "malware"),
        ("playbooks/malware.lua", "playbook:run", 6, 30, .diverged, "malware"),
        ("playbooks/malware.lua", "playbook:run", 7, 50, .killed, "malware"),
        ("playbooks/access.lua", "playbook:run", 8, 60, .completed, nil),
        ("playbooks/phishing.lua", "playbook:run", 10, -24, .completed, "phishing"),
        ("enrich.lua", nil, nil, 5, .completed, nil),
        ("hooks/sla_breach.lua", "hook", 2, 26, .failed, nil),
    ]

    /// (type, value, score, last seen).
    private static let indicators: [(IndicatorType, String, Score, Double)] = [
        (.ipv4, "203.0.113.7", .malicious, 10), (.domain, "examp1e.com", .malicious, 30),
        (.url, "http://examp1e.com/login", .suspicious, 40), (.sha256, String(repeating: "ab", count: 32), .benign, 20),
        (.ipv4, "198.51.100.1", .unknown, 50), (.domain, "old.example", .malicious, -5),
    ]

    /// (id, name, key, incident, requested by, approved by, status, at, expires): the undone
    /// ones done first; keyed `run-…/N` as a run's call, `cli-…` at a terminal.
    private static let actions: [(String, String, String, Int?, String, String?, ActionRecord.Status, Double, Double?)] = [
        ("ACT-1", "firewall.block_ip", "run-a/3", 1, "playbook run-a", "slack:bob", .done, 2, 200),
        ("ACT-2", "firewall.block_ip", "run-b/4", 2, "playbook run-b", "slack:carol", .done, 5, 29),
        ("ACT-3", "firewall.block_ip", "cli-3", 3, "cli:alice", "cli:alice", .done, 12, nil),
        ("ACT-4", "edr.isolate_host", "run-c/2", 4, "playbook run-c", ActionRecord.standingApproval, .done, 21, nil),
        ("ACT-5", "edr.isolate_host", "run-d/5", 6, "playbook run-d", "slack:bob", .failed, 34, nil),
        ("ACT-6", "edr.isolate_host", "run-e/3", 12, "playbook run-e", nil, .denied, 45, nil),
        ("ACT-7", "firewall.block_ip", "run-f/3", nil, "playbook run-f", nil, .timedOut, 52, nil),
        ("ACT-8", "firewall.block_ip", "run-g/2", 7, "playbook run-g", nil, .planned, 55, nil),
        ("ACT-9", "firewall.block_ip", "run-h/2", 9, "playbook run-h", nil, .sending, 70, nil),
        ("ACT-10", "firewall.block_ip", "cli-10", 10, "cli:alice", nil, .done, -10, nil),
        ("ACT-11", "edr.isolate_host", "run-k/2", 11, "playbook run-k", "slack:bob", .done, 73, 300),
        ("ACT-12", "firewall.block_ip", "run-m/2", 8, "playbook run-m", nil, .done, 65, 90),
        ("ACT-13", "firewall.block_ip", "cli-13", nil, "cli:carol", "cli:carol", .done, 40, nil),
        ("ACT-14", "edr.isolate_host", "run-n/2/refused", 5, "playbook run-n", nil, .refused, 15, nil),
    ]

    /// The question whose yes approved each action approved in chat.
    private static let approvedIn = ["ACT-1": "Q-1", "ACT-2": "Q-2", "ACT-5": "Q-3"]

    /// What each status of `actions` keeps as its result.
    private static let results: [ActionRecord.Status: String] = [
        .done: "{}", .failed: "the firewall answered 503", .refused: "host dc-1 is protected",
        .denied: "denied by slack:dave",        .timedOut: "nobody approved it in time",
    ]

    /// (action, by, hours): undone by a person, or by automator at the end of its ttl.
    private static let undone: [(String, String, Double)] = [
        ("ACT-2", "automator", 29), ("ACT-3", "cli:alice", 20), ("ACT-13", "cli:carol", 41),
    ]

    /// (question, run, asked, answered, answer, by): the approvals runs asked in chat, and a
    /// question that is no approval; Q-8 of no run, Q-9 of the run of `enrich.lua` (on no
    /// incident); the others' runs are not kept. Q-2's yes was recorded by a worker whose clock
    /// runs 36 s ahead of the one that recorded ACT-2: after it.
    private static let questions: [(String, String?, Double, Double, String, String)] = [
        ("Q-0", "run-a", 0.2, 0.5, "approve", "slack:bob"), ("Q-1", "run-a", 1.5, 2, "approve", "slack:bob"),
        ("Q-6", "run-a", 60, 61, "approve", "slack:bob"), ("Q-2", "run-b", 3.01, 5.01, "approve", "slack:carol"),
        ("Q-7", "run-c", 20.2, 20.5, "approve", "slack:bob"), ("Q-3a", "run-d", 30.5, 31, "yes", "slack:bob"),
        ("Q-3", "run-d", 31, 34, "approve", "slack:bob"), ("Q-4", "run-e", 44, 45, "deny", "slack:dave"),
        ("Q-5", "run-f", 50, 52, "timeout", "automator"), ("Q-8", nil, 65, 66, "approve", "cli:alice"),
        ("Q-9", "run-enrich", 5.5, 6, "yes", "slack:bob"),
    ]

    private static var writes: [StoreWrite] {
        var writes = incidents.map { row in
            StoreWrite.createIncident(Incident(
                id: IncidentID(row.number), title: "\(row.type) \(row.number)", type: row.type, severity: row.severity,
                status: row.status, createdAt: hour(row.created), closedAt: row.closed.map(hour),
                closeReason: row.closed.map { _ in "done" }, resolution: row.resolution,
                slaDueAt: row.due.map(hour), slaBreachedAt: row.breached.map(hour)))
        }
        writes += incidents.map { row in
            .appendJournal([JournalEntry(incident: IncidentID(row.number), at: hour(row.created), actor: "api",
                                         kind: .created, text: "created")])
        }
        writes += journal.map { number, hours, actor, kind in
            .appendJournal([JournalEntry(incident: IncidentID(number), at: hour(hours), actor: actor, kind: kind,
                                         text: "\(kind.rawValue) by \(actor)")])
        }
        writes += tasks.map { number, incident, owner, created, due, completed in
            .createTask(IncidentTask(id: TaskID(number), incident: IncidentID(incident), runID: nil, title: "task \(number)",
                                     owner: owner, dueAt: due.map(hour), status: completed == nil ? .open : .done,
                                     answer: completed == nil ? nil : "done", createdAt: hour(created),
                                     completedAt: completed.map(hour)))
        }
        writes += runs.map { script, entry, incident, created, status, playbook in
            .createRun(RunRecord(id: script == "enrich.lua" ? RunID("run-enrich") : .make(), script: script,
                                 source: Array("return".utf8), arguments: "[]",
                                 status: status, createdAt: hour(created), updatedAt: hour(created + 1),
                                 finishedAt: status.isFinished ? hour(created + 1) : nil, result: nil, error: nil,
                                 entry: entry, incident: incident.map(IncidentID.init), playbook: playbook))
        }
        writes += indicators.map { type, value, score, seen in
            .noteIndicator(SeenIndicator(type: type, value: value, score: score, summary: "\(score.name): fixture",
                                         firstSeen: hour(seen - 1), lastSeen: hour(seen)))
        }
        writes += actions.map { id, name, key, incident, requestedBy, approvedBy, status, at, expires in
            var record = ActionRecord(id: id, key: key, name: name, parameters: "{}", incident: incident.map(IncidentID.init),
                                      requestedBy: requestedBy, approvedBy: approvedBy, status: status,
                                      result: results[status], at: hour(at), expiresAt: expires.map(hour))
            record.question = approvedIn[id]
            return .recordAction(record)
        }
        writes += undone.map { id, by, at in .undoAction(id: id, by: by, at: hour(at)) }
        for (id, run, asked, answered, answer, by) in questions {
            writes.append(.askQuestion(ChatQuestionRecord(id: id, runID: run.map(RunID.init), network: "slack", channel: "C1",
                                                          message: nil, text: "Approve?", choices: ["approve", "deny"],
                                                          roles: [], askedAt: hour(asked))))
            writes.append(.answerQuestion(id: id, choice: answer, by: by, at: hour(answered)))
        }
        return writes
    }

    /// `GET /api/v1/report` as a server from before the response actions section answered it
    /// (the shape of `Report` before commit 9f6f2cb): a newer CLI reads it during a rolling upgrade.
    public static let olderServerJSON = """
        {
          "acknowledge" : { "count" : 2, "mean" : 5400, "p90" : 7200 },
          "days" : [
            { "closed" : 1, "date" : "2026-03-01", "opened" : 2 },
            { "closed" : 0, "date" : "2026-03-02", "opened" : 0 }
          ],
          "generated_at" : "2026-03-03T12:00:00Z",
          "indicators" : [
            { "last_seen" : "2026-03-01T06:00:00Z", "summary" : "malicious: seen", "type" : "domain",
              "value" : "examp1e.com", "verdict" : "malicious" }
          ],
          "owners" : [ { "done" : 1, "open" : 1, "overdue" : 0, "owner" : "tier1" } ],
          "playbooks" : [ { "completed" : 2, "failed" : 0, "killed" : 0, "playbook" : "phishing.lua", "unfinished" : 0 } ],
          "resolve" : { "count" : 1, "mean" : 14400, "p90" : 14400 },
          "severities" : [ { "closed" : 1, "name" : "high", "opened" : 2 } ],
          "sla" : [ { "at_risk" : 0, "breached" : 0, "met" : 1, "on_track" : 1, "type" : "phishing" } ],
          "statuses" : [ { "count" : 1, "name" : "closed" }, { "count" : 1, "name" : "active" } ],
          "types" : [ { "closed" : 1, "name" : "phishing", "opened" : 2 } ],
          "verdicts" : [ { "count" : 1, "name" : "malicious" } ],
          "window" : { "from" : "2026-03-01T00:00:00Z", "to" : "2026-03-03T00:00:00Z" }
        }
        """
}
