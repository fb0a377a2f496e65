public import AutomatorRuntime
public import Foundation

/// A dozen incidents with known times, SLAs, tasks, journals, runs and indicators, around a window
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
    }

    private static let incidents: [Row] = [
        Row(number: 1, type: "phishing", severity: .high, status: .closed, created: 1, closed: 5, due: 5, breached: nil),
        Row(number: 2, type: "phishing", severity: .medium, status: .closed, created: 2, closed: 30, due: 26, breached: 26),
        Row(number: 3, type: "phishing", severity: .low, status: .active, created: 10, closed: nil, due: 100, breached: nil),
        Row(number: 4, type: "malware", severity: .critical, status: .closed, created: 20, closed: 22, due: 24, breached: nil),
        Row(number: 5, type: "malware", severity: .high, status: .new, created: 25, closed: nil, due: 200, breached: nil),
        Row(number: 6, type: "malware", severity: .high, status: .pending, created: 30, closed: nil, due: 40, breached: 40),
        Row(number: 7, type: "malware", severity: .medium, status: .closed, created: 50, closed: 80, due: nil, breached: nil),
        Row(number: 8, type: "access", severity: .low, status: .closed, created: 60, closed: 61, due: 70, breached: nil),
        Row(number: 9, type: "access", severity: .info, status: .active, created: 70, closed: nil, due: nil, breached: nil),
        Row(number: 10, type: "phishing", severity: .high, status: .closed, created: -24, closed: 12, due: nil, breached: nil),
        Row(number: 11, type: "malware", severity: .low, status: .new, created: 73, closed: nil, due: nil, breached: nil),
        Row(number: 12, type: "access", severity: .medium, status: .closed, created: 40, closed: 75, due: 48, breached: 48),
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

    /// (script, entry, incident, created, status).
    private static let runs: [(String, String?, Int?, Double, RunRecord.Status)] = [
        ("playbooks/phishing.lua", "playbook:run", 1, 1, .completed),
        ("playbooks/phishing.lua", "playbook:run", 2, 2, .failed),
        ("playbooks/phishing.lua", "playbook:run", 3, 10, .waiting),
        ("playbooks/malware.lua", "playbook:run", 4, 20, .completed),
        ("playbooks/malware.lua", "playbook:run", 6, 30, .diverged),
        ("playbooks/malware.lua", "playbook:run", 7, 50, .killed),
        ("playbooks/phishing.lua", "playbook:run", 10, -24, .completed),
        ("enrich.lua", nil, nil, 5, .completed),
        ("hooks/sla_breach.lua", "hook", 2, 26, .failed),
    ]

    /// (type, value, score, last seen).
    private static let indicators: [(IndicatorType, String, Score, Double)] = [
        (.ipv4, "203.0.113.7", .malicious, 10), (.domain, "examp1e.com", .malicious, 30),
        (.url, "http://examp1e.com/login", .suspicious, 40), (.sha256, String(repeating: "ab", count: 32), .benign, 20),
        (.ipv4, "198.51.100.1", .unknown, 50), (.domain, "old.example", .malicious, -5),
    ]

    private static var writes: [StoreWrite] {
        var writes = incidents.map { row in
            StoreWrite.createIncident(Incident(
                id: IncidentID(row.number), title: "\(row.type) \(row.number)", type: row.type, severity: row.severity,
                status: row.status, createdAt: hour(row.created), closedAt: row.closed.map(hour),
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
        writes += runs.map { script, entry, incident, created, status in
            .createRun(RunRecord(id: .make(), script: script, source: Array("return".utf8), arguments: "[]",
                                 status: status, createdAt: hour(created), updatedAt: hour(created + 1),
                                 finishedAt: status.isFinished ? hour(created + 1) : nil, result: nil, error: nil,
                                 entry: entry, incident: incident.map(IncidentID.init)))
        }
        writes += indicators.map { type, value, score, seen in
            .noteIndicator(SeenIndicator(type: type, value: value, score: score, summary: "\(score.name): fixture",
                                         firstSeen: hour(seen - 1), lastSeen: hour(seen)))
        }
        return writes
    }
}
