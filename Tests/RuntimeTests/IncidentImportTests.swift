@testable import AutomatorRuntime
import Foundation
import Testing

@Suite("Importing a SOC's closed incidents from another tool", .timeLimit(.minutes(2)))
struct IncidentImportTests {
    /// An incident service on `kind` of store, with an SLA policy and a playbook that matches
    /// every incident: an imported incident must start neither.
    struct Desk {
        let folder: ScratchFolder
        let open: @Sendable () async throws -> any JournalStore
        let store: any JournalStore
        let service: IncidentService

        init(_ kind: StoreUnderTest) async throws {
            folder = try ScratchFolder()
            let scripts = folder.path + "/scripts"
            try FileManager.default.createDirectory(atPath: scripts + "/playbooks", withIntermediateDirectories: true)
            try Data(#"return { default = { critical = "1h", high = "4h" } }"#.utf8)
                .write(to: URL(fileURLWithPath: scripts + "/sla.lua"))
            try Data("""
                return playbook { name = "Every incident", match = function() return true end,
                                  run = function(inc) inc:note("the playbook ran") end }
                """.utf8).write(to: URL(fileURLWithPath: scripts + "/playbooks/every.lua"))
            open = try await kind.opener()
            store = try await open()
            let ledger = IncidentLedger(store: store)
            let modules: [any HostModule] = [JSONModule(), TimeModule(), IncidentsModule(ledger: ledger)]
            service = try IncidentService(ledger: ledger, runs: try RunService(store: store, modules: modules, executors: 1),
                                          scripts: scripts, modules: modules)
            try await service.start()
        }

        /// Imports `lines` as the file `history.jsonl`, by `cli:alice`.
        func importing(_ lines: [String], dryRun: Bool = false) async throws -> IncidentImport.Summary {
            let importer = await service.importer(file: "history.jsonl", by: "cli:alice", dryRun: dryRun)
            for line in lines { try await importer.add(Array(line.utf8)) }
            return try await importer.finish()
        }

        func imported() async throws -> [Incident] {
            try await store.listIncidents(IncidentQuery(source: "thehive", limit: 100)).sorted { $0.id < $1.id }
        }

        func close() async {
            await service.shutdown()
            await store.close()
        }
    }

    /// Thirty days ago, at midnight: the history's first day.
    static let start = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 86400 - 30).rounded(.down) * 86400)

    static func time(_ hours: Double) -> String { String(JSONText.time(start.addingTimeInterval(hours * 3600)).dropFirst().dropLast()) }

    /// A closed incident of TheHive, `ref`, opened at `created` hours, closed at `closed`.
    static func line(_ ref: String, severity: String = "high", created: Double, responded: Double? = nil,
                     closed: Double) -> String {
        #"{"title": "Phishing reported by jdoe", "type": "phishing", "severity": "\#(severity)", "source": "thehive", "#
            + #""source_ref": "\#(ref)", "created_at": "\#(time(created))", "#
            + (responded.map { #""responded_at": "\#(time($0))", "# } ?? "")
            + #""closed_at": "\#(time(closed))", "close_reason": "resolved"}"#
    }

    /// High: 4 h; critical: 1 h. ~1 met (closed after 2 h), ~2 breached (critical, 3 h), ~3
    /// breached (5 h of 4).
    static let history = [
        line("~1", created: 0, responded: 0.5, closed: 2),
        line("~2", severity: "critical", created: 24, closed: 27),
        line("~3", created: 48, responded: 49, closed: 53),
    ]

    @Test("A round trip: numbered after the counter, closed, nothing run; the report counts their SLA and response",
          arguments: StoreUnderTest.allCases)
    func roundTrip(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        let live = try await desk.service.create(IncidentDraft(title: "before", type: "phishing", severity: .low),
                                                 by: "test", choosingPlaybook: false).incident
        let summary = try await desk.importing(Self.history)
        #expect(summary == IncidentImport.Summary(dryRun: false, lines: 3, added: 3, already: 0, refused: 0))
        let imported = try await desk.imported()
        #expect(imported.map(\.id) == (1...3).map { IncidentID(live.id.number + $0) })
        #expect(imported.map(\.sourceRef) == ["~1", "~2", "~3"])
        #expect(imported.allSatisfy { $0.status == .closed && $0.playbook == nil && $0.runID == nil })
        #expect(imported.map(\.closeReason) == ["resolved", "resolved", "resolved"])
        #expect(imported[0].createdAt == ImportedIncident.date(Self.time(0)))
        #expect(try await desk.store.listRuns(status: nil, limit: 10).isEmpty)

        let journal = try await desk.store.journal(of: imported[0].id)
        #expect(journal.map(\.kind) == [.imported, .note, .closed])
        #expect(journal[0].actor == "cli:alice")
        #expect(journal[0].text.hasPrefix("imported from history.jsonl: thehive ~1, high phishing, opened there "))
        #expect(journal.dropFirst().allSatisfy { $0.actor == "thehive" })
        #expect(!journal.contains { $0.text.contains("the playbook ran") })

        let reports = try #require(desk.store as? any ReportStore)
        let report = try await reports.report(ReportWindow(from: Self.start, to: Date()), at: Date())
        #expect(report.slaBySeverity.first { $0.severity == "high" }.map { [$0.met, $0.breached] } == [1, 1])
        #expect(report.slaBySeverity.first { $0.severity == "critical" }.map { [$0.met, $0.breached] } == [0, 1])
        // Responded after 0.5 h and 1 h; ~2 has no first response: its close, after 3 h, is it.
        #expect(report.acknowledge == Report.Timing(count: 3, median: 3_600, mean: 5_400, p90: 10_800))
        // Closed after 2, 3 and 5 h.
        #expect(report.resolve.count == 3 && report.resolve.median == 10_800)
        await desk.close()
    }

    @Test("Each bad line refused with its number and why; the others imported", arguments: StoreUnderTest.allCases)
    func refusals(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        let summary = try await desk.importing([
            #"{"title": "cut short"#,
            Self.line("~1", created: 0, closed: 1).replacingOccurrences(of: #""title": "Phishing reported by jdoe", "#, with: ""),
            Self.line("~2", created: 0, closed: 1).replacingOccurrences(of: Self.time(0), with: "2999-01-01T00:00:00Z"),
            Self.line("~3", created: 5, closed: 1),
            Self.line("~4", created: 0, closed: 1).replacingOccurrences(of: #", "closed_at": "\#(Self.time(1))""#, with: ""),
            Self.line("~5", created: 0, closed: 1).replacingOccurrences(of: #""source": "thehive", "#, with: ""),
            Self.line("~6", created: 0, responded: 3, closed: 1),
            Self.line("~7", created: 0, closed: 1),
            "",
        ])
        #expect(summary.lines == 9 && summary.added == 1 && summary.refused == 7)
        let reasons = Dictionary(uniqueKeysWithValues: summary.refusals.map { ($0.line, $0.reason) })
        #expect(reasons.keys.sorted() == Array(1...7))
        #expect(reasons[1]?.hasPrefix("the incident is not valid JSON") == true)
        #expect(reasons[2]?.hasPrefix(#""title": required"#) == true)
        #expect(reasons[3] == #""created_at": "2999-01-01T00:00:00Z" is in the future"#)
        #expect(reasons[4] == #""closed_at": before created_at"#)
        #expect(reasons[5]?.hasPrefix(#""closed_at": required: only closed incidents are imported"#) == true)
        #expect(reasons[6]?.hasPrefix(#""source": required to import"#) == true)
        #expect(reasons[7] == #""responded_at": not between created_at and closed_at"#)
        #expect(try await desk.imported().map(\.sourceRef) == ["~7"])
        await desk.close()
    }

    @Test("Importing the same file again adds nothing; a line twice in one file is there already",
          arguments: StoreUnderTest.allCases)
    func idempotent(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        #expect(try await desk.importing(Self.history + [Self.history[0]]).already == 1)
        let again = try await desk.importing(Self.history)
        #expect(again == IncidentImport.Summary(dryRun: false, lines: 3, added: 0, already: 3, refused: 0))
        #expect(try await desk.imported().count == 3)
        await desk.close()
    }

    @Test("Two imports of one file at once add each incident once: the store checks again as it writes",
          arguments: StoreUnderTest.allCases)
    func concurrent(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        // On PostgreSQL a second worker's store; on SQLite the same one (two requests to one server),
        // whose committer writes for both.
        let other = kind == .postgres ? try await desk.open() : desk.store
        let first = await desk.service.importer(file: "history.jsonl", by: "cli:alice", dryRun: false)
        let second = IncidentImport(store: other, ledger: IncidentLedger(store: other), policy: SLAPolicy(),
                                    file: "history.jsonl", by: "cli:bob", dryRun: false)
        // In turn, line by line: each import looks a line up before the other has written it.
        let lines = (1...600).map { Self.line("~\($0)", created: Double($0) / 60, closed: Double($0) / 60 + 1) }
        for line in lines {
            try await first.add(Array(line.utf8))
            try await second.add(Array(line.utf8))
        }
        let (one, two) = (try await first.finish(), try await second.finish())
        #expect(one.added + two.added == 600 && one.already + two.already == 600, "\(one) \(two)")
        let imported = try await desk.store.listIncidents(IncidentQuery(source: "thehive", limit: 1000))
        #expect(Set(imported.compactMap(\.sourceRef)).count == 600 && imported.count == 600)
        if kind == .postgres { await other.close() }
        await desk.close()
    }

    @Test("The store finds a page's pairs at once, and refuses an import of a pair it holds, writing nothing",
          arguments: StoreUnderTest.allCases)
    func storeChecks(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        func importing(_ ref: String, as number: Int, into store: any IncidentStore) async throws {
            let imported = try ImportedIncident(json: Array(Self.line(ref, created: 0, closed: 1).utf8), now: Date())
            let id = IncidentID(number)
            try await store.write(.importIncident(imported.incident(id, policy: SLAPolicy()),
                                                  journal: imported.journal(of: id, from: "a.jsonl", by: "cli:alice",
                                                                            at: Date())))
        }
        try await importing("~1", as: 1, into: desk.store)
        let stored = try await desk.store.storedSourceRefs([SourceRef(source: "thehive", ref: "~1"),
                                                            SourceRef(source: "thehive", ref: "~2"),
                                                            SourceRef(source: "xsoar", ref: "~1")])
        #expect(stored == [SourceRef(source: "thehive", ref: "~1")])
        #expect(try await desk.store.storedSourceRefs([]).isEmpty)

        let refusal = await #expect(throws: StoreError.self) { try await importing("~1", as: 2, into: desk.store) }
        #expect(refusal?.isAlreadyImported == true, "\(String(describing: refusal))")
        #expect(try await desk.store.loadIncident(IncidentID(2)) == nil)
        #expect(try await desk.store.journal(of: IncidentID(2)).isEmpty)
        if kind == .sqlite {
            // Another process on the file (a second import with no server) counted from 1 too: its
            // INC-2 is taken, and its import gets the next number free, its journal with it.
            try await importing("~2", as: 2, into: desk.store)
            let other = try await desk.open()
            try await importing("~3", as: 2, into: other)
            await other.close()
            let moved = try #require(try await desk.store.loadIncident(IncidentID(3)))
            #expect(moved.sourceRef == "~3")
            #expect(try await desk.store.journal(of: moved.id).first?.kind == .imported)
        }
        await desk.close()
    }

    @Test("A dry run checks and counts, and writes nothing, not even a number", arguments: StoreUnderTest.allCases)
    func dryRun(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        let dry = try await desk.importing(Self.history + ["{}"], dryRun: true)
        #expect(dry.added == 3 && dry.refused == 1 && dry.dryRun)
        #expect(try await desk.imported().isEmpty)
        #expect(try await desk.store.highestNumbers().incident == 0)
        _ = try await desk.importing(Self.history)
        #expect(try await desk.imported().map(\.id.number) == [1, 2, 3])
        await desk.close()
    }
}
