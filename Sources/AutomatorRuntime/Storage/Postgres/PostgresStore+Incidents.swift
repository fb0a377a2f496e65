import Foundation
import PostgresNIO

/// Incidents, tasks and the journal in PostgreSQL: what `IncidentStore` asks, and the incident
/// writes applied inside the committer's transaction.
extension PostgresStore: IncidentStore {
    /// Serialises the journal's appends across workers: each entry's sequence and chain follow
    /// the last committed entry (`pg_advisory_xact_lock`, held until the commit).
    static let journalLock: Int64 = 0x4155_544F_0000_0002

    // MARK: Reading

    public func loadIncident(_ id: IncidentID) async throws(StoreError) -> Incident? {
        try await read { session in
            guard var incident = try await session.rows("\(unescaped: Self.selectIncident) WHERE number = \(id.number)").first
                .map(Self.incident(from:))
            else { return nil }
            incident.links = try await session.rows("""
                SELECT high FROM incident_link WHERE low = \(id.number)
                UNION SELECT low FROM incident_link WHERE high = \(id.number) ORDER BY 1
                """).map { IncidentID(try $0[0].decode(Int.self)) }
            return incident
        }
    }

    public func listIncidents(_ query: IncidentQuery) async throws(StoreError) -> [Incident] {
        var filter = PostgresFilter()
        if let statuses = query.statuses { filter.require("status = ANY(\(filter.parameter(statuses.map(\.rawValue))))") }
        if let severities = query.severities {
            filter.require("severity = ANY(\(filter.parameter(severities.map(\.rawValue))))")
        }
        for (column, value) in [("type", query.type), ("source", query.source), ("source_ref", query.sourceRef),
                                ("owner", query.owner)]
        {
            guard let value else { continue }
            filter.require("\(column) = \(filter.parameter(value))")
        }
        if let text = query.text {
            // ILIKE with `%`, `_` and `\` escaped, as SQLite's LIKE: literal and case-insensitive.
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            let pattern = filter.parameter("%" + escaped + "%")
            filter.require("(" + ["title", "details", "fields", "raw"].map { "\($0) ILIKE \(pattern)" }
                .joined(separator: " OR ") + ")")
        }
        if let indicator = query.indicator {
            filter.require("number IN (SELECT incident FROM incident_indicator WHERE value = \(filter.parameter(indicator)))")
        }
        if let since = query.createdSince { filter.require("created_at >= \(filter.parameter(since.millisecondsSince1970))") }
        if query.awaitingSLA { filter.require("sla_due_at IS NOT NULL AND sla_breached_at IS NULL AND closed_at IS NULL") }
        if let due = query.slaDueBefore { filter.require("sla_due_at < \(filter.parameter(due.millisecondsSince1970))") }
        if let states = query.slaStates {
            filter.require(SLAState.condition(states, now: filter.parameter((query.slaAt ?? Date()).millisecondsSince1970)))
        }
        let statement = filter.query(Self.selectIncident, order: query.awaitingSLA ? "sla_due_at" : "number DESC",
                                     limit: query.limit)
        return try await read { session in try await session.rows(statement).map(Self.incident(from:)) }
    }

    public func sighting(of indicator: String, except: IncidentID?) async throws(StoreError) -> Sighting? {
        try await read { session in
            guard let row = try await session.rows("""
                SELECT number, status, created_at, closed_at FROM incident_indicator
                JOIN incident ON number = incident
                WHERE value = \(indicator) AND incident <> \(except?.number ?? 0) ORDER BY incident DESC LIMIT 1
                """).first
            else { return nil }
            let number = try row[0].decode(Int.self), status = try row[1].decode(String.self)
            guard let known = Incident.Status(rawValue: status) else {
                throw StoreError.unknownValue(status, of: "incident INC-\(number)")
            }
            return Sighting(id: IncidentID(number), status: known, createdAt: try row.date(2)!, closedAt: try row.date(3))
        }
    }

    public func loadTask(_ id: TaskID) async throws(StoreError) -> IncidentTask? {
        try await read { session in
            try await session.rows("\(unescaped: Self.selectTask) WHERE number = \(id.number)").first.map(Self.task(from:))
        }
    }

    public func listTasks(_ query: TaskQuery) async throws(StoreError) -> [IncidentTask] {
        var filter = PostgresFilter()
        if let incident = query.incident { filter.require("incident = \(filter.parameter(incident.number))") }
        if let owner = query.owner { filter.require("owner = \(filter.parameter(owner))") }
        if let status = query.status { filter.require("status = \(filter.parameter(status.rawValue))") }
        if let dueBefore = query.dueBefore {
            filter.require("status = 'open' AND due_at < \(filter.parameter(dueBefore.millisecondsSince1970))")
        }
        if let dueAfter = query.dueAfter {
            let due = filter.parameter(dueAfter.due.millisecondsSince1970)
            if let task = dueAfter.task {
                filter.require("(due_at > \(due) OR (due_at = \(due) AND number > \(filter.parameter(task.number))))")
            } else {
                filter.require("due_at > \(due)")
            }
        }
        if let after = query.after { filter.require("number > \(filter.parameter(after.number))") }
        let order = query.after == nil ? "status <> 'open', due_at IS NULL, due_at, number" : "number"
        let statement = filter.query(Self.selectTask, order: order, limit: query.limit)
        return try await read { session in try await session.rows(statement).map(Self.task(from:)) }
    }

    public func journal(of incident: IncidentID, after: Int64, limit: Int, bytes: Int) async throws(StoreError)
        -> [JournalEntry]
    {
        try await read { session in
            // The bytes of the entries before each, from `octet_length`, which reads a large text's
            // stored length without fetching it: only the page's texts are read.
            try await session.rows("""
                SELECT sequence, at, actor, kind, text FROM (
                    SELECT sequence, at, actor, kind, text, sum(octet_length(text)) OVER (ORDER BY sequence ROWS
                        BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - octet_length(text) AS before
                    FROM journal WHERE incident = \(incident.number) AND sequence > \(after)
                    ORDER BY sequence LIMIT \(limit)
                ) page WHERE before < \(bytes) ORDER BY sequence
                """).map { row in
                JournalEntry(sequence: try row[0].decode(Int64.self), incident: incident, at: try row.date(1)!,
                             actor: try row[2].decode(String.self),
                             kind: JournalEntry.Kind(rawValue: try row[3].decode(String.self)) ?? .note,
                             text: try row[4].decode(String.self))
            }
        }
    }

    /// One `nextval` per number, not a block per worker: a round trip is little beside the
    /// incident's own writes, and numbers then follow the order incidents were opened in, whichever
    /// worker opened them (lists are newest first by number). A sequence never goes back: a number
    /// whose write fails is a gap (docs/ARCHITECTURE.md, "Numbers").
    public func takeNumber(_ kind: NumberedKind) async throws(StoreError) -> Int {
        try await read { session in
            try await session.rows("SELECT nextval('\(unescaped: kind.rawValue)_number')")[0][0].decode(Int.self)
        }
    }

    public func takeNumberNow(_ kind: NumberedKind) throws(StoreError) -> Int {
        try waitBlocking { [self] () async throws(StoreError) in try await takeNumber(kind) }
    }

    public func storedSourceRefs(_ refs: Set<SourceRef>) async throws(StoreError) -> Set<SourceRef> {
        guard !refs.isEmpty else { return [] }
        let (sources, ids) = (refs.map(\.source), refs.map(\.ref))
        return try await read { session in
            Set(try await session.rows("""
                SELECT source, source_ref FROM incident
                WHERE source_ref IS NOT NULL
                  AND (source, source_ref) IN (SELECT * FROM unnest(\(sources)::text[], \(ids)::text[]))
                """).map { SourceRef(source: try $0[0].decode(String.self), ref: try $0[1].decode(String.self)) })
        }
    }

    public func highestNumbers() async throws(StoreError) -> (incident: Int, task: Int) {
        try await read { session in
            let row = try await session.rows("""
                SELECT (SELECT coalesce(max(number), 0) FROM incident), (SELECT coalesce(max(number), 0) FROM task)
                """)[0]
            return (try row[0].decode(Int.self), try row[1].decode(Int.self))
        }
    }

    private static let selectIncident = """
        SELECT number, title, type, severity, status, owner, labels, fields, details, raw, source, source_ref,
               created_at, updated_at, closed_at, close_reason, playbook, run_id, sla_due_at, sla_breached_at,
               alert_count, resolution FROM incident
        """

    private static func incident(from row: PostgresRandomAccessRow) throws -> Incident {
        let number = try row[0].decode(Int.self)
        let severity = try row[3].decode(String.self), status = try row[4].decode(String.self)
        guard let knownSeverity = Incident.Severity(rawValue: severity),
              let knownStatus = Incident.Status(rawValue: status)
        else { throw StoreError.unknownValue("\(severity)/\(status)", of: "incident INC-\(number)") }
        let resolution = try row[21].decode(String?.self).map { name in
            guard let known = Incident.Resolution(rawValue: name) else {
                throw StoreError.unknownValue(name, of: "incident INC-\(number)")
            }
            return known
        }
        return Incident(id: IncidentID(number), title: try row[1].decode(String.self), type: try row[2].decode(String.self),
                        severity: knownSeverity, status: knownStatus, owner: try row[5].decode(String?.self),
                        labels: try StringList.decode(row[6].decode(String.self)), fields: try row[7].decode(String.self),
                        details: try row[8].decode(String.self), raw: try row[9].decode(String?.self),
                        source: try row[10].decode(String?.self), sourceRef: try row[11].decode(String?.self),
                        createdAt: try row.date(12)!, updatedAt: try row.date(13), closedAt: try row.date(14),
                        closeReason: try row[15].decode(String?.self), resolution: resolution,
                        playbook: try row[16].decode(String?.self),
                        runID: try row[17].decode(String?.self).map(RunID.init), slaDueAt: try row.date(18),
                        slaBreachedAt: try row.date(19), alertCount: try row[20].decode(Int.self))
    }

    private static let selectTask = """
        SELECT number, incident, run_id, title, owner, description, choices, due_at, status, answer, completed_by,
               created_at, completed_at FROM task
        """

    private static func task(from row: PostgresRandomAccessRow) throws -> IncidentTask {
        let number = try row[0].decode(Int.self)
        let status = try row[8].decode(String.self)
        guard let known = IncidentTask.Status(rawValue: status) else {
            throw StoreError.unknownValue(status, of: "task T-\(number)")
        }
        return IncidentTask(id: TaskID(number), incident: IncidentID(try row[1].decode(Int.self)),
                            runID: try row[2].decode(String?.self).map(RunID.init), title: try row[3].decode(String.self),
                            owner: try row[4].decode(String?.self), description: try row[5].decode(String.self),
                            choices: try StringList.decode(row[6].decode(String.self)), dueAt: try row.date(7),
                            status: known, answer: try row[9].decode(String?.self),
                            completedBy: try row[10].decode(String?.self), createdAt: try row.date(11)!,
                            completedAt: try row.date(12))
    }

    // MARK: Writing

    /// Notes that the incident mentions `indicators` (`IncidentQuery.indicator`), in one statement.
    static func index(_ indicators: Set<String>, of incident: IncidentID, in session: PostgresSession) async throws {
        guard !indicators.isEmpty else { return }
        try await session.changes("""
            INSERT INTO incident_indicator (value, incident)
            SELECT unnest(\(indicators.sorted())::text[]), \(incident.number) ON CONFLICT DO NOTHING
            """)
    }

    static func applyIncidentWrite(_ write: StoreWrite, to session: PostgresSession) async throws -> StoreError? {
        switch write {
        case .createIncident(let incident):
            let inserted = try await session.changes("""
                INSERT INTO incident (number, title, type, severity, status, owner, labels, fields, details, raw, source,
                                      source_ref, created_at, updated_at, closed_at, close_reason, playbook, run_id,
                                      sla_due_at, sla_breached_at, alert_count, resolution)
                VALUES (\(incident.id.number), \(incident.title), \(incident.type), \(incident.severity.rawValue),
                        \(incident.status.rawValue), \(incident.owner), \(StringList.encode(incident.labels)),
                        \(incident.fields), \(incident.details), \(incident.raw), \(incident.source),
                        \(incident.sourceRef), \(incident.createdAt.millisecondsSince1970),
                        \(incident.updatedAt.millisecondsSince1970), \(incident.closedAt?.millisecondsSince1970),
                        \(incident.closeReason), \(incident.playbook), \(incident.runID?.rawValue),
                        \(incident.slaDueAt?.millisecondsSince1970), \(incident.slaBreachedAt?.millisecondsSince1970),
                        \(incident.alertCount), \(incident.resolution?.rawValue))
                ON CONFLICT (number) DO NOTHING
                """)
            if inserted == 0 { return .duplicateIncident(incident.id) }
            try await index(IncidentIndicators.of(incident), of: incident.id, in: session)
        case .importIncident(let incident, let entries):
            // Under the journal's lock (`appendsJournal`), taken before this statement: another
            // worker's import of the same incident committed before it, or waits until this
            // transaction commits; read committed, this statement sees the one before.
            let source = incident.source ?? "", ref = incident.sourceRef ?? ""
            let there = try await session.rows("""
                SELECT 1 FROM incident WHERE source = \(source) AND source_ref = \(ref) LIMIT 1
                """)
            if !there.isEmpty { return .alreadyImported(source: source, ref: ref) }
            return try await apply(.all([.createIncident(incident), .appendJournal(entries)]), to: session)
        case .updateIncident(let change):
            let closing = change.status == .closed
            let changed = try await session.changes("""
                UPDATE incident SET
                    title = coalesce(\(change.title), title), type = coalesce(\(change.type), type),
                    severity = coalesce(\(change.severity?.rawValue), severity),
                    status = coalesce(\(change.status?.rawValue), status),
                    closed_at = CASE WHEN \(closing) THEN \(change.at.millisecondsSince1970)
                                     WHEN \(change.status?.rawValue)::text IS NOT NULL THEN NULL ELSE closed_at END,
                    close_reason = CASE WHEN \(closing) THEN \(change.closeReason)
                                        WHEN \(change.status?.rawValue)::text IS NOT NULL THEN NULL ELSE close_reason END,
                    resolution = CASE WHEN \(closing) THEN \(change.resolution?.rawValue)
                                      WHEN \(change.status?.rawValue)::text IS NOT NULL THEN NULL ELSE resolution END,
                    owner = CASE WHEN \(change.owner != nil) THEN \(change.owner ?? nil) ELSE owner END,
                    labels = coalesce(\(change.labels.map(StringList.encode)), labels),
                    fields = CASE WHEN \(change.fieldsPatch)::text IS NULL THEN fields
                                  ELSE automator_merge_patch(fields::jsonb, \(change.fieldsPatch)::jsonb)::text END,
                    details = coalesce(\(change.details), details), playbook = coalesce(\(change.playbook), playbook),
                    run_id = coalesce(\(change.runID?.rawValue), run_id),
                    sla_due_at = coalesce(\(change.slaDueAt?.millisecondsSince1970), sla_due_at),
                    sla_breached_at = coalesce(\(change.slaBreachedAt?.millisecondsSince1970), sla_breached_at),
                    alert_count = alert_count + \(change.addsAlert ? 1 : 0),
                    updated_at = \(change.at.millisecondsSince1970)
                WHERE number = \(change.id.number)
                  AND (\(change.slaBreachedAt == nil) OR (sla_breached_at IS NULL AND closed_at IS NULL))
                  AND NOT (\(closing) AND status = 'closed')
                """)
            if changed == 0 {
                guard try await exists(change.id, in: session) else { return .incidentNotFound(change.id) }
                return closing ? .closedAlready(change.id) : .slaHandled(change.id)
            }
            try await index(IncidentIndicators.of(change), of: change.id, in: session)
        case .linkIncidents(let first, let second):
            for id in [first, second] where try await !exists(id, in: session) { return .incidentNotFound(id) }
            guard first != second else { return nil }
            try await session.changes("""
                INSERT INTO incident_link (low, high) VALUES (\(min(first, second).number), \(max(first, second).number))
                ON CONFLICT DO NOTHING
                """)
        case .createTask(let task):
            guard try await exists(task.incident, in: session) else { return .incidentNotFound(task.incident) }
            let inserted = try await session.changes("""
                INSERT INTO task (number, incident, run_id, title, owner, description, choices, due_at, status, answer,
                                  completed_by, created_at, completed_at)
                VALUES (\(task.id.number), \(task.incident.number), \(task.runID?.rawValue), \(task.title), \(task.owner),
                        \(task.description), \(StringList.encode(task.choices)), \(task.dueAt?.millisecondsSince1970),
                        \(task.status.rawValue), \(task.answer), \(task.completedBy),
                        \(task.createdAt.millisecondsSince1970), \(task.completedAt?.millisecondsSince1970))
                ON CONFLICT (number) DO NOTHING
                """)
            if inserted == 0 { return .duplicateTask(task.id) }
        case .completeTask(let id, let answer, let by, let at):
            let changed = try await session.changes("""
                UPDATE task SET status = 'done', answer = \(answer), completed_by = \(by),
                                completed_at = \(at.millisecondsSince1970)
                WHERE number = \(id.number) AND status = 'open'
                """)
            if changed == 0 {
                let known = try await session.rows("SELECT 1 FROM task WHERE number = \(id.number)")
                return known.isEmpty ? .taskNotFound(id) : .taskAlreadyDone(id)
            }
            try await notify(.taskEnded(id), in: session)
        case .assignTask(let id, let owner):
            let changed = try await session.changes("""
                UPDATE task SET owner = \(owner) WHERE number = \(id.number) AND status = 'open'
                """)
            if changed == 0 {
                let known = try await session.rows("SELECT 1 FROM task WHERE number = \(id.number)")
                return known.isEmpty ? .taskNotFound(id) : .taskAlreadyDone(id)
            }
        case .cancelOpenTasks(let cancellation, let by, let at):
            let (column, value): (String, any PostgresEncodable & Sendable) = switch cancellation {
            case .incidentClosed(let id): ("incident", id.number)
            case .runKilled(let run): ("run_id", run.rawValue)
            }
            var cancelled = try await session.rows("""
                UPDATE task SET status = 'cancelled', completed_by = \(by), completed_at = \(at.millisecondsSince1970)
                WHERE \(unescaped: column) = \(value) AND status = 'open'
                RETURNING number, title, incident
                """).map { (TaskID(try $0[0].decode(Int.self)), try $0[1].decode(String.self), IncidentID(try $0[2].decode(Int.self))) }
            // The open questions of a killed run or a closed incident (its runs', and those asked for
            // it by a run of none: a war room's !action) too: an approval must not be given, in chat
            // or anywhere, for work nobody does any more.
            let (answer, answered) = (ChatQuestionRecord.cancelled, at.millisecondsSince1970)
            let returning = "RETURNING q.id, q.text, COALESCE(q.incident, (SELECT incident FROM run WHERE run.id = q.run_id)), "
                + "q.asked_at"
            let rows = switch cancellation {
            case .incidentClosed(let id):
                try await session.rows("""
                    UPDATE chat_question q SET answer = \(answer), answered_by = \(by), answered_at = \(answered)
                    WHERE q.answer IS NULL
                      AND (q.run_id IN (SELECT id FROM run WHERE incident = \(id.number)) OR q.incident = \(id.number))
                    \(unescaped: returning)
                    """)
            case .runKilled(let run):
                try await session.rows("""
                    UPDATE chat_question q SET answer = \(answer), answered_by = \(by), answered_at = \(answered)
                    WHERE q.answer IS NULL AND q.run_id = \(run.rawValue)
                    \(unescaped: returning)
                    """)
            }
            let questions = try rows.map { (try $0[0].decode(String.self), try $0[1].decode(String.self),
                                            try $0[2].decode(Int?.self), try $0[3].decode(Int64.self)) }
                .sorted { ($0.3, $0.0) < ($1.3, $1.0) }
            guard !cancelled.isEmpty || !questions.isEmpty else { return nil }
            cancelled.sort { $0.0.number < $1.0.number }
            for (task, _, _) in cancelled { try await notify(.taskEnded(task), in: session) }
            return try await applyIncidentWrite(.appendJournal(cancelled.map {
                JournalEntry.cancelled($0, title: $1, of: $2, because: cancellation, by: by, at: at)
            } + questions.compactMap { id, text, incident, _ in
                incident.map { JournalEntry.cancelled(question: id, text: text, of: IncidentID($0), because: cancellation,
                                                      by: by, at: at) }
            }), to: session)
        case .appendJournal(let entries):
            for incident in Set(entries.map(\.incident)) where try await !exists(incident, in: session) {
                return .incidentNotFound(incident)
            }
            for var entry in entries { try await append(&entry, to: session) }
        case .createRun, .updateRun, .appendHostCalls, .restartRun, .askToKill, .cacheVerdicts, .noteIndicator, .all,
             .setChatChannel, .setChatState, .keepEditedText, .openCommandConversation, .askQuestion, .questionPosted,
             .answerQuestion,
             .addCheckpoint, .addEvidence, .noteCustody, .recordAction, .finishAction, .undoAction:
            return try await apply(write, to: session)
        }
        return nil
    }

    /// Appends an entry with the next sequence and its place in the hash chains (`JournalChain`),
    /// under the journal's lock (taken by `apply(_:to:)` for the batch): every worker appends to
    /// the one chain.
    private static func append(_ entry: inout JournalEntry, to session: PostgresSession) async throws {
        let incident = entry.incident.number
        let tip: (sequence: Int64, chain: JournalHash)
        if let known = session.journalTip {
            tip = known
        } else {
            let last = try await session.rows("SELECT sequence, chain FROM journal ORDER BY sequence DESC LIMIT 1").first
            tip = (try last?[0].decode(Int64.self) ?? 0, try last?.data(1).flatMap(JournalHash.init) ?? .origin)
        }
        let previousHash: JournalHash
        if let known = session.journalHeads[incident] {
            previousHash = known
        } else {
            previousHash = try await session.rows("""
                SELECT hash FROM journal WHERE incident = \(incident) ORDER BY sequence DESC LIMIT 1
                """).first?.data(0).flatMap(JournalHash.init) ?? .origin
        }
        entry.sequence = tip.sequence + 1
        let hash = JournalChain.hash(of: entry, after: previousHash)
        let chain = JournalChain.chain(Array(hash.data), after: tip.chain)
        try await session.changes("""
            INSERT INTO journal (sequence, incident, at, actor, kind, text, hash, chain)
            VALUES (\(entry.sequence), \(incident), \(entry.at.millisecondsSince1970), \(entry.actor),
                    \(entry.kind.rawValue), \(entry.text), \(hash.data.buffer), \(chain.data.buffer))
            """)
        // Only once the insert has succeeded.
        session.journalTip = (entry.sequence, chain)
        session.journalHeads[incident] = hash
    }

    private static func exists(_ id: IncidentID, in session: PostgresSession) async throws -> Bool {
        try await !session.rows("SELECT 1 FROM incident WHERE number = \(id.number)").isEmpty
    }
}
