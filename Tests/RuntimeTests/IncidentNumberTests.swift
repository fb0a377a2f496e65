@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// Incident and task numbers on SQLite: a number whose write did not commit is given again, so a
/// failed create leaves no gap; several processes on one file never give one number twice; many
/// ingests at once all get theirs.
@Suite("Incident numbers: no gap after a failed create, none given twice", .timeLimit(.minutes(1)))
struct IncidentNumberTests {
    @Test("On a full disk the create fails; once there is room the next incident and task take the numbers it left",
          .enabled(if: Tmpfs.isAvailable))
    func noGapAfterFullDisk() async throws {
        let tmpfs = try Tmpfs(size: "4m")
        let store = try SQLiteStore(folder: tmpfs.path + "/data")
        let ledger = IncidentLedger(store: store)
        let modules: [any HostModule] = [JSONModule(), TimeModule(), IncidentsModule(ledger: ledger)]
        let service = try IncidentService(ledger: ledger, runs: try RunService(store: store, modules: modules, executors: 1),
                                          scripts: tmpfs.path + "/scripts", modules: modules)
        let draft = IncidentDraft(title: "Invoice", type: "phishing", severity: .medium)
        let first = try await service.create(draft, by: "test", choosingPlaybook: false).incident.id
        #expect(first == IncidentID(1))

        let ballast = tmpfs.path + "/ballast"
        tmpfs.fill(ballast)
        let failed = await #expect(throws: IncidentError.self) {
            try await service.create(draft, by: "test", choosingPlaybook: false)
        }
        #expect(failed?.description.contains("is full") == true, "\(String(describing: failed))")
        let task = IncidentTask(id: TaskID(try ledger.takeNow(.task)), incident: first, runID: nil, title: "Confirm")
        await #expect(throws: StoreError.self) { try await store.write(.createTask(task)) }

        try FileManager.default.removeItem(atPath: ballast)
        #expect(try await service.create(draft, by: "test", choosingPlaybook: false).incident.id == IncidentID(2))
        #expect(try ledger.takeNow(.task) == task.id.number)
        await store.close()
    }

    @Test("An incident whose playbook's run cannot be submitted opens all the same, without the run: its number and why are told")
    func openedWithoutItsRun() async throws {
        let folder = try ScratchFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/scripts/playbooks", withIntermediateDirectories: true)
        try #"return playbook { name = "Triage", match = { type = "phishing" }, run = function(inc) end }"#
            .write(toFile: folder.path + "/scripts/playbooks/triage.lua", atomically: true, encoding: .utf8)
        let store = try SQLiteStore(folder: folder.path + "/data")
        let ledger = IncidentLedger(store: store)
        let modules: [any HostModule] = [JSONModule(), TimeModule(), IncidentsModule(ledger: ledger)]
        let service = try IncidentService(ledger: ledger, runs: try RunService(store: store, modules: modules, executors: 1),
                                          scripts: folder.path + "/scripts", modules: modules)
        try await service.start()
        // Fields deeper than a run's arguments may nest (200 levels): the run is refused, not the alert.
        var draft = IncidentDraft(title: "Invoice", type: "phishing", severity: .medium)
        draft.fields = String(repeating: #"{"a":"#, count: 250) + "1" + String(repeating: "}", count: 250)
        let created = try await service.create(draft, by: "test")

        #expect(created.run == nil && created.incident.playbook == nil && created.incident.status == .new)
        let warning = try #require(created.warning)
        #expect(warning.hasPrefix("\(created.incident.id) is open, but playbook playbooks/triage.lua: ")
            && warning.contains("nesting deeper than 200 levels")
            && warning.hasSuffix("fix it, then automator playbook run Triage \(created.incident.id)"), "\(warning)")
        #expect(try await service.load(created.incident.id).title == "Invoice")
        let journal = try await store.journal(of: created.incident.id)
        #expect(journal.map(\.kind) == [.created, .playbook]
            && journal.last?.text.hasPrefix("playbook Triage (playbooks/triage.lua) did not start: ") == true, "\(journal)")
        await service.shutdown()
    }

    @Test("Two stores on one file (two commands on one folder) creating incidents and tasks at once: each number is given once")
    func twoStoresOnOneFile() async throws {
        let folder = try ScratchFolder()
        let data = folder.path + "/data"
        // Both opened before anything is stored: each counted on from 0, and the second to write
        // INC-1 failed with "incident INC-1 already exists".
        let stores = [try SQLiteStore(folder: data), try SQLiteStore(folder: data)]
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (writer, store) in stores.enumerated() {
                group.addTask {
                    for index in 1...40 {
                        let draft = IncidentDraft(title: "\(writer) \(index)", type: "phishing", severity: .low)
                        let incident = draft.incident(IncidentID(try await store.takeNumber(.incident)), at: Date())
                        try await store.write(.createIncident(incident))
                        let task = IncidentTask(id: TaskID(try await store.takeNumber(.task)), incident: incident.id,
                                                runID: nil, title: "Confirm \(writer) \(index)")
                        try await store.write(.createTask(task))
                    }
                }
            }
            try await group.waitForAll()
        }
        let incidents = try await stores[1].listIncidents(IncidentQuery(limit: 100))
        #expect(Set(incidents.map(\.id)) == Set((1...80).map(IncidentID.init)), "\(incidents.map(\.id))")
        let tasks = try await stores[1].listTasks(TaskQuery(limit: 100))
        #expect(Set(tasks.map(\.id)) == Set((1...80).map(TaskID.init)), "\(tasks.map(\.id))")
        for store in stores { await store.close() }
    }

    @Test("The numbers file deleted under two stores that have it open, a third opened after: each number is given once")
    func numbersFileDeleted() async throws {
        let folder = try ScratchFolder()
        let data = folder.path + "/data"
        let file = data + "/" + SQLiteStore.fileName + NumbersFile.suffix
        func create(in store: SQLiteStore) async throws -> IncidentID {
            let id = IncidentID(try await store.takeNumber(.incident))
            try await store.write(.createIncident(IncidentDraft(title: "C2", type: "c2", severity: .low).incident(id, at: Date())))
            let task = IncidentTask(id: TaskID(try await store.takeNumber(.task)), incident: id, runID: nil, title: "Confirm")
            try await store.write(.createTask(task))
            return id
        }
        let (first, second) = (try SQLiteStore(folder: data), try SQLiteStore(folder: data))
        var created = [try await create(in: first), try await create(in: second)]
        // Someone tidying the folder. Each store numbered on through the file it had open, and
        // one opened now made a new file from the database: INC-3 was given by two of them.
        try FileManager.default.removeItem(atPath: file)
        let third = try SQLiteStore(folder: data)
        created.append(try await create(in: first))
        created.append(try await create(in: third))
        created.append(try await create(in: second))
        #expect(created == (1...5).map(IncidentID.init), "\(created)")
        #expect(FileManager.default.fileExists(atPath: file), "made again by the next number")

        // Deleted again, by a store whose last number (INC-3) is behind the others': the file is
        // made anew from what the database holds, not from what this store gave.
        try FileManager.default.removeItem(atPath: file)
        #expect(try await create(in: first) == IncidentID(6))
        #expect(try await create(in: third) == IncidentID(7))
        #expect(Set(try await third.listTasks(TaskQuery(limit: 100)).map(\.id)) == Set((1...7).map(TaskID.init)))
        for store in [first, second, third] { await store.close() }
    }

    @Test("A store opened and read makes no numbers file: a read leaves the folder as it was; the first number makes it")
    func noFileUntilANumber() async throws {
        let folder = try ScratchFolder()
        let data = folder.path + "/data"
        let file = data + "/" + SQLiteStore.fileName + NumbersFile.suffix
        let store = try SQLiteStore(folder: data)
        _ = try await store.listIncidents(IncidentQuery(limit: 10))
        _ = try await store.verifyJournal(of: nil)
        #expect(!FileManager.default.fileExists(atPath: file))
        #expect(try await store.takeNumber(.incident) == 1)
        #expect(FileManager.default.fileExists(atPath: file))
        await store.close()
    }

    @Test("4,000 alerts ingested 256 at a time, each playbook asking a task: all numbered once, none stuck")
    func manyIngestsAtOnce() async throws {
        let folder = try ScratchFolder()
        let scripts = folder.path + "/scripts"
        try FileManager.default.createDirectory(atPath: scripts + "/playbooks", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: scripts + "/mappers", withIntermediateDirectories: true)
        try """
            return playbook {
              name = "Ask", match = { type = "phishing" },
              run = function(inc)
                inc:task{ title = "Look at it" }
                inc:close{ reason = "asked" }
              end,
            }
            """.write(toFile: scripts + "/playbooks/ask.lua", atomically: true, encoding: .utf8)
        try """
            return mapper {
              map = function(alert)
                return { title = alert.subject, type = "phishing", severity = "high", source_ref = alert.id }
              end,
            }
            """.write(toFile: scripts + "/mappers/mailgw.lua", atomically: true, encoding: .utf8)
        let store = try SQLiteStore(folder: folder.path + "/data")
        let ledger = IncidentLedger(store: store)
        let modules: [any HostModule] = [JSONModule(), TimeModule(), IncidentsModule(ledger: ledger)]
        let runs = try RunService(store: store, modules: modules)
        let service = try IncidentService(ledger: ledger, runs: runs, scripts: scripts, modules: modules)
        try await service.start()
        let alerts = 4_000, inFlight = 256
        // A deadlock between the numbers and the store's readers shows as the suite's time limit.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for first in 0..<inFlight {
                group.addTask {
                    for index in stride(from: first, to: alerts, by: inFlight) {
                        let alert = #"{"id":"A-\#(index)","subject":"Invoice \#(index)"}"#
                        let ingested = try await service.ingest(source: "mailgw", alert: Array(alert.utf8), by: "test")
                        let run = try #require(ingested.run)
                        await runs.waitForEnd(run.id)
                    }
                }
            }
            try await group.waitForAll()
        }
        let closed = try await store.listIncidents(IncidentQuery(statuses: [.closed], limit: alerts + 1))
        #expect(Set(closed.map(\.id)) == Set((1...alerts).map(IncidentID.init)))
        let tasks = try await store.listTasks(TaskQuery(limit: alerts + 1))
        #expect(Set(tasks.map(\.id)) == Set((1...alerts).map(TaskID.init)))
        await service.shutdown()
    }
}
