public import Foundation
import PostgresNIO

/// Reports in PostgreSQL: what can be counted in groups is (`GROUP BY` hashes here, where SQLite
/// sorts), handed to `ReportTally` with its `count`; the incidents of the window are read one by
/// one, since each one's SLA state and durations are computed in Swift, as in SQLite. Three
/// connections of the pool read at once, each in a statement of its own.
extension PostgresStore: ReportStore {
    public func report(_ window: ReportWindow, at now: Date) async throws(StoreError) -> Report {
        let (from, to, now) = (window.from.millisecondsSince1970, window.to.millisecondsSince1970, now.millisecondsSince1970)
        let days = ReportDays(window)
        async let incidents = attempt { session in
            try await Self.tallyIncidents(session, from: from, to: to, now: now, days: days)
        }
        async let work = attempt { session in try await Self.tallyWork(session, from: from, to: to, now: now) }
        var tally = try await incidents.get()
        tally.merge(try await work.get())
        return tally.finish(window: window, days: days, generatedAt: Date(millisecondsSince1970: now))
    }

    public func audit(_ query: AuditQuery) async throws(StoreError) -> [AuditEntry] {
        var filter = PostgresFilter()
        filter.require("at >= \(filter.parameter(query.window.from.millisecondsSince1970))")
        filter.require("at < \(filter.parameter(query.window.to.millisecondsSince1970))")
        if let actor = query.actor {
            // `slack` is every `slack:NAME`; `playbook` every `playbook NAME (run-…)`.
            filter.require("(actor = \(filter.parameter(actor)) OR left(actor, \(filter.parameter(actor.count + 1))::integer) "
                + "IN (\(filter.parameter(actor + ":")), \(filter.parameter(actor + " "))))")
        }
        if let after = query.after {
            // As in SQLite (`SQLiteStore.audit`).
            if let sequence = after.sequence {
                let at = filter.parameter(after.at)
                filter.require("(at < \(at) OR (at = \(at) AND sequence < \(filter.parameter(sequence))))")
            } else {
                filter.require("at < \(filter.parameter(after.at))")
            }
        }
        let statement = filter.query("SELECT sequence, incident, at, actor, kind, text FROM journal",
                                     order: "at DESC, sequence DESC", limit: query.limit)
        let (from, to) = (query.window.from.millisecondsSince1970, query.window.to.millisecondsSince1970)
        return try await read { session in
            let journal = try await session.rows(statement).map { row in
                AuditEntry(sequence: try row[0].decode(Int64.self), incident: IncidentID(try row[1].decode(Int.self)),
                           at: try row.date(2)!, actor: try row[3].decode(String.self),
                           kind: JournalEntry.Kind(rawValue: try row[4].decode(String.self)) ?? .note,
                           text: try row[5].decode(String.self))
            }
            return query.merged(journal, try await Self.offTheJournal(session, from: from, to: to))
        }
    }

    /// What the audit lists besides the journal, newest first, as in SQLite
    /// (`SQLiteStore.offTheJournal`).
    private static func offTheJournal(_ session: PostgresSession, from: Int64, to: Int64) async throws -> [AuditEntry] {
        var entries: [AuditEntry] = []
        for row in try await session.rows("""
            SELECT \(unescaped: actionColumns) FROM action
            WHERE (incident IS NULL OR status = 'refused')
              AND ((at >= \(from) AND at < \(to)) OR (undone_at >= \(from) AND undone_at < \(to)))
            """)
        {
            let record = try action(row)
            let at = record.at.millisecondsSince1970
            if at >= from, at < to { entries.append(.action(record)) }
            if let by = record.undoneBy, let undone = record.undoneAt,
               undone.millisecondsSince1970 >= from, undone.millisecondsSince1970 < to
            {
                entries.append(.undo(of: record, by: by, at: undone))
            }
        }
        for row in try await session.rows("""
            SELECT id, text, answer, answered_by, answered_at FROM chat_question
            WHERE answered_at >= \(from) AND answered_at < \(to)
              AND (run_id IS NULL OR EXISTS (SELECT 1 FROM run WHERE run.id = chat_question.run_id AND run.incident IS NULL))
            """)
        {
            entries.append(.answer(question: try row[0].decode(String.self), text: try row[1].decode(String.self),
                                   answer: try row[2].decode(String.self), by: try row[3].decode(String.self),
                                   at: try row.date(4)!))
        }
        return entries.sorted { $0.at > $1.at }
    }

    private func attempt<T: Sendable>(_ body: @escaping @Sendable (PostgresSession) async throws -> T) async
        -> Result<T, StoreError>
    {
        do { return .success(try await read(body)) } catch { return .failure(error) }
    }

    /// The incidents opened or closed in the window, each with the first act of a person on it
    /// (see docs/ARCHITECTURE.md, "Reports": any entry but its creation and duplicate alerts, by
    /// anyone but automation).
    private static func tallyIncidents(_ session: PostgresSession, from: Int64, to: Int64, now: Int64,
                                       days: ReportDays) async throws -> ReportTally
    {
        var tally = ReportTally()
        for row in try await session.rows("""
            SELECT created_at, closed_at, sla_due_at, sla_breached_at, type, severity, status,
                   (SELECT min(at) FROM journal WHERE journal.incident = incident.number
                      AND kind NOT IN ('created', 'alert', 'imported') AND actor NOT IN ('automator', 'script')
                      AND left(actor, 9) <> 'playbook '),
                   number, resolution
            FROM incident
            WHERE (created_at >= \(from) AND created_at < \(to)) OR (closed_at >= \(from) AND closed_at < \(to))
            """)
        {
            let createdAt = try row[0].decode(Int64.self), closedAt = try row[1].decode(Int64?.self)
            let type = try row[4].decode(String.self), severity = try row[5].decode(String.self)
            if createdAt >= from, createdAt < to {
                let due = try row[2].decode(Int64?.self), breachedAt = try row[3].decode(Int64?.self)
                let sla = SLAState(created: createdAt, closed: closedAt, due: due, breached: breachedAt, now: now)
                tally.opened(day: days.index(of: createdAt), type: type, severity: severity,
                             status: try row[6].decode(String.self), sla: sla)
                if sla == .breached, let due {
                    tally.breached(number: try row[8].decode(Int.self), type: type, severity: severity, due: due,
                                   breachedAt: breachedAt, closed: closedAt)
                }
                if let closedAt { tally.resolved(after: closedAt - createdAt) }
                if let acted = try row[7].decode(Int64?.self) { tally.acknowledged(after: acted - createdAt) }
            }
            if let closedAt, closedAt >= from, closedAt < to {
                tally.closed(day: days.index(of: closedAt), type: type, severity: severity,
                             resolution: try row[9].decode(String?.self))
            }
        }
        return tally
    }

    /// The incidents open at the window's start and at its end; playbook runs and tasks created
    /// in the window (not those cancelled), indicators last looked up in it, and actions in force
    /// now, in groups; the actions asked for in the window.
    private static func tallyWork(_ session: PostgresSession, from: Int64, to: Int64, now: Int64) async throws
        -> ReportTally
    {
        var tally = ReportTally()
        for row in try await session.rows("""
            SELECT count(*) FILTER (WHERE created_at < \(from)),
                   count(*) FILTER (WHERE closed_at IS NULL OR closed_at >= \(to))
            FROM incident WHERE created_at < \(to) AND (closed_at IS NULL OR closed_at >= \(from))
            """)
        {
            tally.backlog(atStart: try row[0].decode(Int.self), atEnd: try row[1].decode(Int.self))
        }
        for row in try await session.rows("""
            SELECT coalesce(playbook, script), status, count(*) FROM run
            WHERE entry = 'playbook:run' AND created_at >= \(from) AND created_at < \(to) GROUP BY 1, 2
            """)
        {
            tally.run(playbook: try row[0].decode(String.self), status: try row[1].decode(String.self),
                      count: try row[2].decode(Int.self))
        }
        for row in try await session.rows("""
            SELECT owner, status = 'open', status = 'open' AND coalesce(due_at < \(now), false), count(*) FROM task
            WHERE created_at >= \(from) AND created_at < \(to) AND status <> 'cancelled' GROUP BY 1, 2, 3
            """)
        {
            tally.task(owner: try row[0].decode(String?.self), open: try row[1].decode(Bool.self),
                       overdue: try row[2].decode(Bool.self), count: try row[3].decode(Int.self))
        }
        for row in try await session.rows("""
            SELECT score, count(*) FROM intel_seen WHERE last_seen >= \(from) AND last_seen < \(to) GROUP BY score
            """)
        {
            tally.verdict(score: try row[0].decode(Int.self), count: try row[1].decode(Int.self))
        }
        tally.indicators(try await session.rows("""
            SELECT type, value, score, summary, last_seen FROM intel_seen WHERE last_seen >= \(from) AND last_seen < \(to)
            ORDER BY score DESC, last_seen DESC, type, value LIMIT 10
            """).map { row in
            Report.TopIndicator(type: try row[0].decode(String.self), value: try row[1].decode(String.self),
                                verdict: Score(rawValue: try row[2].decode(Int.self))?.name ?? "unknown",
                                summary: try row[3].decode(String.self), lastSeen: try row.date(4)!)
        })
        // The approval's wait as in SQLite (`SQLiteStore.actionsOfWindow`), each action on its own.
        for row in try await session.rows("""
            SELECT name, status, coalesce(undone_by = 'automator', false), approved_by,
                   (SELECT answered_at - asked_at FROM chat_question WHERE id = action.question)
            FROM action WHERE at >= \(from) AND at < \(to)
            """)
        {
            tally.action(name: try row[0].decode(String.self), status: try row[1].decode(String.self),
                         expired: try row[2].decode(Bool.self))
            guard let approver = try row[3].decode(String?.self) else { continue }
            tally.approved(by: approver)
            if let waited = try row[4].decode(Int64?.self) { tally.approved(after: waited) }
        }
        for row in try await session.rows("""
            SELECT name, expires_at IS NOT NULL, count(*), min(at) FROM action WHERE status = 'done' GROUP BY 1, 2
            """)
        {
            tally.inForce(name: try row[0].decode(String.self), lifting: try row[1].decode(Bool.self),
                          since: try row[3].decode(Int64.self), count: try row[2].decode(Int.self))
        }
        return tally
    }
}
