import AutomatorRuntime
import Foundation
import Testing

/// What every `IncidentStore` must do for the incident service, written against the protocol
/// alone, like `StoreConformance`, so that the PostgreSQL store runs the same checks.
struct IncidentStoreConformance {
    enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case incidentRoundTrip, targetedChanges, links, tasks, cancelledTasks, cancelledQuestions, questionIncidents, journal, chains, queries, indicators,
             sightings, refusals, togetherOrNot, slaBreachedOnce, journalAfterRefusals, journalPages, slaStates

        var testDescription: String { rawValue }
    }

    let open: @Sendable () async throws -> any JournalStore

    func run(_ check: Check) async throws {
        let store = try await open()
        switch check {
        case .incidentRoundTrip: try await incidentRoundTrip(store)
        case .targetedChanges: try await targetedChanges(store)
        case .links: try await links(store)
        case .tasks: try await tasks(store)
        case .cancelledTasks: try await cancelledTasks(store)
        case .cancelledQuestions: try await cancelledQuestions(store)
        case .questionIncidents: try await questionIncidents(store)
        case .journal: try await journal(store)
        case .chains: try await chains(store)
        case .queries: try await queries(store)
        case .indicators: try await indicators(store)
        case .sightings: try await sightings(store)
        case .refusals: try await refusals(store)
        case .togetherOrNot: try await togetherOrNot(store)
        case .slaBreachedOnce: try await slaBreachedOnce(store)
        case .journalAfterRefusals: try await journalAfterRefusals(store)
        case .journalPages: try await journalPages(store)
        case .slaStates: try await slaStates(store)
        }
        await store.close()
    }

    static func time(_ seconds: Int) -> Date { Date(timeIntervalSince1970: 1_764_400_000 + Double(seconds)) }

    static func incident(_ number: Int, type: String = "phishing", severity: Incident.Severity = .high,
                         at seconds: Int = 0) -> Incident
    {
        Incident(id: IncidentID(number), title: "Incident \(number)", type: type, severity: severity,
                 labels: ["mail", "é"], fields: #"{"sender": "a@examp1e.com", "score": 1.0}"#,
                 details: "line 1\nline 2", raw: #"{"id": "MG-\#(number)", "n": null}"#, source: "mailgw",
                 sourceRef: "MG-\(number)", createdAt: time(seconds), slaDueAt: time(seconds + 3600))
    }

    /// An incident is read back as written, to the millisecond, its JSON texts byte for byte.
    private func incidentRoundTrip(_ store: any IncidentStore) async throws {
        let incident = Self.incident(1)
        try await store.write(.createIncident(incident))
        #expect(try await store.loadIncident(incident.id) == incident)
        #expect(try await store.loadIncident(IncidentID(2)) == nil)
        #expect(try await store.highestNumbers() == (1, 0))
    }

    /// A change sets what it names and keeps the rest; fields merge; closing sets and reopening clears.
    private func targetedChanges(_ store: any IncidentStore) async throws {
        let incident = Self.incident(1)
        try await store.write(.createIncident(incident))
        var raise = IncidentChange(incident.id, at: Self.time(10))
        raise.severity = .critical
        raise.owner = .some("alice")
        raise.fieldsPatch = #"{"score": null, "verdict": "phishing"}"#
        var label = IncidentChange(incident.id, at: Self.time(11))
        label.labels = ["escalated"]
        label.addsAlert = true
        try await store.write(.updateIncident(raise))
        try await store.write(.updateIncident(label))
        var changed = try #require(try await store.loadIncident(incident.id))
        #expect(changed.severity == .critical)
        #expect(changed.owner == "alice")
        #expect(changed.title == incident.title, "what no change names is kept")
        #expect(changed.labels == ["escalated"])
        #expect(changed.alertCount == 2)
        #expect(changed.updatedAt == Self.time(11))
        let fields = try JSONSerialization.jsonObject(with: Data(changed.fields.utf8)) as? [String: Any]
        #expect(fields?["sender"] as? String == "a@examp1e.com")
        #expect(fields?["verdict"] as? String == "phishing")
        #expect(fields?["score"] == nil, "null removes a field")

        var close = IncidentChange(incident.id, at: Self.time(20))
        close.status = .closed
        close.closeReason = "false positive"
        close.owner = .some(nil)
        try await store.write(.updateIncident(close))
        changed = try #require(try await store.loadIncident(incident.id))
        #expect(changed.status == .closed)
        #expect(changed.closedAt == Self.time(20))
        #expect(changed.closeReason == "false positive")
        #expect(changed.owner == nil)
        // Closed again (a playbook's late inc:close, on any worker): refused, the first close stays.
        var late = IncidentChange(incident.id, at: Self.time(25))
        late.status = .closed
        late.closeReason = "closed by the playbook"
        let refused = await #expect(throws: StoreError.self) { try await store.write(.updateIncident(late)) }
        #expect(refused?.kind == .conflict && "\(refused!)".contains("reopen it first"), "\(String(describing: refused))")
        changed = try #require(try await store.loadIncident(incident.id))
        #expect(changed.closeReason == "false positive" && changed.closedAt == Self.time(20))
        var reopen = IncidentChange(incident.id, at: Self.time(30))
        reopen.status = .active
        try await store.write(.updateIncident(reopen))
        changed = try #require(try await store.loadIncident(incident.id))
        #expect(changed.closedAt == nil && changed.closeReason == nil)
    }

    /// Links go both ways and are not repeated.
    private func links(_ store: any IncidentStore) async throws {
        for number in 1...3 { try await store.write(.createIncident(Self.incident(number, at: number))) }
        try await store.write(.linkIncidents(IncidentID(2), IncidentID(1)))
        try await store.write(.linkIncidents(IncidentID(1), IncidentID(2)))
        try await store.write(.linkIncidents(IncidentID(2), IncidentID(3)))
        #expect(try await store.loadIncident(IncidentID(1))?.links == [IncidentID(2)])
        #expect(try await store.loadIncident(IncidentID(2))?.links == [IncidentID(1), IncidentID(3)])
    }

    /// Tasks are read back as written, completed once, listed by urgency.
    private func tasks(_ store: any IncidentStore) async throws {
        try await store.write(.createIncident(Self.incident(1)))
        let run = RunID.make()
        let later = IncidentTask(id: TaskID(1), incident: IncidentID(1), runID: run, title: "Purge", owner: "mail",
                                 choices: ["done", "not needed"], dueAt: Self.time(7200), createdAt: Self.time(1))
        let sooner = IncidentTask(id: TaskID(2), incident: IncidentID(1), runID: nil, title: "Call", owner: "tier1",
                                  dueAt: Self.time(600), createdAt: Self.time(2))
        try await store.write(.createTask(later))
        try await store.write(.createTask(sooner))
        #expect(try await store.loadTask(TaskID(1)) == later)
        #expect(try await store.listTasks(TaskQuery()).map(\.id) == [TaskID(2), TaskID(1)])
        #expect(try await store.listTasks(TaskQuery(owner: "mail")).map(\.id) == [TaskID(1)])
        #expect(try await store.listTasks(TaskQuery(dueBefore: Self.time(3600))).map(\.id) == [TaskID(2)])
        #expect(try await store.listTasks(TaskQuery(dueAfter: .init(due: Self.time(600)))).map(\.id) == [TaskID(1)])
        #expect(try await store.listTasks(TaskQuery(after: TaskID(0))).map(\.id) == [TaskID(1), TaskID(2)],
                "in the order they were given")
        #expect(try await store.listTasks(TaskQuery(after: TaskID(1))).map(\.id) == [TaskID(2)])

        try await store.write(.assignTask(TaskID(2), owner: "bob"))
        #expect(try await store.loadTask(TaskID(2))?.owner == "bob")
        await #expect(throws: StoreError.self) { try await store.write(.assignTask(TaskID(9), owner: "bob")) }

        try await store.write(.completeTask(TaskID(2), answer: "reached", by: "alice", at: Self.time(300)))
        await #expect(throws: StoreError.self, "a task done keeps its owner") {
            try await store.write(.assignTask(TaskID(2), owner: "carol"))
        }
        let done = try #require(try await store.loadTask(TaskID(2)))
        #expect(done.status == .done && done.answer == "reached" && done.completedBy == "alice")
        #expect(done.completedAt == Self.time(300))
        #expect(try await store.listTasks(TaskQuery(status: .open)).map(\.id) == [TaskID(1)])
        #expect(try await store.listTasks(TaskQuery()).map(\.id) == [TaskID(1), TaskID(2)], "open ones first")
        #expect(try await store.highestNumbers() == (1, 2))

        // A walk by due time that stopped within tasks due at one instant goes on with the rest.
        for number in 3...4 {
            try await store.write(.createTask(IncidentTask(id: TaskID(number), incident: IncidentID(1), runID: nil,
                                                           title: "Call back", dueAt: Self.time(600),
                                                           createdAt: Self.time(number))))
        }
        #expect(try await store.listTasks(TaskQuery(dueAfter: .init(due: Self.time(600), task: TaskID(3)))).map(\.id)
                    == [TaskID(4), TaskID(1)], "past T-2 and T-3, due at the same time as T-4")
    }

    /// Closing cancels the incident's open tasks, each with a journal line; its done tasks and
    /// other incidents' tasks are left as they are. Killing a run cancels the open tasks it created.
    private func cancelledTasks(_ store: any IncidentStore) async throws {
        for number in 1...2 { try await store.write(.createIncident(Self.incident(number, at: number))) }
        for (number, incident) in [(1, 1), (2, 1), (3, 1), (4, 2)] {
            try await store.write(.createTask(IncidentTask(id: TaskID(number), incident: IncidentID(incident), runID: nil,
                                                           title: "Step \(number)", createdAt: Self.time(number))))
        }
        try await store.write(.completeTask(TaskID(2), answer: "ok", by: "alice", at: Self.time(10)))
        try await store.write(.cancelOpenTasks(.incidentClosed(IncidentID(1)), by: "cli:bob", at: Self.time(20)))
        let tasks = try await store.listTasks(TaskQuery(limit: 10)).sorted { $0.id.number < $1.id.number }
        #expect(tasks.map(\.status) == [.cancelled, .done, .cancelled, .open])
        #expect(tasks[0].completedBy == "cli:bob" && tasks[0].completedAt == Self.time(20))
        #expect(try await store.listTasks(TaskQuery(status: .cancelled)).map(\.id).sorted { $0.number < $1.number }
            == [TaskID(1), TaskID(3)])
        #expect(try await store.journal(of: IncidentID(1)).map { "\($0.actor) \($0.text)" }
            == ["cli:bob T-1 Step 1: cancelled, the incident was closed", "cli:bob T-3 Step 3: cancelled, the incident was closed"])
        // Nothing left to cancel: nothing written, nothing refused.
        try await store.write(.cancelOpenTasks(.incidentClosed(IncidentID(1)), by: "cli:bob", at: Self.time(30)))
        #expect(try await store.journal(of: IncidentID(1)).count == 2)

        // A killed run's open tasks are cancelled, journaled on their incident; another run's stay open.
        for (number, run) in [(5, "run-a"), (6, "run-b")] {
            try await store.write(.createTask(IncidentTask(id: TaskID(number), incident: IncidentID(2), runID: RunID(run),
                                                           title: "Step \(number)", createdAt: Self.time(number))))
        }
        try await store.write(.cancelOpenTasks(.runKilled(RunID("run-a")), by: "automator", at: Self.time(40)))
        #expect(try await store.loadTask(TaskID(5))?.status == .cancelled)
        #expect(try await store.loadTask(TaskID(4))?.status == .open)
        #expect(try await store.loadTask(TaskID(6))?.status == .open)
        #expect(try await store.journal(of: IncidentID(2)).map { "\($0.actor) \($0.text)" }
            == ["automator T-5 Step 5: cancelled, its run was killed"])
    }

    /// Closing an incident and killing a run answer their runs' open questions `cancelled`, each
    /// journaled: no approval may come for work nobody does any more. Other runs' stay open.
    private func cancelledQuestions(_ store: any IncidentStore) async throws {
        let chat = try #require(store as? any ChatStore)
        for number in 1...2 { try await store.write(.createIncident(Self.incident(number, at: number))) }
        let (closed, killed, other) = (RunRecord(script: "a.lua", source: [], incident: IncidentID(1)),
                                       RunRecord(script: "b.lua", source: [], incident: IncidentID(2)),
                                       RunRecord(script: "c.lua", source: [], incident: IncidentID(2)))
        for (id, run) in [("Q-1", closed), ("Q-2", killed), ("Q-3", other)] {
            try await store.write(.createRun(run))
            try await store.write(.askQuestion(ChatQuestionRecord(id: id, runID: run.id, network: "slack", channel: "C1",
                                                                   message: nil, text: "Block it?", choices: ["approve", "deny"],
                                                                   roles: [], askedAt: Self.time(5))))
        }
        try await store.write(.cancelOpenTasks(.incidentClosed(IncidentID(1)), by: "cli:bob", at: Self.time(20)))
        try await store.write(.cancelOpenTasks(.runKilled(killed.id), by: "automator", at: Self.time(30)))
        let first = try await chat.question("Q-1")
        #expect(first?.answer == ChatQuestionRecord.cancelled && first?.answeredBy == "cli:bob" && first?.answeredAt == Self.time(20))
        #expect(try await chat.question("Q-2")?.answer == ChatQuestionRecord.cancelled)
        #expect(try await chat.openQuestions(of: nil).map(\.question.id) == ["Q-3"])
        #expect(try await store.journal(of: IncidentID(1)).map { "\($0.actor) \($0.text)" }
            == ["cli:bob Q-1 Block it?: cancelled, the incident was closed"])
        #expect(try await store.journal(of: IncidentID(2)).map { "\($0.actor) \($0.text)" }
            == ["automator Q-2 Block it?: cancelled, its run was killed"])
    }

    /// A question keeps the incident it was asked for, also when its run has none (a war room's
    /// `!action`): it is listed with it, and cancelled when it closes. A question kept without
    /// one (before schema v19) is still its run's incident's.
    private func questionIncidents(_ store: any IncidentStore) async throws {
        let chat = try #require(store as? any ChatStore)
        for number in 1...2 { try await store.write(.createIncident(Self.incident(number, at: number))) }
        let (command, playbook) = (RunRecord(script: "chat:action.lua", source: []),
                                   RunRecord(script: "a.lua", source: [], incident: IncidentID(2)))
        func question(_ id: String, _ run: RunRecord, for incident: IncidentID?) -> ChatQuestionRecord {
            var question = ChatQuestionRecord(id: id, runID: run.id, network: "slack", channel: "C1", message: nil,
                                              text: "Approve \(id)?", choices: ["approve", "deny"], roles: ["approver"],
                                              askedAt: Self.time(5))
            question.incident = incident
            return question
        }
        for run in [command, playbook] { try await store.write(.createRun(run)) }
        try await store.write(.askQuestion(question("Q-1", command, for: IncidentID(1))))
        try await store.write(.askQuestion(question("Q-2", playbook, for: nil)))
        try await store.write(.askQuestion(question("Q-3", command, for: nil)))
        #expect(try await chat.question("Q-1")?.incident == IncidentID(1))
        #expect(try await chat.question("Q-2")?.incident == nil)
        let open = try await chat.openQuestions(of: nil).map { "\($0.question.id) \($0.incident?.description ?? "-")" }
        #expect(open == ["Q-1 INC-1", "Q-2 INC-2", "Q-3 -"])
        #expect(try await chat.openQuestions(of: IncidentID(1)).map(\.question.id) == ["Q-1"])
        #expect(try await chat.openQuestions(of: IncidentID(2)).map(\.question.id) == ["Q-2"])

        try await store.write(.cancelOpenTasks(.incidentClosed(IncidentID(1)), by: "cli:bob", at: Self.time(20)))
        #expect(try await chat.question("Q-1")?.answer == ChatQuestionRecord.cancelled)
        #expect(try await chat.openQuestions(of: nil).map(\.question.id) == ["Q-2", "Q-3"])
        #expect(try await store.journal(of: IncidentID(1)).map { "\($0.actor) \($0.text)" }
            == ["cli:bob Q-1 Approve Q-1?: cancelled, the incident was closed"])
    }

    /// The journal keeps entries in order, per incident.
    private func journal(_ store: any IncidentStore) async throws {
        try await store.write(.createIncident(Self.incident(1)))
        try await store.write(.createIncident(Self.incident(2)))
        let entries = (0..<5).map { index in
            JournalEntry(incident: IncidentID(index % 2 + 1), at: Self.time(index), actor: "playbook run-\(index)",
                         kind: .note, text: "note \(index)\nsecond line")
        }
        try await store.write(.appendJournal(Array(entries[0...2])))
        try await store.write(.appendJournal(Array(entries[3...])))
        let first = try await store.journal(of: IncidentID(1))
        #expect(first.map(\.text) == ["note 0\nsecond line", "note 2\nsecond line", "note 4\nsecond line"])
        #expect(first.map(\.sequence) == first.map(\.sequence).sorted())
        #expect(first.first?.at == Self.time(0))
        #expect(try await store.journal(of: IncidentID(9)).isEmpty)
    }

    /// A page of the journal: the entries after a sequence, at most so many, and none more once
    /// their texts reach the page's bytes (so at least one, however large).
    private func journalPages(_ store: any IncidentStore) async throws {
        try await store.write(.createIncident(Self.incident(1)))
        try await store.write(.createIncident(Self.incident(2)))
        let sizes = [10, 3000, 7, 10, 5000, 7, 10]
        try await store.write(.appendJournal(sizes.enumerated().map { index, size in
            JournalEntry(incident: IncidentID(index % 3 == 2 ? 2 : 1), at: Self.time(index), actor: "api", kind: .note,
                         text: String(repeating: "\(index)", count: size))
        }))
        let all = try await store.journal(of: IncidentID(1))
        #expect(all.map(\.text.count) == [10, 3000, 10, 5000, 10])
        func page(after: Int64, limit: Int = 100, bytes: Int = 1 << 20) async throws -> [Int] {
            try await store.journal(of: IncidentID(1), after: after, limit: limit, bytes: bytes).map(\.text.count)
        }
        #expect(try await page(after: 0, limit: 2) == [10, 3000])
        #expect(try await page(after: all[1].sequence) == [10, 5000, 10], "after a sequence, skipping incident 2's")
        #expect(try await page(after: 0, bytes: 3000) == [10, 3000], "the entry that reaches the bytes ends the page")
        #expect(try await page(after: 0, bytes: 3011) == [10, 3000, 10])
        #expect(try await page(after: all[2].sequence, bytes: 100) == [5000], "one entry, larger than the page")
        #expect(try await page(after: all[4].sequence).isEmpty)
        #expect(try await store.journal(of: IncidentID(9), after: 0, limit: 10, bytes: 10).isEmpty)
    }

    /// Two stores on the same storage (two workers) appending at once still make one chain: every
    /// sequence once, each entry hashed after its predecessors, the whole and each incident verifying.
    private func chains(_ first: any JournalStore) async throws {
        for number in 1...3 { try await first.write(.createIncident(Self.incident(number, at: number))) }
        let second = try await open()
        let perStore = 100
        await withTaskGroup { group in
            for (index, store) in [first, second].enumerated() {
                group.addTask {
                    let writes = (0..<perStore).map { entry in
                        StoreWrite.appendJournal([JournalEntry(incident: IncidentID(entry % 3 + 1), at: Self.time(entry),
                                                               actor: "worker \(index)", kind: .note, text: "\(entry)")])
                    }
                    for result in await StoreConformance.submitAll(writes, to: store) { #expect((try? result.get()) != nil) }
                }
            }
        }
        await second.close()
        let whole = try await first.verifyJournal(of: nil)
        #expect(whole.problem == nil, "\(whole.problem.map(String.init(describing:)) ?? "")")
        #expect(whole.entries == 2 * perStore)
        #expect(try await first.journalHead()?.sequence == Int64(2 * perStore))
        for number in 1...3 {
            let one = try await first.verifyJournal(of: IncidentID(number))
            let entries = try await first.journal(of: IncidentID(number))
            #expect(one.problem == nil && one.entries == entries.count)
        }
    }

    /// Lists filter by status, type, severity, reference, text and age, newest first.
    private func queries(_ store: any IncidentStore) async throws {
        try await store.write(.createIncident(Self.incident(1, type: "malware", severity: .low, at: 0)))
        try await store.write(.createIncident(Self.incident(2, at: 100)))
        var third = Self.incident(3, at: 200)
        third.details = "Contact 100%_off@examp1e.com"
        try await store.write(.createIncident(third))
        var close = IncidentChange(IncidentID(2))
        close.status = .closed
        close.closeReason = "done"
        try await store.write(.updateIncident(close))

        func ids(_ query: IncidentQuery) async throws -> [Int] { try await store.listIncidents(query).map(\.id.number) }
        #expect(try await ids(IncidentQuery()) == [3, 2, 1])
        #expect(try await ids(IncidentQuery(statuses: IncidentQuery.open)) == [3, 1])
        #expect(try await ids(IncidentQuery(type: "malware")) == [1])
        #expect(try await ids(IncidentQuery(severities: [.high, .critical])) == [3, 2])
        #expect(try await ids(IncidentQuery(source: "mailgw", sourceRef: "MG-2")) == [2])
        #expect(try await ids(IncidentQuery(text: "100%_OFF")) == [3], "text is literal and case-insensitive")
        #expect(try await ids(IncidentQuery(text: "MG-1")) == [1], "the raw payload is searched")
        #expect(try await ids(IncidentQuery(createdSince: Self.time(100))) == [3, 2])
        #expect(try await ids(IncidentQuery(limit: 1)) == [3])
        #expect(try await ids(IncidentQuery(awaitingSLA: true)) == [1, 3], "open ones, by due time")
    }

    /// Lists filter by where incidents stand against their SLA at a time, as `Incident.slaState` says.
    private func slaStates(_ store: any IncidentStore) async throws {
        try await store.write(.createIncident(Self.incident(1, at: 0)))  // due at 3600
        try await store.write(.createIncident(Self.incident(2, at: 3000)))  // due at 6600
        for (number, closedAt) in [(3, 60), (4, 4000)] {
            try await store.write(.createIncident(Self.incident(number, at: 0)))
            var close = IncidentChange(IncidentID(number), at: Self.time(closedAt))
            close.status = .closed
            close.closeReason = "done"
            try await store.write(.updateIncident(close))
        }
        var handled = Self.incident(5, at: 3000)
        handled.slaBreachedAt = Self.time(3000)  // handled as breached before its (later) deadline
        try await store.write(.createIncident(handled))
        var none = Self.incident(6, at: 0)
        none.slaDueAt = nil
        try await store.write(.createIncident(none))

        func ids(_ states: [SLAState], at seconds: Int) async throws -> [Int] {
            let found = try await store.listIncidents(IncidentQuery(slaStates: states, slaAt: Self.time(seconds)))
            for incident in found {
                #expect(incident.slaState(at: Self.time(seconds)).map(states.contains) == true, "\(incident.id)")
            }
            return found.map(\.id.number)
        }
        #expect(try await ids([.onTrack], at: 3000) == [2])
        #expect(try await ids([.atRisk], at: 3000) == [1], "five sixths of its time gone")
        #expect(try await ids([.breached], at: 3000) == [5, 4])
        #expect(try await ids([.met], at: 3000) == [3])
        #expect(try await ids([.atRisk, .breached], at: 3000) == [5, 4, 1])
        #expect(try await ids([.breached], at: 3600) == [5, 4, 1], "due now")
        #expect(try await ids([.onTrack, .atRisk, .breached, .met], at: 3000) == [5, 4, 3, 2, 1], "not the one without")
    }

    /// Incidents are found by the indicators they mention, exactly, as extraction normalises
    /// them; a change adds what it mentions.
    private func indicators(_ store: any IncidentStore) async throws {
        let hash = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"
        var first = Self.incident(1, at: 0)
        first.raw = #"{"url": "hxxp://evil-login[.]com/x", "client": "10.0.0.12", "lure": "https://u@lure.test:8443/a"}"#
        var second = Self.incident(2, at: 100)
        second.details = "Seen from 10.0.0.1, dropped \(hash)"
        try await store.write(.createIncident(first))
        try await store.write(.createIncident(second))
        try await store.write(.createIncident(Self.incident(3, at: 200)))
        var change = IncidentChange(IncidentID(3))
        change.fieldsPatch = #"{"source_ip": "10.0.0.1"}"#
        try await store.write(.updateIncident(change))

        func ids(_ value: String, _ query: IncidentQuery = IncidentQuery()) async throws -> [Int] {
            var query = query
            query.indicator = IncidentIndicators.normalized(value)
            return try await store.listIncidents(query).map(\.id.number)
        }
        #expect(try await ids("10.0.0.1") == [3, 2], "not 10.0.0.12; the change's field counts")
        #expect(try await ids("10.0.0.12") == [1])
        #expect(try await ids("hxxp://evil-login[.]com/x") == [1], "defanged, in the raw payload")
        #expect(try await ids("evil-login.com") == [1], "a URL's host")
        #expect(try await ids("lure.test") == [1], "a URL's host without a public suffix")
        #expect(try await ids(hash) == [2], "a hash in any case")
        #expect(try await ids("a@examp1e.com") == [3, 2, 1], "the custom fields")
        #expect(try await ids("examp1e.com") == [3, 2, 1], "an address's domain")
        #expect(try await ids("10.0.0.1", IncidentQuery(createdSince: Self.time(150))) == [3])
        #expect(try await ids("203.0.113.9").isEmpty)
    }

    /// "Seen in": the newest incident that mentions an indicator, other than the one left out,
    /// as it is now (created, closed); a reader for one thread, where the store has one, answers
    /// the same at each step.
    private func sightings(_ store: any IncidentStore) async throws {
        let reader = store.sightingReader()
        func seen(_ value: String, except: Int? = nil) async throws -> Sighting? {
            let indicator = IncidentIndicators.normalized(value), except = except.map(IncidentID.init)
            let answer = try await store.sighting(of: indicator, except: except)
            if let reader {
                #expect(try reader.sighting(of: indicator, except: except) == answer, "the reader answers as the store does")
            }
            return answer
        }
        #expect(try await seen("10.0.0.1") == nil)
        var first = Self.incident(1, at: 0)
        first.details = "beaconed to 10.0.0.1"
        try await store.write(.createIncident(first))
        #expect(try await seen("10.0.0.1") == Sighting(id: IncidentID(1), status: .new, createdAt: Self.time(0)))
        #expect(try await seen("10.0.0.1", except: 1) == nil, "the incident left out")
        #expect(try await seen("10.0.0.12") == nil, "exactly")

        var second = Self.incident(2, at: 100)
        second.details = "from 10.0.0.1 again"
        try await store.write(.createIncident(second))
        #expect(try await seen("10.0.0.1")?.id == IncidentID(2), "the newest")
        #expect(try await seen("10.0.0.1", except: 2)?.id == IncidentID(1))

        var close = IncidentChange(IncidentID(2), at: Self.time(150))
        close.status = .closed
        close.closeReason = "contained"
        try await store.write(.updateIncident(close))
        #expect(try await seen("10.0.0.1") == Sighting(id: IncidentID(2), status: .closed, createdAt: Self.time(100),
                                                          closedAt: Self.time(150)))
        var mentions = IncidentChange(IncidentID(1), at: Self.time(160))
        mentions.fieldsPatch = #"{"c2": "evil-login.com"}"#
        try await store.write(.updateIncident(mentions))
        #expect(try await seen("evil-login[.]com")?.id == IncidentID(1), "what a change mentions, defanged")
    }

    /// Writes about what does not exist, or contradict what does, are refused with what is wrong.
    private func refusals(_ store: any IncidentStore) async throws {
        try await store.write(.createIncident(Self.incident(1)))
        func refusal(_ write: StoreWrite) async -> StoreError? {
            do { try await store.write(write) } catch { return error }
            return nil
        }
        #expect(await refusal(.createIncident(Self.incident(1)))?.kind == .conflict)
        #expect(await refusal(.updateIncident(IncidentChange(IncidentID(5))))?.kind == .notFound)
        #expect(await refusal(.linkIncidents(IncidentID(1), IncidentID(5)))?.description.contains("INC-5") == true)
        #expect(await refusal(.appendJournal([JournalEntry(incident: IncidentID(5), actor: "x", kind: .note,
                                                           text: "x")]))?.kind == .notFound)
        let orphan = IncidentTask(id: TaskID(1), incident: IncidentID(5), runID: nil, title: "x")
        #expect(await refusal(.createTask(orphan))?.kind == .notFound)
        #expect(await refusal(.completeTask(TaskID(9), answer: "", by: "x", at: Date()))?.kind == .notFound)
        try await store.write(.createTask(IncidentTask(id: TaskID(1), incident: IncidentID(1), runID: nil, title: "x")))
        try await store.write(.completeTask(TaskID(1), answer: "a", by: "x", at: Date()))
        let twice = await refusal(.completeTask(TaskID(1), answer: "b", by: "y", at: Date()))
        #expect(twice?.kind == .conflict)
        #expect(try await store.loadTask(TaskID(1))?.answer == "a", "the first answer stays")
    }

    /// An SLA is marked breached once: marking it again, or on a closed incident, is refused with
    /// the writes around it (the hook's run that would have started twice), so that of several
    /// workers that see a deadline pass, one handles it.
    private func slaBreachedOnce(_ store: any IncidentStore) async throws {
        for number in 1...2 { try await store.write(.createIncident(Self.incident(number))) }
        // Due at 3600 s: overdue once past it.
        func overdue(at seconds: Int) async throws -> [Int] {
            try await store.listIncidents(IncidentQuery(awaitingSLA: true, slaDueBefore: Self.time(seconds))).map(\.id.number)
        }
        #expect(try await overdue(at: 3600).isEmpty)
        #expect(try await overdue(at: 3601) == [1, 2])
        func breach(_ number: Int, at seconds: Int) -> StoreWrite {
            var change = IncidentChange(IncidentID(number), at: Self.time(seconds))
            change.slaBreachedAt = change.at
            return .all([.updateIncident(change), .appendJournal([JournalEntry(incident: IncidentID(number), at: change.at,
                                                                               actor: "automator", kind: .sla, text: "SLA breached")])])
        }
        try await store.write(breach(1, at: 3700))
        let again = await #expect(throws: StoreError.self) { try await store.write(breach(1, at: 3701)) }
        #expect(again?.kind == .conflict && again?.description.contains("INC-1") == true, "\(String(describing: again))")
        #expect(try await store.loadIncident(IncidentID(1))?.slaBreachedAt == Self.time(3700), "the first mark stays")
        #expect(try await store.journal(of: IncidentID(1)).filter { $0.kind == .sla }.count == 1)

        var closing = IncidentChange(IncidentID(2), at: Self.time(100))
        closing.status = .closed
        try await store.write(.updateIncident(closing))
        let closed = await #expect(throws: StoreError.self) { try await store.write(breach(2, at: 3700)) }
        #expect(closed?.kind == .conflict)
        #expect(try await store.loadIncident(IncidentID(2))?.slaBreachedAt == nil)
        #expect(try await store.listIncidents(IncidentQuery(awaitingSLA: true)).isEmpty)
        #expect(try await overdue(at: 3601).isEmpty)
    }

    /// Appends refused with the write around them, in the same transactions as appends that are
    /// kept: what the store remembers of the journal's tip between appends is what it holds, and
    /// the chains verify.
    private func journalAfterRefusals(_ store: any JournalStore) async throws {
        for number in 1...2 { try await store.write(.createIncident(Self.incident(number))) }
        let writes = (0..<300).map { index -> StoreWrite in
            let entry = StoreWrite.appendJournal([JournalEntry(incident: IncidentID(index % 2 + 1), at: Self.time(index),
                                                               actor: "x", kind: .note, text: "\(index)")])
            // Every third is refused after its append: an unknown task.
            return index % 3 == 0 ? .all([entry, .completeTask(TaskID(99), answer: "", by: "x", at: Date())]) : entry
        }
        let results = await StoreConformance.submitAll(writes, to: store)
        #expect(results.enumerated().allSatisfy { index, result in (try? result.get()) == nil ? index % 3 == 0 : index % 3 != 0 })
        let verification = try await store.verifyJournal(of: nil)
        #expect(verification.problem == nil && verification.entries == 200,
                "\(verification.problem.map(String.init(describing:)) ?? "") \(verification.entries)")
        for number in 1...2 { #expect(try await store.verifyJournal(of: IncidentID(number)).problem == nil) }
    }

    /// `.all` commits every write or none: a refusal anywhere undoes the ones before it.
    private func togetherOrNot(_ store: any IncidentStore) async throws {
        let incident = Self.incident(1)
        let note = JournalEntry(incident: incident.id, actor: "api", kind: .created, text: "created")
        var refusedBatch = false
        do {
            try await store.write(.all([.createIncident(incident), .appendJournal([note]),
                                        .linkIncidents(incident.id, IncidentID(7))]))
        } catch {
            refusedBatch = error.kind == .notFound
        }
        #expect(refusedBatch)
        #expect(try await store.loadIncident(incident.id) == nil)
        #expect(try await store.journal(of: incident.id).isEmpty)
        try await store.write(.all([.createIncident(incident), .appendJournal([note])]))
        #expect(try await store.journal(of: incident.id).count == 1)
    }
}
