import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// `hooks/incident_closed.lua`: started once for each close, whoever closes the incident, with
/// the closed incident (its resolution and reason) as `...`; a hook that fails is a failed run,
/// never a failed close.
@Suite("The close hook: once per close, by every path", .timeLimit(.minutes(2)))
struct IncidentClosedHookTests {
    /// What the test hook notes: what it was given.
    static let hook = """
        local inc = ...
        inc:note(("hook saw %s, %s, closed at %s"):format(inc.resolution or "no resolution", inc.close_reason,
          inc.closed_at and "a time" or "nil"))
        """

    /// A playbook that closes its incident, then notes on it: a close does not stop its closer.
    static let closer = """
        return playbook {
          name = "closer",
          match = { type = "closing" },
          run = function(inc)
            inc:close{ reason = "an admin's scan", resolution = "benign" }
            inc:note("after the close")
          end,
        }
        """

    /// A started incident service on `kind` of store, with `hook` as the close hook (none when nil)
    /// and the `closer` playbook.
    struct Desk {
        let folder: ScratchFolder
        /// Holds the store's scratch folder.
        let open: @Sendable () async throws -> any JournalStore
        let service: IncidentService

        init(_ kind: StoreUnderTest = .sqlite, hook: String? = IncidentClosedHookTests.hook) async throws {
            folder = try ScratchFolder()
            let scripts = folder.path + "/scripts"
            try FileManager.default.createDirectory(atPath: scripts + "/hooks", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: scripts + "/playbooks", withIntermediateDirectories: true)
            try IncidentClosedHookTests.closer.write(toFile: scripts + "/playbooks/closer.lua", atomically: true,
                                                    encoding: .utf8)
            if let hook { try hook.write(toFile: scripts + "/hooks/incident_closed.lua", atomically: true, encoding: .utf8) }
            open = try await kind.opener()
            let store = try await open()
            let ledger = IncidentLedger(store: store)
            let modules: [any HostModule] = [JSONModule(), TimeModule(), IncidentsModule(ledger: ledger)]
            service = try IncidentService(ledger: ledger, runs: try RunService(store: store, modules: modules, executors: 1),
                                          scripts: scripts, modules: modules)
            try await service.start()
        }

        func open(_ type: String = "test") async throws -> Ingested {
            try await service.create(IncidentDraft(title: "hook test", type: type, severity: .medium), by: "test")
        }

        typealias Ingested = IncidentService.Ingested

        func close(_ id: IncidentID, resolution: Incident.Resolution? = nil) async throws -> Incident {
            var change = IncidentChange(id)
            change.status = .closed
            change.closeReason = "a test mail"
            change.resolution = resolution
            return try await service.update(change, by: "alice")
        }

        func reopen(_ id: IncidentID) async throws -> Incident {
            var change = IncidentChange(id)
            change.status = .active
            return try await service.update(change, by: "alice")
        }

        /// The close hook's runs on `id`, oldest first.
        func hookRuns(_ id: IncidentID) async throws -> [RunRecord] {
            try await service.store.listRuns(status: nil, limit: 1000)
                .filter { $0.incident == id && $0.entry == "hook:incident_closed" }.reversed()
        }

        /// Waits for the end of the incident's last close's hook run; returns how it ended.
        func hookEnded(_ id: IncidentID) async throws -> RunUpdate {
            let run = try #require(try await service.closeHook(of: id))
            return try #require(await service.runs.waitForEnd(run.id))
        }

        func notes(_ id: IncidentID) async throws -> [String] {
            try await service.store.journal(of: id).filter { $0.kind == .note }.map(\.text)
        }
    }

    @Test("A person's close starts the hook once, which sees the resolution and the reason", arguments: StoreUnderTest.allCases)
    func personsClose(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        let id = try await desk.open().incident.id
        let closed = try await desk.close(id, resolution: .falsePositive)
        #expect(closed.resolution == .falsePositive)
        #expect(try await desk.hookEnded(id).status == .completed)
        #expect(try await desk.notes(id) == ["hook saw false_positive, a test mail, closed at a time"])
        let runs = try await desk.hookRuns(id)
        try #require(runs.count == 1, "\(runs)")
        let journal = try await desk.service.store.journal(of: id).map(\.text)
        #expect(journal.contains("closed as false_positive: a test mail"), "\(journal)")
        #expect(journal.filter { $0 == "hooks/incident_closed.lua started: run \(runs[0].id)" }.count == 1, "\(journal)")
        let caseFile = try await desk.service.caseFile(id)
        #expect(caseFile.contains(#""resolution":"false_positive""#) && caseFile.contains(#""close_hook":{"#),
                "\(caseFile)")
        await desk.service.shutdown()
    }

    @Test("A playbook's close starts the hook once, and the playbook goes on", arguments: StoreUnderTest.allCases)
    func playbooksClose(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        let ingested = try await desk.open("closing")
        let run = try #require(ingested.run)
        #expect(await desk.service.runs.waitForEnd(run.id)?.status == .completed)
        let id = ingested.incident.id
        #expect(try await desk.hookEnded(id).status == .completed)
        #expect(try await desk.hookRuns(id).count == 1)
        let notes = try await desk.notes(id)
        #expect(notes.sorted() == ["after the close", "hook saw benign, an admin's scan, closed at a time"], "\(notes)")
        #expect(try await desk.service.load(id).resolution == .benign)
        await desk.service.shutdown()
    }

    @Test("Reopened and closed again, an incident's hook runs twice; reopening clears the resolution")
    func reopenedAndClosed() async throws {
        let desk = try await Desk()
        let id = try await desk.open().incident.id
        _ = try await desk.close(id, resolution: .benign)
        #expect(try await desk.hookEnded(id).status == .completed)
        let reopened = try await desk.reopen(id)
        #expect(reopened.resolution == nil && reopened.closeReason == nil)
        _ = try await desk.close(id)
        #expect(try await desk.hookEnded(id).status == .completed)
        #expect(try await desk.hookRuns(id).count == 2)
        #expect(try await desk.notes(id) == ["hook saw benign, a test mail, closed at a time",
                                             "hook saw no resolution, a test mail, closed at a time"])
        await desk.service.shutdown()
    }

    @Test("A second close stops no hook of the first: the incident's runs stop, its close hooks go on",
          arguments: StoreUnderTest.allCases)
    func secondCloseStopsNoHook(_ kind: StoreUnderTest) async throws {
        // The first close's hook is still asleep when the incident is reopened and closed again.
        let desk = try await Desk(kind, hook: """
            local inc = ...
            if inc.resolution == "benign" then time.sleep(2) end
            inc:note("hook done: " .. (inc.resolution or "none"))
            """)
        let id = try await desk.open().incident.id
        _ = try await desk.close(id, resolution: .benign)
        let first = try #require(try await desk.service.closeHook(of: id))
        _ = try await desk.reopen(id)
        _ = try await desk.close(id)
        let second = try #require(try await desk.service.closeHook(of: id))
        #expect(second.id != first.id)
        #expect(await desk.service.runs.waitForEnd(second.id)?.status == .completed)
        #expect(await desk.service.runs.waitForEnd(first.id)?.status == .completed, "not killed by the second close")
        #expect(try await desk.notes(id).sorted() == ["hook done: benign", "hook done: none"])
        await desk.service.shutdown()
    }

    @Test("A hook that fails leaves the incident closed and its run failed, shown on the incident")
    func failingHook() async throws {
        let desk = try await Desk(hook: #"error("Sentinel answered 500")"#)
        let id = try await desk.open().incident.id
        #expect(try await desk.close(id, resolution: .truePositive).status == .closed)
        let ended = try await desk.hookEnded(id)
        #expect(ended.status == .failed && ended.error?.contains("Sentinel answered 500") == true, "\(ended)")
        #expect(try await desk.service.load(id).status == .closed)
        let caseFile = try await desk.service.caseFile(id)
        #expect(caseFile.contains(#""status":"failed""#), "\(caseFile)")
        await desk.service.shutdown()
    }

    @Test("A hook that does not compile is a failed run too, not a refused close")
    func hookThatDoesNotCompile() async throws {
        let desk = try await Desk(hook: "local inc = ...\ninc:note(")
        let id = try await desk.open().incident.id
        #expect(try await desk.close(id).status == .closed)
        #expect(try await desk.hookEnded(id).status == .failed)
        await desk.service.shutdown()
    }

    @Test("With no hook file, a close starts no run")
    func noHook() async throws {
        let desk = try await Desk(hook: nil)
        let id = try await desk.open().incident.id
        _ = try await desk.close(id)
        let ingested = try await desk.open("closing")
        #expect(await desk.service.runs.waitForEnd(try #require(ingested.run).id)?.status == .completed)
        #expect(try await desk.hookRuns(id).isEmpty)
        #expect(try await desk.hookRuns(ingested.incident.id).isEmpty)
        #expect(try await desk.service.closeHook(of: id) == nil)
        let journal = try await desk.service.store.journal(of: ingested.incident.id).map(\.text)
        #expect(!journal.contains { $0.contains("incident_closed") }, "\(journal)")
        await desk.service.shutdown()
    }

    @Test("The bot's !incident close takes a resolution and starts the hook once")
    func chatClose() async throws {
        let folder = try ScratchFolder()
        // The bot's incident service reads FOLDER/none.
        try FileManager.default.createDirectory(atPath: folder.path + "/none/hooks", withIntermediateDirectories: true)
        try Self.hook.write(toFile: folder.path + "/none/hooks/incident_closed.lua", atomically: true, encoding: .utf8)
        let bot = try await ChatBotTests.Bot(folder: folder)
        let id = try await bot.incidents.create(IncidentDraft(title: "chat", type: "chat", severity: .low), by: "test",
                                                choosingPlaybook: false).incident.id
        let closed = await bot.say("!incident close \(id) false_positive a test mail", in: ChatBotTests.soc).map(\.text)
        #expect(closed == ["Closed \(id) as false_positive: a test mail"], "\(closed)")
        let run = try #require(try await bot.incidents.closeHook(of: id))
        #expect(await bot.incidents.runs.waitForEnd(run.id)?.status == .completed)
        let notes = try await bot.store.journal(of: id).filter { $0.kind == .note }.map(\.text)
        #expect(notes == ["hook saw false_positive, a test mail, closed at a time"], "\(notes)")
        #expect(try await bot.incidents.load(id).resolution == .falsePositive)
        await bot.stop()
    }
}
