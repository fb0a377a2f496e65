public import Foundation
import GRDB

/// Reports in SQLite: each table read once, folded in Swift (`ReportTally`).
///
/// Not `GROUP BY`: SQLite has no hash aggregation, it sorts every row of a group before adding
/// them up, and a report of a million incidents took 11 s in sorts where a scan takes 0.2 s
/// (docs/BENCHMARKS.md, "Reports"). PostgreSQL aggregates by hash: its store can group in SQL and
/// hand the tally groups (every `ReportTally` method takes a `count`). The incidents, the
/// acknowledgements, and the runs, tasks and indicators are read at once on three of the pool's
/// connections, each in a transaction of its own.
extension SQLiteStore: ReportStore {
    public func report(_ window: ReportWindow, at now: Date) async throws(StoreError) -> Report {
        let bounds = Bounds(from: window.from.millisecondsSince1970, to: window.to.millisecondsSince1970,
                            now: now.millisecondsSince1970, days: ReportDays(window))
        async let incidents = attempt { db in try Self.scanIncidents(db, bounds) }
        async let acts = attempt { db in try Self.firstActs(db, bounds) }
        async let work = attempt { db in try Self.tallyWork(db, bounds) }
        var (tally, cohort) = try await incidents.get()
        Self.acknowledge(cohort, try await acts.get(), in: &tally)
        tally.merge(try await work.get())
        return tally.finish(window: window, days: bounds.days, generatedAt: now)
    }

    public func audit(_ query: AuditQuery) async throws(StoreError) -> [AuditEntry] {
        var sql = "SELECT sequence, incident, at, actor, kind, text FROM journal WHERE at >= ? AND at < ?"
        var arguments: StatementArguments = [query.window.from.millisecondsSince1970,
                                             query.window.to.millisecondsSince1970]
        if let actor = query.actor {
            // `slack` is every `slack:NAME`; `playbook` every `playbook NAME (run-…)`.
            sql += " AND (actor = ? OR substr(actor, 1, ?) IN (?, ?))"
            arguments += [actor, actor.count + 1, actor + ":", actor + " "]
        }
        if let after = query.after {
            // The journal's entries at the millisecond of a place off the journal came before it.
            if let sequence = after.sequence {
                sql += " AND (at < ? OR (at = ? AND sequence < ?))"
                arguments += [after.at, after.at, sequence]
            } else {
                sql += " AND at < ?"
                arguments += [after.at]
            }
        }
        // By time, then as recorded: entries a run wrote with an earlier time (a task's creation)
        // land where they happened.
        sql += " ORDER BY at DESC, sequence DESC LIMIT ?"
        arguments += [query.limit]
        let (statement, values) = (sql, arguments)
        let (from, to) = (query.window.from.millisecondsSince1970, query.window.to.millisecondsSince1970)
        return try await read { db in
            let journal = try Row.fetchAll(db, sql: statement, arguments: values).map { row in
                AuditEntry(sequence: row[0], incident: IncidentID(row[1] as Int), at: Date(millisecondsSince1970: row[2]),
                           actor: row[3], kind: JournalEntry.Kind(rawValue: row[4]) ?? .note, text: row[5])
            }
            return query.merged(journal, try Self.offTheJournal(db, from: from, to: to))
        }
    }

    /// What the audit lists besides the journal, newest first: actions on no incident run or
    /// undone in the window, those its checks refused (never journaled), and questions answered
    /// in it for no incident (the others are in their incident's journal; a question whose run
    /// was deleted since is left out, as it may be).
    private static func offTheJournal(_ db: Database, from: Int64, to: Int64) throws -> [AuditEntry] {
        let window: StatementArguments = [from, to]
        let contains = { (time: Date) in (from..<to).contains(time.millisecondsSince1970) }
        var entries: [AuditEntry] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT * FROM action
            WHERE (incident IS NULL OR status = 'refused')
              AND ((at >= ? AND at < ?) OR (undone_at >= ? AND undone_at < ?))
            """, arguments: window + window)
        {
            let record = try action(row)
            if contains(record.at) { entries.append(.action(record)) }
            if let by = record.undoneBy, let at = record.undoneAt, contains(at) {
                entries.append(.undo(of: record, by: by, at: at))
            }
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT id, text, answer, answered_by, answered_at FROM chat_question
            WHERE answered_at >= ? AND answered_at < ?
              AND (run_id IS NULL OR EXISTS (SELECT 1 FROM run WHERE run.id = chat_question.run_id AND run.incident IS NULL))
            """, arguments: window)
        {
            entries.append(.answer(question: row[0], text: row[1], answer: row[2], by: row[3],
                                   at: Date(millisecondsSince1970: row[4])))
        }
        return entries.sorted { $0.at > $1.at }
    }

    // MARK: Reading the tables

    /// The window and the report's time, in milliseconds since 1970, and the window's days.
    private struct Bounds: Sendable {
        var from: Int64, to: Int64, now: Int64, days: ReportDays

        func contains(_ time: Int64) -> Bool { time >= from && time < to }
    }

    private func attempt<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async -> Result<T, StoreError> {
        do { return .success(try await read(body)) } catch { return .failure(error) }
    }

    /// An incident opened in the window: its number, and when.
    private struct Opening: Sendable {
        var number: Int, createdAt: Int64
    }

    /// The incidents open at some time in the window (opened in it, closed in it, or open across
    /// it), and those opened in it by number.
    private static func scanIncidents(_ db: Database, _ bounds: Bounds) throws -> (ReportTally, [Opening]) {
        var tally = ReportTally()
        var cohort: [Opening] = []
        let rows = try Row.fetchCursor(db, sql: """
            SELECT number, created_at, closed_at, sla_due_at, sla_breached_at, type, severity, status, resolution
            FROM incident
            WHERE created_at < ? AND (closed_at IS NULL OR closed_at >= ?) ORDER BY number
            """, arguments: [bounds.to, bounds.from])
        while let row = try rows.next() {
            let (number, createdAt, closedAt): (Int, Int64, Int64?) = (row[0], row[1], row[2])
            let (type, severity): (String, String) = (row[5], row[6])
            func open(at time: Int64) -> Int { createdAt < time && closedAt.map { $0 >= time } != false ? 1 : 0 }
            tally.backlog(atStart: open(at: bounds.from), atEnd: open(at: bounds.to))
            if bounds.contains(createdAt) {
                let (due, breachedAt): (Int64?, Int64?) = (row[3], row[4])
                let sla = SLAState(created: createdAt, closed: closedAt, due: due, breached: breachedAt, now: bounds.now)
                tally.opened(day: bounds.days.index(of: createdAt), type: type, severity: severity, status: row[7], sla: sla)
                if sla == .breached, let due {
                    tally.breached(number: number, type: type, severity: severity, due: due, breachedAt: breachedAt,
                                   closed: closedAt)
                }
                if let closedAt { tally.resolved(after: closedAt - createdAt) }
                cohort.append(Opening(number: number, createdAt: createdAt))
            }
            if let closedAt, bounds.contains(closedAt) {
                tally.closed(day: bounds.days.index(of: closedAt), type: type, severity: severity, resolution: row[8])
            }
        }
        return (tally, cohort)
    }

    /// The first act of a person on each incident numbered from the first to the last opened in
    /// the window, by number: read beside the incidents rather than after them, for a scan
    /// more (of two columns) than a merge needs.
    private static func firstActs(_ db: Database, _ bounds: Bounds) throws -> [(incident: Int, at: Int64)] {
        let numbers = try Row.fetchOne(db, sql: """
            SELECT min(number), max(number) FROM incident WHERE created_at >= ? AND created_at < ?
            """, arguments: [bounds.from, bounds.to])
        guard let low: Int = numbers?[0], let high: Int = numbers?[1] else { return [] }
        var acts: [(incident: Int, at: Int64)] = []
        let rows = try Row.fetchCursor(db, sql: firstActsOfPersons, arguments: [low, high])
        while let row = try rows.next() { acts.append((row[0], row[1])) }
        return acts
    }

    /// Merges the incidents opened in the window with the first acts, both by number.
    private static func acknowledge(_ cohort: [Opening], _ acts: [(incident: Int, at: Int64)],
                                    in tally: inout ReportTally)
    {
        var index = 0
        for act in acts {
            while index < cohort.count, cohort[index].number < act.incident { index += 1 }
            if index < cohort.count, cohort[index].number == act.incident {
                tally.acknowledged(after: act.at - cohort[index].createdAt)
            }
        }
    }

    /// For each incident, the time of its first act of a person: any journal entry but its
    /// creation (or import) and duplicate alerts, by anyone but automation: `automator` (the SLA, a playbook
    /// started or ended), `script` and `playbook …` (a run's own changes). See
    /// docs/ARCHITECTURE.md, "Reports". Its condition is the partial index
    /// `journal_person_acts`'s, word for word, so that SQLite reads the index alone, in order.
    private static let firstActsOfPersons = """
        SELECT incident, min(at) FROM journal
        WHERE incident BETWEEN ? AND ?
          AND kind NOT IN ('created', 'alert', 'imported') AND actor NOT IN ('automator', 'script')
          AND substr(actor, 1, 9) <> 'playbook '
        GROUP BY incident ORDER BY incident
        """

    /// Playbook runs (`RunEntry.playbook("run")`: not SLA hooks nor plain scripts) and tasks
    /// created in the window (not those cancelled with their incident: nobody was to do them);
    /// indicators last looked up in it; actions asked for in it, and those in force now.
    private static func tallyWork(_ db: Database, _ bounds: Bounds) throws -> ReportTally {
        var tally = ReportTally()
        let window: StatementArguments = [bounds.from, bounds.to]
        let runs = try Row.fetchCursor(db, sql: """
            SELECT coalesce(playbook, script), status FROM run
            WHERE entry = 'playbook:run' AND created_at >= ? AND created_at < ?
            """, arguments: window)
        while let row = try runs.next() { tally.run(playbook: row[0], status: row[1]) }
        let tasks = try Row.fetchCursor(db, sql: """
            SELECT owner, status, due_at FROM task WHERE created_at >= ? AND created_at < ? AND status <> 'cancelled'
            """, arguments: window)
        while let row = try tasks.next() {
            let open = row[1] as String == IncidentTask.Status.open.rawValue
            let due: Int64? = row[2]
            tally.task(owner: row[0], open: open, overdue: open && due.map { $0 < bounds.now } == true)
        }
        for row in try Row.fetchAll(db, sql: """
            SELECT score, count(*) FROM intel_seen WHERE last_seen >= ? AND last_seen < ? GROUP BY score
            """, arguments: window)
        {
            tally.verdict(score: row[0], count: row[1])
        }
        tally.indicators(try Row.fetchAll(db, sql: """
            SELECT type, value, score, summary, last_seen FROM intel_seen WHERE last_seen >= ? AND last_seen < ?
            ORDER BY score DESC, last_seen DESC, type, value LIMIT 10
            """, arguments: window).map { row in
            Report.TopIndicator(type: row[0], value: row[1], verdict: Score(rawValue: row[2])?.name ?? "unknown",
                                summary: row[3], lastSeen: Date(millisecondsSince1970: row[4]))
        })
        let actions = try Row.fetchCursor(db, sql: actionsOfWindow, arguments: [bounds.from, bounds.to])
        while let row = try actions.next() {
            tally.action(name: row[0], status: row[1], expired: row[2])
            guard let approver: String = row[3] else { continue }
            tally.approved(by: approver)
            if let waited: Int64 = row[4] { tally.approved(after: waited) }
        }
        let inForce = try Row.fetchCursor(db, sql: """
            SELECT name, expires_at IS NOT NULL, at FROM action WHERE status = 'done'
            """)
        while let row = try inForce.next() { tally.inForce(name: row[0], lifting: row[1], since: row[2]) }
        return tally
    }

    /// Each action asked for in the window: its name, status, whether automator undid it (its
    /// ttl), who approved it and, approved in chat, how long its question waited for the yes
    /// (`action.question`; a denied or timed-out action has its question too, and no approver:
    /// its wait is no time to approval). PostgreSQL's store asks the same.
    private static let actionsOfWindow = """
        SELECT name, status, coalesce(undone_by = 'automator', 0), approved_by,
               (SELECT answered_at - asked_at FROM chat_question WHERE id = action.question)
        FROM action WHERE at >= ? AND at < ?
        """
}
