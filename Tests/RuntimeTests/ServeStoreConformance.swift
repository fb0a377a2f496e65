import AutomatorRuntime
import Foundation
import Logging
import Testing

/// What `automator serve` keeps besides runs and incidents, against both stores: the chat bot's
/// state and the intel cache. Written against the protocols alone, like `StoreConformance`.
@Suite("The chat bot's state and the intel cache in both stores", .timeLimit(.minutes(2)))
struct ServeStoreConformance {
    /// The store, and its opener, which holds the SQLite store's folder.
    static func open(_ kind: StoreUnderTest) async throws
        -> (any ChatStore & IntelStore, @Sendable () async throws -> any JournalStore)
    {
        let open = try await kind.opener()
        return (try #require(try await open() as? any ChatStore & IntelStore), open)
    }

    @Test("Channels are replaced whole, state is a key and a value, a question is answered once", arguments: StoreUnderTest.allCases)
    func chat(_ kind: StoreUnderTest) async throws {
        let (store, opener) = try await Self.open(kind)
        let soc = ChatChannelSettings(network: "slack", channel: ChatChannel(id: "C1", name: "soc"), watched: true,
                                      changedBy: "alice", changedAt: IncidentStoreConformance.time(0))
        try await store.write(.setChatChannel(soc))
        var quiet = soc
        quiet.watched = false
        quiet.verbose = true
        quiet.incident = IncidentID(7)
        try await store.write(.setChatChannel(quiet))
        let other = ChatChannelSettings(network: "matrix", channel: ChatChannel(id: "!r", name: "ops"), changedBy: "bob")
        try await store.write(.setChatChannel(other))
        #expect(try await store.chatChannels(network: "slack") == [quiet])
        #expect(try await store.chatChannels(network: "matrix") == [other])

        #expect(try await store.chatState("next_batch") == nil)
        try await store.setChatState("next_batch", to: "s1")
        try await store.setChatState("next_batch", to: "s2")
        #expect(try await store.chatState("next_batch") == "s2")

        let question = ChatQuestionRecord(id: "Q-1", runID: RunID("run-1"), network: "slack", channel: "C1", message: nil,
                                          text: "Block it?", choices: ["yes", "no"], roles: ["tier2"],
                                          askedAt: IncidentStoreConformance.time(5))
        try await store.write(.askQuestion(question))
        try await store.write(.questionPosted(id: "Q-1", message: "1700.1"))
        var posted = question
        posted.message = "1700.1"
        #expect(try await store.question(network: "slack", channel: "C1", message: "1700.1") == posted)
        try await store.write(.answerQuestion(id: "Q-1", choice: "yes", by: "carol", at: IncidentStoreConformance.time(9)))
        let answered = try await store.question("Q-1")
        #expect(answered?.answer == "yes" && answered?.answeredBy == "carol"
            && answered?.answeredAt == IncidentStoreConformance.time(9))
        #expect(try await store.question(network: "slack", channel: "C1", message: "1700.1") == answered,
                "answered, it is still found: a late reply is told the answer")
        let again = await #expect(throws: StoreError.self) {
            try await store.write(.answerQuestion(id: "Q-1", choice: "no", by: "dave", at: Date()))
        }
        #expect(again?.kind == .conflict && again?.description.contains("yes") == true, "\(String(describing: again))")
        let unknown = await #expect(throws: StoreError.self) {
            try await store.write(.questionPosted(id: "Q-9", message: "1"))
        }
        #expect(unknown?.kind == .notFound)
        await store.close()
        withExtendedLifetime(opener) {}
    }

    @Test("An edited message's text is kept with when it was checked, replaced by the next edit, and swept a week after",
          arguments: StoreUnderTest.allCases)
    func editedTexts(_ kind: StoreUnderTest) async throws {
        let (store, opener) = try await Self.open(kind)
        let now = IncidentStoreConformance.time(0)
        let weekAgo = now - ChatSweeper.kept - 60
        func keep(_ message: String, _ text: String, at: Date) async throws {
            try await store.write(.keepEditedText(ChatEditedText(network: "matrix", channel: "!r:example.org",
                                                                 message: message, text: text, at: at)))
        }
        func kept(_ message: String, network: String = "matrix") async throws -> String? {
            try await store.editedText(network: network, channel: "!r:example.org", message: message)
        }
        try await keep("$old", "seen once", at: weekAgo)
        try await keep("$again", "seen once", at: weekAgo)
        try await keep("$again", "seen twice", at: now - 60)
        try await store.setChatState("matrix.@bot:example.org.next_batch", to: "s1")
        #expect(try await kept("$again") == "seen twice")
        #expect(try await kept("$again", network: "slack") == nil)

        let sweeper = ChatSweeper(runs: store, chat: store, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        #expect(await sweeper.sweep(now: now).editedTexts == 1)
        #expect(try await kept("$old") == nil, "checked over a week ago")
        #expect(try await kept("$again") == "seen twice", "edited again since: kept a week from its last edit")
        #expect(try await store.chatState("matrix.@bot:example.org.next_batch") == "s1", "an adapter's state is no edit's")
        #expect(await sweeper.sweep(now: now).editedTexts == 0)
        await store.close()
        withExtendedLifetime(opener) {}
    }

    @Test("Cached verdicts until they expire, replaced per source; an indicator seen keeps its first sighting", arguments: StoreUnderTest.allCases)
    func intel(_ kind: StoreUnderTest) async throws {
        let (store, opener) = try await Self.open(kind)
        let now = IncidentStoreConformance.time(0)
        let feed = SourceVerdict(source: "feed", score: .malicious, reliability: .b, reason: "listed")
        let vt = SourceVerdict(source: "virustotal", score: .suspicious, reliability: .c, reason: "3/90 engines")
        try await store.write(.cacheVerdicts(type: "ipv4", value: "203.0.113.7",
                                             [(feed, expires: now.addingTimeInterval(60)),
                                              (vt, expires: now.addingTimeInterval(10))]))
        #expect(try await store.cachedVerdicts(type: "ipv4", value: "203.0.113.7", at: now) == [feed, vt])
        #expect(try await store.cachedVerdicts(type: "ipv4", value: "203.0.113.7", at: now.addingTimeInterval(10))
            == [feed], "the expired answer is not given")
        var clean = vt
        clean.score = .benign
        try await store.write(.cacheVerdicts(type: "ipv4", value: "203.0.113.7", [(clean, expires: now.addingTimeInterval(60))]))
        #expect(try await store.cachedVerdicts(type: "ipv4", value: "203.0.113.7", at: now.addingTimeInterval(30))
            == [feed, clean])
        #expect(try await store.cachedVerdicts(type: "domain", value: "203.0.113.7", at: now).isEmpty)

        let first = SeenIndicator(type: .ipv4, value: "203.0.113.7", score: .suspicious, summary: "one source",
                                  firstSeen: now, lastSeen: now)
        try await store.write(.noteIndicator(first))
        var later = first
        later.score = .malicious
        later.summary = "two sources"
        later.firstSeen = now.addingTimeInterval(100)
        later.lastSeen = now.addingTimeInterval(100)
        later.stixID = "another"
        try await store.write(.noteIndicator(later))
        var kept = later
        kept.firstSeen = first.firstSeen
        kept.stixID = first.stixID
        #expect(try await store.seenIndicators() == [kept])
        await store.close()
        withExtendedLifetime(opener) {}
    }

    @Test("The workload counts open incidents by status, severity and SLA, open and overdue tasks, runs by shown status, and open questions",
          arguments: StoreUnderTest.allCases)
    func workload(_ kind: StoreUnderTest) async throws {
        let open = try await kind.opener()
        let store = try #require(try await open() as? any WorkloadStore)
        let time = IncidentStoreConformance.time
        func change(_ number: Int, _ edit: (inout IncidentChange) -> Void) async throws {
            var change = IncidentChange(IncidentID(number), at: time(10))
            edit(&change)
            try await store.write(.updateIncident(change))
        }
        // Due an hour after creation, 3,000 s gone: at risk.
        try await store.write(.createIncident(IncidentStoreConformance.incident(1)))
        try await store.write(.createIncident(IncidentStoreConformance.incident(2, type: "malware", severity: .critical)))
        try await change(2) { $0.status = .active; $0.slaDueAt = time(10_000) }
        try await store.write(.createIncident(IncidentStoreConformance.incident(3)))
        try await change(3) { $0.status = .pending; $0.slaBreachedAt = time(100) }
        try await store.write(.createIncident(IncidentStoreConformance.incident(4)))
        try await change(4) { $0.status = .closed; $0.closeReason = "done" }
        var noSLA = IncidentStoreConformance.incident(5, severity: .low)
        noSLA.slaDueAt = nil
        try await store.write(.createIncident(noSLA))

        let waiting = RunRecord(script: "playbooks/phishing.lua", source: Array("return 1".utf8), createdAt: time(1))
        let (pending, failed, completed) = (RunRecord(script: "a.lua", source: [], createdAt: time(2)),
                                            RunRecord(script: "b.lua", source: [], createdAt: time(3)),
                                            RunRecord(script: "c.lua", source: [], createdAt: time(4)))
        for run in [waiting, pending, failed, completed] { try await store.write(.createRun(run)) }
        try await store.write(.updateRun(RunUpdate(waiting.id, status: .running, at: time(5))))
        try await store.write(.updateRun(RunUpdate(failed.id, status: .failed, error: "boom", at: time(5))))
        try await store.write(.updateRun(RunUpdate(completed.id, status: .completed, result: "[]", at: time(5))))

        for (number, owner, due) in [(1, "tier2", 1_000), (2, "tier2", 9_000), (3, nil, nil), (4, "tier1", nil)] as [(Int, String?, Int?)] {
            try await store.write(.createTask(IncidentTask(id: TaskID(number), incident: IncidentID(1),
                                                           runID: number == 1 ? waiting.id : nil, title: "Step \(number)",
                                                           owner: owner, dueAt: due.map(time), createdAt: time(number))))
        }
        try await store.write(.completeTask(TaskID(4), answer: "done", by: "alice", at: time(20)))
        for id in ["Q-1", "Q-2"] {
            try await store.write(.askQuestion(ChatQuestionRecord(id: id, runID: nil, network: "slack", channel: "C1",
                                                                   message: nil, text: "Block it?", choices: ["yes", "no"],
                                                                   roles: [], askedAt: time(5))))
        }
        try await store.write(.answerQuestion(id: "Q-2", choice: "no", by: "carol", at: time(9)))

        let workload = try await store.workload(at: time(3_000))
        #expect(workload.openIncidents == [.init(status: .new, severity: .high): 1, .init(status: .active, severity: .critical): 1,
                                           .init(status: .pending, severity: .high): 1, .init(status: .new, severity: .low): 1])
        #expect(workload.sla == [.init(type: "phishing", state: .atRisk): 1, .init(type: "malware", state: .onTrack): 1,
                                 .init(type: "phishing", state: .breached): 1], "a closed incident's SLA is not counted")
        #expect(workload.closedIncidents == 1)
        #expect(workload.openTasks == ["tier2": 2, "": 1])
        #expect(workload.overdueTasks == ["tier2": 1])
        #expect(workload.runs == [.waiting: 1, .pending: 1, .failed: 1], "a run with an open task waits; completed ones are not counted")
        #expect(workload.openQuestions == 1)
        await store.close()
    }
}
