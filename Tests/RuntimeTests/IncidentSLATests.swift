import AutomatorRuntime
import Foundation
import Logging
import Synchronization
import Testing

@Suite("SLAs that move with the severity, and alerts from sources with no mapper", .timeLimit(.minutes(2)))
struct IncidentSLATests {
    /// A started incident service on `kind` of store, with an SLA policy, a breach hook, and no
    /// mapper: outages get one second when critical, so that a raise can find it already past.
    struct Desk {
        let folder: ScratchFolder
        let open: @Sendable () async throws -> any JournalStore
        let service: IncidentService
        let log = CapturedLog.Records()

        init(_ kind: StoreUnderTest = .sqlite) async throws {
            folder = try ScratchFolder()
            let scripts = folder.path + "/scripts"
            try FileManager.default.createDirectory(atPath: scripts + "/hooks", withIntermediateDirectories: true)
            try Data("""
                return {
                  default = { critical = "1h", high = "4h", medium = "1d", low = "3d" },
                  malware = { critical = "30m" },
                  outage = { critical = "1s", low = "1h" },
                }
                """.utf8).write(to: URL(fileURLWithPath: scripts + "/sla.lua"))
            try Data(#"(...):note("the breach hook ran")"#.utf8).write(to: URL(fileURLWithPath: scripts + "/hooks/sla_breach.lua"))
            open = try await kind.opener()
            let store = try await open()
            let ledger = IncidentLedger(store: store)
            let modules: [any HostModule] = [JSONModule(), TimeModule(), IncidentsModule(ledger: ledger)]
            let log = self.log
            service = try IncidentService(ledger: ledger, runs: try RunService(store: store, modules: modules, executors: 1),
                                          scripts: scripts, modules: modules,
                                          logger: Logger(label: "test") { _ in CapturedLog(records: log) })
            try await service.start()
        }

        func create(_ type: String, _ severity: Incident.Severity) async throws -> Incident {
            try await service.create(IncidentDraft(title: "sla test", type: type, severity: severity), by: "test",
                                     choosingPlaybook: false).incident
        }

        func change(_ id: IncidentID, to severity: Incident.Severity) async throws -> Incident {
            var change = IncidentChange(id)
            change.severity = severity
            return try await service.update(change, by: "alice")
        }

        func slaLines(_ id: IncidentID) async throws -> [String] {
            try await service.store.journal(of: id).filter { $0.kind == .sla }.map(\.text)
        }

        /// Waits until `condition` holds, 10 s at most.
        func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
            let end = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < end {
                if try await condition() { return true }
                try await Task.sleep(for: .milliseconds(20))
            }
            return try await condition()
        }
    }

    @Test("An alert from a source with no mapper is kept as an unmapped incident with a warning, logged once per source")
    func sourceWithoutMapper() async throws {
        let desk = try await Desk()
        let first = try await desk.service.ingest(source: "siem", alert: Array(#"{"rule": "odd login", "id": 7}"#.utf8),
                                                  by: "api")
        #expect(first.incident.type == "unmapped" && first.incident.source == "siem" && !first.deduplicated)
        #expect(first.incident.raw == #"{"rule":"odd login","id":7}"#)
        #expect(first.incident.details.contains("there is no mapper for the source \"siem\": write \(desk.folder.path)/scripts/mappers/siem.lua"),
                "\(first.incident.details)")
        let warning = try #require(first.warning)
        #expect(warning.hasPrefix("the alert is kept as \(first.incident.id), of type unmapped: there is no mapper"), "\(warning)")
        #expect(warning.contains("scripts/mappers/siem.lua"))

        let second = try await desk.service.ingest(source: "siem", alert: Array("[1, 2]".utf8), by: "api")
        #expect(second.deduplicated && second.incident.id == first.incident.id && second.warning != nil)
        _ = try await desk.service.ingest(source: "edr", alert: Array("{}".utf8), by: "api")
        let logged = desk.log.lines.withLock { $0 }.filter { $0.message.contains("no mapper") }
        #expect(logged.map(\.level) == [.warning, .warning], "once for siem, once for edr: \(logged.map(\.message))")

        await #expect(throws: IncidentError.self) {
            _ = try await desk.service.ingest(source: "siem", alert: Array("{oops".utf8), by: "api")
        }
        await desk.service.shutdown()
    }
}
