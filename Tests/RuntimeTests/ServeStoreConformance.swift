import AutomatorRuntime
import Foundation
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
        #expect(try await store.openQuestion(network: "slack", channel: "C1", message: "1700.1") == posted)
        try await store.write(.answerQuestion(id: "Q-1", choice: "yes", by: "carol", at: IncidentStoreConformance.time(9)))
        let answered = try await store.question("Q-1")
        #expect(answered?.answer == "yes" && answered?.answeredBy == "carol"
            && answered?.answeredAt == IncidentStoreConformance.time(9))
        #expect(try await store.openQuestion(network: "slack", channel: "C1", message: "1700.1") == nil)
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
}
