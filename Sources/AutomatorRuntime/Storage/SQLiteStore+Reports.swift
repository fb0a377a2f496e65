public import Foundation
import GRDB

/// Reports in SQLite: one aggregate query per figure, in one read transaction (one snapshot).
///
/// The SQL is kept to what PostgreSQL runs too (CASE rather than SQLite's boolean sums, integer
/// division for days, `substr`), so the PostgreSQL store can take the same statements.
extension SQLiteStore: ReportStore {
    public func report(_ window: ReportWindow, at now: Date) async throws(StoreError) -> Report {
        let arguments: StatementArguments = [
            "from": window.from.millisecondsSince1970, "to": window.to.millisecondsSince1970,
            "now": now.millisecondsSince1970, "day": ReportTally.day, "atRisk": SLAState.atRiskShare,
        ]
        return try await read { db in
            var tally = ReportTally(window: window, generatedAt: now)
            for row in try Row.fetchAll(db, sql: Self.openedByGroup, arguments: arguments) {
                let (count, met, breached, atRisk, withSLA): (Int, Int, Int, Int, Int) =
                    (row[4], row[5], row[6], row[7], row[8])
                tally.opened(day: row[0], type: row[1], severity: row[2], status: row[3], count: count, met: met,
                             breached: breached, atRisk: atRisk, onTrack: withSLA - met - breached - atRisk)
            }
            for row in try Row.fetchAll(db, sql: Self.closedByGroup, arguments: arguments) {
                tally.closed(day: row[0], type: row[1], severity: row[2], count: row[3])
            }
            tally.timings(acknowledge: try Int64.fetchAll(db, sql: Self.acknowledgeTimes, arguments: arguments),
                          resolve: try Int64.fetchAll(db, sql: Self.resolveTimes, arguments: arguments))
            for row in try Row.fetchAll(db, sql: Self.verdicts, arguments: arguments) {
                tally.verdict(score: row[0], count: row[1])
            }
            tally.indicators(try Row.fetchAll(db, sql: Self.topIndicators, arguments: arguments).map { row in
                Report.TopIndicator(type: row[0], value: row[1], verdict: Score(rawValue: row[2])?.name ?? "unknown",
                                    summary: row[3], lastSeen: Date(millisecondsSince1970: row[4]))
            })
            for row in try Row.fetchAll(db, sql: Self.playbookRuns, arguments: arguments) {
                tally.runs(playbook: row[0], status: row[1], count: row[2])
            }
            for row in try Row.fetchAll(db, sql: Self.tasksByOwner, arguments: arguments) {
                tally.tasks(Report.OwnerTasks(owner: row[0], open: row[1], done: row[2], overdue: row[3]))
            }
            return tally.finish()
        }
    }

    public func audit(_ query: AuditQuery) async throws(StoreError) -> [JournalEntry] {
        var sql = "SELECT sequence, incident, at, actor, kind, text FROM journal WHERE at >= ? AND at < ?"
        var arguments: StatementArguments = [query.window.from.millisecondsSince1970,
                                             query.window.to.millisecondsSince1970]
        if let actor = query.actor {
            // `slack` is every `slack:NAME`; `playbook` every `playbook NAME (run-…)`.
            sql += " AND (actor = ? OR substr(actor, 1, ?) IN (?, ?))"
            arguments += [actor, actor.count + 1, actor + ":", actor + " "]
        }
        // By time, then as recorded: entries a run wrote with an earlier time (a task's creation)
        // land where they happened.
        sql += " ORDER BY at DESC, sequence DESC LIMIT ?"
        arguments += [query.limit]
        let (statement, values) = (sql, arguments)
        return try await read { db in
            try Row.fetchAll(db, sql: statement, arguments: values).map { row in
                JournalEntry(sequence: row[0], incident: IncidentID(row[1] as Int),
                             at: Date(millisecondsSince1970: row[2]), actor: row[3],
                             kind: JournalEntry.Kind(rawValue: row[4]) ?? .note, text: row[5])
            }
        }
    }

    // MARK: The queries

    /// The incidents opened in the window by UTC day, type, severity and status, with their SLA
    /// states as `Incident.slaState(at:)` has them: met (closed by the due time), breached
    /// (closed late, handled as breached, or open past the due time), at risk (open, not
    /// breached, `atRiskShare` of the time gone), and how many have an SLA (the rest of them
    /// are on track).
    private static let openedByGroup = """
        SELECT created_at / :day, type, severity, status, count(*),
               sum(CASE WHEN closed_at <= sla_due_at THEN 1 ELSE 0 END),
               sum(CASE WHEN closed_at > sla_due_at
                          OR (closed_at IS NULL AND (sla_breached_at IS NOT NULL OR :now >= sla_due_at))
                        THEN 1 ELSE 0 END),
               sum(CASE WHEN closed_at IS NULL AND sla_breached_at IS NULL AND :now < sla_due_at
                         AND :now - created_at >= (sla_due_at - created_at) * :atRisk
                        THEN 1 ELSE 0 END),
               count(sla_due_at)
        FROM incident WHERE created_at >= :from AND created_at < :to
        GROUP BY created_at / :day, type, severity, status
        """

    /// The incidents closed in the window, whenever they were opened.
    private static let closedByGroup = """
        SELECT closed_at / :day, type, severity, count(*) FROM incident
        WHERE closed_at >= :from AND closed_at < :to
        GROUP BY closed_at / :day, type, severity
        """

    /// For each incident opened in the window that a person has acted on: from its creation to
    /// that person's first journal entry. Acts of persons are any entry but the creation and
    /// duplicate alerts, by anyone but automation: `automator` (the SLA, a playbook started or
    /// ended), `script` and `playbook …` (a run's own changes). See docs/ARCHITECTURE.md, "Reports".
    private static let acknowledgeTimes = """
        SELECT min(journal.at) - incident.created_at FROM incident JOIN journal ON journal.incident = incident.number
        WHERE incident.created_at >= :from AND incident.created_at < :to
          AND journal.kind NOT IN ('created', 'alert') AND journal.actor NOT IN ('automator', 'script')
          AND substr(journal.actor, 1, 9) <> 'playbook '
        GROUP BY incident.number, incident.created_at
        """

    /// For each incident opened in the window and closed since.
    private static let resolveTimes = """
        SELECT closed_at - created_at FROM incident
        WHERE created_at >= :from AND created_at < :to AND closed_at IS NOT NULL
        """

    private static let verdicts = """
        SELECT score, count(*) FROM intel_seen WHERE last_seen >= :from AND last_seen < :to GROUP BY score
        """

    private static let topIndicators = """
        SELECT type, value, score, summary, last_seen FROM intel_seen WHERE last_seen >= :from AND last_seen < :to
        ORDER BY score DESC, last_seen DESC, type, value LIMIT 10
        """

    /// Playbook runs (`RunEntry.playbook("run")`), not SLA hooks nor plain scripts.
    private static let playbookRuns = """
        SELECT script, status, count(*) FROM run
        WHERE entry = 'playbook:run' AND created_at >= :from AND created_at < :to
        GROUP BY script, status
        """

    private static let tasksByOwner = """
        SELECT owner, sum(CASE WHEN status = 'open' THEN 1 ELSE 0 END), sum(CASE WHEN status = 'done' THEN 1 ELSE 0 END),
               sum(CASE WHEN status = 'open' AND due_at < :now THEN 1 ELSE 0 END)
        FROM task WHERE created_at >= :from AND created_at < :to GROUP BY owner
        """
}
