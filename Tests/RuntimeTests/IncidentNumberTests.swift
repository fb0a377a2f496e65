@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// Incident and task numbers on the store one process owns (SQLite): a number whose write did not
/// commit is given again, so a failed create leaves no gap.
@Suite("Incident numbers: no gap after a failed create", .timeLimit(.minutes(1)))
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
}
