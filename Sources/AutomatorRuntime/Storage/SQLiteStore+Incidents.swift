import Foundation
import GRDB

/// Incidents, tasks and the journal in SQLite: what `IncidentStore` asks, and the incident
/// writes applied inside the group committer's transaction.
extension SQLiteStore: IncidentStore {
    // MARK: Reading

    public func loadIncident(_ id: IncidentID) async throws(StoreError) -> Incident? {
        try await read { db in
            guard var incident = try Row.fetchOne(db.cachedStatement(sql: Self.selectIncident + " WHERE number = ?"),
                                                  arguments: [id.number]).map(Self.incident(from:))
            else { return nil }
            incident.links = try Int.fetchAll(db.cachedStatement(sql: """
                SELECT high FROM incident_link WHERE low = ? UNION SELECT low FROM incident_link WHERE high = ?
                ORDER BY 1
                """), arguments: [id.number, id.number]).map(IncidentID.init)
            return incident
        }
    }

    public func listIncidents(_ query: IncidentQuery) async throws(StoreError) -> [Incident] {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        func `in`(_ column: String, _ values: [String]) {
            conditions.append("\(column) IN (\(Array(repeating: "?", count: values.count).joined(separator: ", ")))")
            arguments += values.map { $0 }
        }
        if let statuses = query.statuses { `in`("status", statuses.map(\.rawValue)) }
        if let severities = query.severities { `in`("severity", severities.map(\.rawValue)) }
        for (column, value) in [("type", query.type), ("source", query.source), ("source_ref", query.sourceRef),
                                ("owner", query.owner)]
        {
            guard let value else { continue }
            conditions.append("\(column) = ?")
            arguments.append(value)
        }
        if let text = query.text {
            // LIKE with `%`, `_` and `\` escaped (a `%` in an indicator is no wildcard): as
            // case-insensitive as `instr(lower(…))` (both fold ASCII only), without copying four
            // columns of every incident per query. It made the chat bot's `findings.seen` 3x
            // cheaper with 1,000 incidents.
            let escaped = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            conditions.append("""
                (title LIKE ?1 ESCAPE '\\' OR details LIKE ?1 ESCAPE '\\' OR fields LIKE ?1 ESCAPE '\\'
                 OR raw LIKE ?1 ESCAPE '\\')
                """.replacingOccurrences(of: "?1", with: "?\(arguments.count + 1)"))
            arguments.append("%" + escaped + "%")
        }
        if let indicator = query.indicator {
            conditions.append("number IN (SELECT incident FROM incident_indicator WHERE value = ?)")
            arguments.append(indicator)
        }
        if let since = query.createdSince {
            conditions.append("created_at >= ?")
            arguments.append(since.millisecondsSince1970)
        }
        if query.awaitingSLA {
            conditions.append("sla_due_at IS NOT NULL AND sla_breached_at IS NULL AND closed_at IS NULL")
        }
        if let due = query.slaDueBefore {
            conditions.append("sla_due_at < ?")
            arguments.append(due.millisecondsSince1970)
        }
        if let states = query.slaStates {
            // Named: `met` alone does not read the time, and an unread positional value is refused.
            conditions.append(SLAState.condition(states, now: ":sla_now"))
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        let order = query.awaitingSLA ? " ORDER BY sla_due_at" : " ORDER BY number DESC"
        arguments.append(query.limit)
        let sql = Self.selectIncident + filter + order + " LIMIT ?"
        let values = StatementArguments(arguments)
            + (query.slaStates == nil ? [:] : ["sla_now": (query.slaAt ?? Date()).millisecondsSince1970])
        return try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: values).map(Self.incident(from:))
        }
    }

    public func loadTask(_ id: TaskID) async throws(StoreError) -> IncidentTask? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: Self.selectTask + " WHERE number = ?"), arguments: [id.number])
                .map(Self.task(from:))
        }
    }

    public func listTasks(_ query: TaskQuery) async throws(StoreError) -> [IncidentTask] {
        var conditions: [String] = []
        var arguments: [(any DatabaseValueConvertible)?] = []
        if let incident = query.incident {
            conditions.append("incident = ?")
            arguments.append(incident.number)
        }
        if let owner = query.owner {
            conditions.append("owner = ?")
            arguments.append(owner)
        }
        if let status = query.status {
            conditions.append("status = ?")
            arguments.append(status.rawValue)
        }
        if let dueBefore = query.dueBefore {
            conditions.append("status = 'open' AND due_at < ?")
            arguments.append(dueBefore.millisecondsSince1970)
        }
        if let dueAfter = query.dueAfter {
            let due = dueAfter.due.millisecondsSince1970
            if let task = dueAfter.task {
                conditions.append("(due_at > ? OR (due_at = ? AND number > ?))")
                arguments += [due, due, task.number]
            } else {
                conditions.append("due_at > ?")
                arguments.append(due)
            }
        }
        if let after = query.after {
            conditions.append("number > ?")
            arguments.append(after.number)
        }
        let filter = conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
        arguments.append(query.limit)
        let sql = Self.selectTask + filter
            + (query.after == nil ? " ORDER BY status <> 'open', due_at IS NULL, due_at, number LIMIT ?" : " ORDER BY number LIMIT ?")
        let values = StatementArguments(arguments)
        return try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: sql), arguments: values).map(Self.task(from:))
        }
    }

    /// An entry as stored, from a row of `sequence, incident, at, actor, kind, text`.
    static func storedEntry(_ row: Row) throws -> JournalChain.Stored {
        JournalChain.Stored(sequence: try row.decode(atIndex: 0), incident: try row.decode(atIndex: 1),
                            at: try row.decode(atIndex: 2), actor: try row.decode(atIndex: 3),
                            kind: try row.decode(atIndex: 4), text: try row.decode(atIndex: 5))
    }

    public func journal(of incident: IncidentID, after: Int64, limit: Int, bytes: Int) async throws(StoreError)
        -> [JournalEntry]
    {
        try await read { db in
            // A cursor, so that the rows past the page's bytes are never read.
            let rows = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT sequence, at, actor, kind, text FROM journal WHERE incident = ? AND sequence > ?
                ORDER BY sequence LIMIT ?
                """), arguments: [incident.number, after, limit])
            var entries: [JournalEntry] = []
            var size = 0
            while size < bytes, let row = try rows.next() {
                let kind: String = try row.decode(atIndex: 3)
                let entry = JournalEntry(sequence: try row.decode(atIndex: 0), incident: incident,
                                         at: Date(millisecondsSince1970: try row.decode(atIndex: 1)),
                                         actor: try row.decode(atIndex: 2), kind: JournalEntry.Kind(rawValue: kind) ?? .note,
                                         text: try row.decode(atIndex: 4))
                size += entry.text.utf8.count
                entries.append(entry)
            }
            return entries
        }
    }

    public func storedSourceRefs(_ refs: Set<SourceRef>) async throws(StoreError) -> Set<SourceRef> {
        let bySource = Dictionary(grouping: refs, by: \.source)
        return try await read { db in
            var stored: Set<SourceRef> = []
            for (source, refs) in bySource {
                // One source at a time, `source_ref IN (…)`: SQLite searches the partial index
                // `incident_by_source_ref` for that, where `(source, source_ref) IN (VALUES …)`
                // scanned the table.
                let statement = try db.cachedStatement(sql: """
                    SELECT source_ref FROM incident
                    WHERE source = ? AND source_ref IN (\(Array(repeating: "?", count: refs.count).joined(separator: ", ")))
                    """)
                for ref in try String.fetchAll(statement, arguments: StatementArguments([source] + refs.map(\.ref))) {
                    stored.insert(SourceRef(source: source, ref: ref))
                }
            }
            return stored
        }
    }

    public func highestNumbers() async throws(StoreError) -> (incident: Int, task: Int) {
        try await read { try Self.highestNumbers(in: $0) }
    }

    static func highestNumbers(in db: Database) throws -> (incident: Int, task: Int) {
        (try Int.fetchOne(db, sql: "SELECT ifnull(max(number), 0) FROM incident") ?? 0,
         try Int.fetchOne(db, sql: "SELECT ifnull(max(number), 0) FROM task") ?? 0)
    }

    /// Counted here, on from the highest stored at opening and the last given by any process on the
    /// file (several commands on a folder with no server). A write that does not commit gives its
    /// numbers back (`NumberCounters`).
    public func takeNumber(_ kind: NumberedKind) async throws(StoreError) -> Int { try numbers.take(kind) }

    public func takeNumberNow(_ kind: NumberedKind) throws(StoreError) -> Int { try numbers.take(kind) }

    private static let selectIncident = """
        SELECT number, title, type, severity, status, owner, labels, fields, details, raw, source, source_ref,
               created_at, updated_at, closed_at, close_reason, playbook, run_id, sla_due_at, sla_breached_at,
               alert_count, resolution FROM incident
        """

    private static func incident(from row: Row) throws -> Incident {
        let number: Int = try row.decode(atIndex: 0)
        let severity: String = try row.decode(atIndex: 3)
        let status: String = try row.decode(atIndex: 4)
        let resolution: String? = try row.decode(atIndex: 21)
        guard let knownSeverity = Incident.Severity(rawValue: severity),
              let knownStatus = Incident.Status(rawValue: status)
        else { throw StoreError.unknownValue("\(severity)/\(status)", of: "incident INC-\(number)") }
        let knownResolution = try resolution.map { name in
            guard let known = Incident.Resolution(rawValue: name) else {
                throw StoreError.unknownValue(name, of: "incident INC-\(number)")
            }
            return known
        }
        func date(_ index: Int) throws -> Date? {
            (try row.decode(Int64?.self, atIndex: index)).map(Date.init(millisecondsSince1970:))
        }
        return Incident(id: IncidentID(number), title: try row.decode(atIndex: 1), type: try row.decode(atIndex: 2),
                        severity: knownSeverity, status: knownStatus, owner: try row.decode(atIndex: 5),
                        labels: try StringList.decode(row.decode(atIndex: 6)), fields: try row.decode(atIndex: 7),
                        details: try row.decode(atIndex: 8), raw: try row.decode(atIndex: 9),
                        source: try row.decode(atIndex: 10), sourceRef: try row.decode(atIndex: 11),
                        createdAt: try date(12)!, updatedAt: try date(13), closedAt: try date(14),
                        closeReason: try row.decode(atIndex: 15), resolution: knownResolution,
                        playbook: try row.decode(atIndex: 16),
                        runID: (try row.decode(String?.self, atIndex: 17)).map(RunID.init),
                        slaDueAt: try date(18), slaBreachedAt: try date(19), alertCount: try row.decode(atIndex: 20))
    }

    private static let selectTask = """
        SELECT number, incident, run_id, title, owner, description, choices, due_at, status, answer, completed_by,
               created_at, completed_at FROM task
        """

    private static func task(from row: Row) throws -> IncidentTask {
        let number: Int = try row.decode(atIndex: 0)
        let status: String = try row.decode(atIndex: 8)
        guard let known = IncidentTask.Status(rawValue: status) else {
            throw StoreError.unknownValue(status, of: "task T-\(number)")
        }
        func date(_ index: Int) throws -> Date? {
            (try row.decode(Int64?.self, atIndex: index)).map(Date.init(millisecondsSince1970:))
        }
        return IncidentTask(id: TaskID(number), incident: IncidentID(try row.decode(atIndex: 1)),
                            runID: (try row.decode(String?.self, atIndex: 2)).map(RunID.init),
                            title: try row.decode(atIndex: 3), owner: try row.decode(atIndex: 4),
                            description: try row.decode(atIndex: 5), choices: try StringList.decode(row.decode(atIndex: 6)),
                            dueAt: try date(7), status: known, answer: try row.decode(atIndex: 9),
                            completedBy: try row.decode(atIndex: 10), createdAt: try date(11)!,
                            completedAt: try date(12))
    }

    // MARK: Writing

    static func applyIncidentWrite(_ write: StoreWrite, to db: Database, journal: JournalTip) throws -> StoreError? {
        switch write {
        case .createIncident(let incident):
            do {
                try db.cachedStatement(sql: """
                    INSERT INTO incident (number, title, type, severity, status, owner, labels, fields, details, raw,
                                          source, source_ref, created_at, updated_at, closed_at, close_reason,
                                          playbook, run_id, sla_due_at, sla_breached_at, alert_count, resolution)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                        incident.id.number, incident.title, incident.type, incident.severity.rawValue,
                        incident.status.rawValue, incident.owner, StringList.encode(incident.labels), incident.fields,
                        incident.details, incident.raw, incident.source, incident.sourceRef,
                        incident.createdAt.millisecondsSince1970, incident.updatedAt.millisecondsSince1970,
                        incident.closedAt?.millisecondsSince1970, incident.closeReason, incident.playbook,
                        incident.runID?.rawValue, incident.slaDueAt?.millisecondsSince1970,
                        incident.slaBreachedAt?.millisecondsSince1970, incident.alertCount,
                        incident.resolution?.rawValue,
                    ])
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                return .duplicateIncident(incident.id)
            }
            try index(IncidentIndicators.of(incident), of: incident.id, in: db)
        case .importIncident(var incident, var entries):
            // In the committer's transaction, which holds the file's write lock (BEGIN IMMEDIATE):
            // no other write, of this process or another on the file, comes between the checks
            // and the insert.
            let source = incident.source ?? "", ref = incident.sourceRef ?? ""
            let there = try Bool.fetchOne(db.cachedStatement(sql: """
                SELECT EXISTS (SELECT 1 FROM incident WHERE source = ? AND source_ref = ?)
                """), arguments: [source, ref])
            if there == true { return .alreadyImported(source: source, ref: ref) }
            // Two imports at once with no server are two processes on the file, each counting
            // numbers from what it found at opening: the one that writes second takes the next
            // number free, which no other write holds (nothing refers to an import's number yet).
            let taken = try Bool.fetchOne(db.cachedStatement(sql: """
                SELECT EXISTS (SELECT 1 FROM incident WHERE number = ?)
                """), arguments: [incident.id.number])
            if taken == true {
                let free = try Int.fetchOne(db.cachedStatement(sql: "SELECT max(number) + 1 FROM incident"))
                incident.id = IncidentID(free ?? incident.id.number)
                for index in entries.indices { entries[index].incident = incident.id }
            }
            return try apply(.all([.createIncident(incident), .appendJournal(entries)]), to: db, journal: journal)
        case .updateIncident(let change):
            let closing = change.status == .closed
            try db.cachedStatement(sql: """
                UPDATE incident SET
                    title = ifnull(?, title), type = ifnull(?, type), severity = ifnull(?, severity),
                    status = ifnull(?, status),
                    closed_at = CASE WHEN ? THEN ? WHEN ? IS NOT NULL THEN NULL ELSE closed_at END,
                    close_reason = CASE WHEN ? THEN ? WHEN ? IS NOT NULL THEN NULL ELSE close_reason END,
                    resolution = CASE WHEN ? THEN ? WHEN ? IS NOT NULL THEN NULL ELSE resolution END,
                    owner = CASE WHEN ? THEN ? ELSE owner END,
                    labels = ifnull(?, labels), fields = CASE WHEN ? IS NULL THEN fields ELSE json_patch(fields, ?) END,
                    details = ifnull(?, details), playbook = ifnull(?, playbook), run_id = ifnull(?, run_id),
                    sla_due_at = ifnull(?, sla_due_at), sla_breached_at = ifnull(?, sla_breached_at),
                    alert_count = alert_count + ?, updated_at = ?
                WHERE number = ? AND (? OR (sla_breached_at IS NULL AND closed_at IS NULL))
                  AND NOT (? AND status = 'closed')
                """).execute(arguments: [
                    change.title, change.type, change.severity?.rawValue, change.status?.rawValue,
                    closing, change.at.millisecondsSince1970, change.status?.rawValue,
                    closing, change.closeReason, change.status?.rawValue,
                    closing, change.resolution?.rawValue, change.status?.rawValue,
                    change.owner != nil, change.owner ?? nil,
                    change.labels.map(StringList.encode), change.fieldsPatch, change.fieldsPatch,
                    change.details, change.playbook, change.runID?.rawValue,
                    change.slaDueAt?.millisecondsSince1970, change.slaBreachedAt?.millisecondsSince1970,
                    change.addsAlert ? 1 : 0, change.at.millisecondsSince1970, change.id.number,
                    change.slaBreachedAt == nil, closing,
                ])
            if db.changesCount == 0 {
                guard try exists(change.id, in: db) else { return .incidentNotFound(change.id) }
                return closing ? .closedAlready(change.id) : .slaHandled(change.id)
            }
            try index(IncidentIndicators.of(change), of: change.id, in: db)
        case .linkIncidents(let first, let second):
            for id in [first, second] where try !exists(id, in: db) { return .incidentNotFound(id) }
            guard first != second else { return nil }
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO incident_link (low, high) VALUES (?, ?)")
                .execute(arguments: [min(first, second).number, max(first, second).number])
        case .createTask(let task):
            guard try exists(task.incident, in: db) else { return .incidentNotFound(task.incident) }
            do {
                try db.cachedStatement(sql: """
                    INSERT INTO task (number, incident, run_id, title, owner, description, choices, due_at, status,
                                      answer, completed_by, created_at, completed_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                        task.id.number, task.incident.number, task.runID?.rawValue, task.title, task.owner,
                        task.description, StringList.encode(task.choices), task.dueAt?.millisecondsSince1970, task.status.rawValue,
                        task.answer, task.completedBy, task.createdAt.millisecondsSince1970,
                        task.completedAt?.millisecondsSince1970,
                    ])
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                return .duplicateTask(task.id)
            }
        case .completeTask(let id, let answer, let by, let at):
            try db.cachedStatement(sql: """
                UPDATE task SET status = 'done', answer = ?, completed_by = ?, completed_at = ?
                WHERE number = ? AND status = 'open'
                """).execute(arguments: [answer, by, at.millisecondsSince1970, id.number])
            if db.changesCount == 0 {
                let known = try Int.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM task WHERE number = ?"),
                                             arguments: [id.number])
                return known == nil ? .taskNotFound(id) : .taskAlreadyDone(id)
            }
        case .assignTask(let id, let owner):
            try db.cachedStatement(sql: "UPDATE task SET owner = ? WHERE number = ? AND status = 'open'")
                .execute(arguments: [owner, id.number])
            if db.changesCount == 0 {
                let known = try Int.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM task WHERE number = ?"),
                                             arguments: [id.number])
                return known == nil ? .taskNotFound(id) : .taskAlreadyDone(id)
            }
        case .cancelOpenTasks(let cancellation, let by, let at):
            let (column, value): (String, any DatabaseValueConvertible) = switch cancellation {
            case .incidentClosed(let id): ("incident", id.number)
            case .runKilled(let run): ("run_id", run.rawValue)
            }
            let open = try Row.fetchAll(db.cachedStatement(sql: """
                SELECT number, title, incident FROM task WHERE \(column) = ? AND status = 'open' ORDER BY number
                """), arguments: [value])
            let questions = try cancelOpenQuestions(cancellation, by: by, at: at, in: db)
            guard !open.isEmpty || !questions.isEmpty else { return nil }
            try db.cachedStatement(sql: """
                UPDATE task SET status = 'cancelled', completed_by = ?, completed_at = ?
                WHERE \(column) = ? AND status = 'open'
                """).execute(arguments: [by, at.millisecondsSince1970, value])
            let entries = open.map {
                JournalEntry.cancelled(TaskID($0[0]), title: $0[1], of: IncidentID($0[2] as Int), because: cancellation, by: by, at: at)
            } + questions
            return try applyIncidentWrite(.appendJournal(entries), to: db, journal: journal)
        case .appendJournal(let entries):
            // The foreign key refuses an entry for an unknown incident: no query to check first
            // (every change of a playbook writes one).
            var current = entries.first
            do {
                try inSavepoint(db, journal: journal, if: entries.count > 1) {
                    for var entry in entries {
                        current = entry
                        try journal.append(&entry, to: db)
                    }
                    return true
                }
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
                return .incidentNotFound(current?.incident ?? IncidentID(0))
            }
        case .createRun, .updateRun, .appendHostCalls, .restartRun, .askToKill, .cacheVerdicts, .noteIndicator, .all,
             .setChatChannel, .setChatState, .keepEditedText, .openCommandConversation, .askQuestion, .questionPosted,
             .answerQuestion,
             .addCheckpoint, .addEvidence, .noteCustody, .recordAction, .finishAction, .undoAction:
            return try apply(write, to: db, journal: journal)
        }
        return nil
    }

    /// Notes that the incident mentions `indicators` (`IncidentQuery.indicator`).
    static func index(_ indicators: Set<String>, of incident: IncidentID, in db: Database) throws {
        for value in indicators {
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO incident_indicator (value, incident) VALUES (?, ?)")
                .execute(arguments: [value, incident.number])
        }
    }

    /// Answers `cancelled` the open questions of a killed run, or of a closed incident (its runs',
    /// and those asked for it by a run of none: a war room's `!action`): an approval must not be
    /// given, in chat or anywhere, for work nobody does any more. Returns the journal entries of
    /// those asked on an incident.
    private static func cancelOpenQuestions(_ cancellation: TaskCancellation, by: String, at: Date,
                                            in db: Database) throws -> [JournalEntry]
    {
        let (scope, value): (String, any DatabaseValueConvertible) = switch cancellation {
        case .incidentClosed(let id): ("incident = ?", id.number)
        case .runKilled(let run): ("id = ?", run.rawValue)
        }
        let runs = "run_id IN (SELECT id FROM run WHERE \(scope))"
        let (asked, values): (String, StatementArguments) = switch cancellation {
        case .incidentClosed: ("(\(runs) OR chat_question.incident = ?)", [value, value])
        case .runKilled: (runs, [value])
        }
        // Cached: every close asks, and compiling the join cost 4% of an incident's CPU.
        let open = try Row.fetchAll(db.cachedStatement(sql: """
            SELECT chat_question.id, text, COALESCE(chat_question.incident, run.incident) FROM chat_question
            LEFT JOIN run ON run.id = run_id
            WHERE answer IS NULL AND \(asked) ORDER BY asked_at, chat_question.id
            """), arguments: values)
        guard !open.isEmpty else { return [] }
        try db.execute(sql: "UPDATE chat_question SET answer = ?, answered_by = ?, answered_at = ? WHERE answer IS NULL AND \(asked)",
                       arguments: [ChatQuestionRecord.cancelled, by, at.millisecondsSince1970] + values)
        return open.compactMap { row in
            (row[2] as Int?).map { JournalEntry.cancelled(question: row[0], text: row[1], of: IncidentID($0),
                                                          because: cancellation, by: by, at: at) }
        }
    }

    static func exists(_ id: IncidentID, in db: Database) throws -> Bool {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM incident WHERE number = ?"), arguments: [id.number]) != nil
    }
}

