import AutomatorRuntime
import Foundation
import Logging
import Synchronization
import Testing

@Suite("A playbook removed while its run waits: the run goes on, and the operator is told once", .timeLimit(.minutes(1)))
struct UnloadedPlaybookTests {
    @Test("Its file removed, a waiting run is named once in the log with how to stop it, and goes on with its version")
    func removedWhileWaiting() async throws {
        let folder = try ScratchFolder()
        let playbooks = folder.path + "/scripts/playbooks"
        try FileManager.default.createDirectory(atPath: playbooks, withIntermediateDirectories: true)
        try """
            return playbook {
              name = "Phishing triage", match = { type = "phishing" },
              run = function(inc)
                inc:task{ title = "Ask the reporter" }:wait()
                inc:note("the reporter answered")
              end,
            }
            """.write(toFile: playbooks + "/phishing.lua", atomically: true, encoding: .utf8)
        let records = CapturedLog.Records()
        let store = try SQLiteStore(folder: folder.path + "/data")
        let ledger = IncidentLedger(store: store)
        let modules: [any HostModule] = [JSONModule(), TimeModule(), IncidentsModule(ledger: ledger)]
        let service = try IncidentService(ledger: ledger, runs: try RunService(store: store, modules: modules, executors: 1),
                                          scripts: folder.path + "/scripts", modules: modules,
                                          logger: Logger(label: "test") { _ in CapturedLog(records: records) })
        try await service.start()
        let watching = Task { await service.watchPlaybooks(every: .milliseconds(20)) }
        defer { watching.cancel() }
        let created = try await service.create(IncidentDraft(title: "Invoice", type: "phishing", severity: .medium),
                                                by: "test")
        let run = try #require(created.run)
        var task: IncidentTask?
        for _ in 0..<500 where task == nil {
            task = try await service.store.listTasks(TaskQuery(incident: created.incident.id)).first
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try await service.unloadedPlaybooks().isEmpty)

        try FileManager.default.removeItem(atPath: playbooks + "/phishing.lua")
        let told = {
            records.lines.withLock { $0.filter { $0.message.hasPrefix("playbook Phishing triage is no longer loaded") } }
        }
        for _ in 0..<500 where told().isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        let warning = try #require(told().first)
        #expect(warning.level == .warning)
        #expect(warning.message.hasSuffix("""
            its unfinished run goes on with the version it started with: \(run.id) (\(created.incident.id)); to stop \
            one, automator runs kill RUN
            """), "\(warning.message)")
        let unloaded = try await service.unloadedPlaybooks()
        #expect(unloaded.map(\.name) == ["Phishing triage"] && unloaded.first?.runs.map(\.id) == [run.id])

        // Another reading of the folder says nothing of it again; the person's answer ends the run as it began.
        try "return playbook { name = 'Other', run = function(inc) end }".write(toFile: playbooks + "/other.lua",
                                                                               atomically: true, encoding: .utf8)
        for _ in 0..<500 where await service.playbooks().playbooks.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        _ = try await service.ledger.complete(try #require(task).id, answer: "", by: "test")
        await service.runs.waitForEnd(run.id)
        #expect(try await service.runs.run(run.id)?.status == .completed)
        #expect(try await service.store.journal(of: created.incident.id).contains { $0.text == "the reporter answered" })
        #expect(try await service.unloadedPlaybooks().isEmpty, "an ended run is no one's concern")
        #expect(told().count == 1, "told once")
        await service.shutdown()
    }
}
