import AutomatorRuntime
import Foundation
import Logging
import Synchronization
import TestSupport
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

        /// Returns once every SLA timer due now has fired: it opens a critical outage (due in a
        /// second) and waits for its breach, which the timers handle after every earlier deadline.
        /// A check that something was not breached means something after this, however loaded
        /// the machine.
        func timersFired() async throws {
            let later = try await create("outage", .critical)
            try #require(try await eventually { try await service.load(later.id).slaBreachedAt != nil })
        }
    }

    static func due(_ incident: Incident, after seconds: TimeInterval) -> Date {
        incident.createdAt.addingTimeInterval(seconds)
    }

    /// `SLA now due 2026-03-01 14:30 UTC`.
    static func dueText(_ date: Date) -> String {
        let iso = date.formatted(Date.ISO8601FormatStyle())
        return "SLA now due " + iso.prefix(10) + " " + iso.dropFirst(11).prefix(5) + " UTC"
    }

    @Test("A severity change moves the SLA from the opening, by the policy for the type, journaled; lower lengthens it",
          arguments: StoreUnderTest.allCases)
    func severityMovesTheSLA(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        let incident = try await desk.create("malware", .low)
        #expect(try await desk.service.load(incident.id).slaDueAt == Self.due(incident, after: 3 * 86400))

        let raised = try await desk.change(incident.id, to: .critical)
        #expect(raised.slaDueAt == Self.due(incident, after: 1800))
        #expect(raised.slaState() == .onTrack)
        let lowered = try await desk.change(incident.id, to: .medium)
        #expect(lowered.slaDueAt == Self.due(incident, after: 86400))
        #expect(try await desk.slaLines(incident.id) == [
            Self.dueText(Self.due(incident, after: 1800)) + ": critical malware, 30m",
            Self.dueText(Self.due(incident, after: 86400)) + ": medium malware, 1d",
        ])
        // Another change that leaves the SLA where it is says nothing of it.
        _ = try await desk.change(incident.id, to: .medium)
        #expect(try await desk.slaLines(incident.id).count == 2)
        await desk.service.shutdown()
    }

    @Test("Raised past its new due time, an incident is breached at once with its hook, once; lowered, the breach stays",
          arguments: StoreUnderTest.allCases)
    func raisedPastItsDueTime(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        let incident = try await desk.create("outage", .low)
        // Raised two seconds after its new due time: the breach says why it came late.
        try await Task.sleep(for: .seconds(3.2))
        let raised = try await desk.change(incident.id, to: .critical)
        #expect(raised.slaDueAt == Self.due(incident, after: 1))
        #expect(raised.slaState() == .breached)
        #expect(try await eventually { try await desk.service.load(incident.id).slaBreachedAt != nil })
        #expect(try await eventually {
            try await desk.service.store.journal(of: incident.id).contains { $0.text == "the breach hook ran" }
        })
        try await desk.timersFired()
        let lines = try await desk.slaLines(incident.id)
        #expect(lines.count == 2, "one move, one breach: \(lines)")
        #expect(lines.first == Self.dueText(Self.due(incident, after: 1)) + ": critical outage, 1s, already past")
        #expect(lines.last?.contains("(a change moved it into the past); hooks/sla_breach.lua started") == true, "\(lines)")

        let breachedAt = try await desk.service.load(incident.id).slaBreachedAt
        let lowered = try await desk.change(incident.id, to: .low)
        #expect(lowered.slaDueAt == Self.due(incident, after: 3600))
        #expect(lowered.slaBreachedAt == breachedAt && lowered.slaState() == .breached)
        await desk.service.shutdown()
    }

    @Test("Breached, lowered and closed within its new time, an incident stays breached: its state, the lists, the report",
          arguments: StoreUnderTest.allCases)
    func closedAfterItsBreachWasLowered(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        let incident = try await desk.create("outage", .critical)
        #expect(try await eventually { try await desk.service.load(incident.id).slaBreachedAt != nil })
        // Now due an hour after its opening: closed well before it, but an hour too late for the second it had.
        _ = try await desk.change(incident.id, to: .low)
        var close = IncidentChange(incident.id)
        close.status = .closed
        close.closeReason = "contained"
        let closed = try await desk.service.update(close, by: "alice")
        #expect(closed.closedAt! < closed.slaDueAt!)
        #expect(closed.slaState() == .breached)

        let store = desk.service.store
        #expect(try await store.listIncidents(IncidentQuery(slaStates: [.breached])).map(\.id) == [incident.id])
        #expect(try await store.listIncidents(IncidentQuery(slaStates: [.met])).isEmpty)
        let reports = try #require(store as? any ReportStore)
        let report = try await reports.report(ReportWindow(lasting: 3600, until: Date()), at: Date())
        #expect(report.sla == [Report.SLATally(type: "outage", breached: 1)])
        await desk.service.shutdown()
    }

    @Test("Lowered before its deadline, an incident is not breached when the old deadline passes",
          arguments: StoreUnderTest.allCases)
    func loweredBeforeItsDeadline(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        let incident = try await desk.create("outage", .critical)
        #expect(try await desk.service.load(incident.id).slaDueAt == Self.due(incident, after: 1))
        _ = try await desk.change(incident.id, to: .low)
        try await desk.timersFired()  // the old deadline's among them
        let now = try await desk.service.load(incident.id)
        let lines = try await desk.slaLines(incident.id)
        #expect(now.slaBreachedAt == nil && now.slaState() == .onTrack, "\(lines)")
        #expect(now.slaDueAt == Self.due(incident, after: 3600))
        await desk.service.shutdown()
    }

    @Test("A playbook's raise moves the SLA as a person's change does, and inc.sla_due follows; past, it breaches at once")
    func playbookRaise() async throws {
        let desk = try await Desk()
        let playbook = """
            return playbook { name = "t", run = function(inc)
              local before = inc.sla_due
              inc:raise("critical", "the EDR left the file free to run")
              return math.floor(inc.sla_due - before + 0.5)
            end }
            """
        let malware = try await desk.create("malware", .low)
        let run = try await desk.service.runPlaybook(file: "playbooks/t.lua", source: Array(playbook.utf8), on: malware.id,
                                                     by: "test")
        await desk.service.runs.waitForEnd(run.id)
        let ended = try #require(try await desk.service.runs.run(run.id))
        #expect(ended.status == .completed && ended.result == "[\(1800 - 3 * 86400)]", "\(ended.error ?? ended.result ?? "")")
        #expect(try await desk.service.load(malware.id).slaDueAt == Self.due(malware, after: 1800))
        #expect(try await desk.slaLines(malware.id) == [Self.dueText(Self.due(malware, after: 1800)) + ": critical malware, 30m"])

        let outage = try await desk.create("outage", .low)
        try await Task.sleep(for: .seconds(1.2))
        let late = try await desk.service.runPlaybook(file: "playbooks/t.lua", source: Array(playbook.utf8), on: outage.id,
                                                      by: "test")
        await desk.service.runs.waitForEnd(late.id)
        #expect(try await eventually { try await desk.service.load(outage.id).slaBreachedAt != nil })
        #expect(try await desk.slaLines(outage.id).count == 2)
        await desk.service.shutdown()
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

    @Test("A mapper that fails on every alert is logged once, again when the reason changes, and once when it maps again")
    func failingMapperLoggedOnce() async throws {
        let desk = try await Desk()
        try FileManager.default.createDirectory(atPath: desk.folder.path + "/scripts/mappers", withIntermediateDirectories: true)
        try Data("""
            return mapper { map = function(alert)
              if alert.shape == "odd" then return { title = 1 } end
              return { title = alert.device.name, type = "malware", severity = "high" }
            end }
            """.utf8).write(to: URL(fileURLWithPath: desk.folder.path + "/scripts/mappers/edr.lua"))
        func ingest(_ alert: String) async throws -> IncidentService.Ingested {
            try await desk.service.ingest(source: "edr", alert: Array(alert.utf8), by: "api")
        }
        func logged() -> [String] {
            desk.log.lines.withLock { $0 }.filter { $0.message.contains("edr") }.map { "\($0.level): \($0.message)" }
        }
        for number in 1...50 {
            let kept = try await ingest(#"{"id": \#(number)}"#)
            #expect(kept.incident.type == "unmapped" && kept.warning?.contains("attempt to index a nil value") == true)
        }
        #expect(logged().count == 1 && logged()[0].hasPrefix("warning: an alert from edr is kept as an unmapped "
                + "incident: the mapper mappers/edr.lua failed: mappers/edr.lua:3: attempt to index a nil value"),
                "\(logged())")
        _ = try await ingest(#"{"shape": "odd"}"#)
        _ = try await ingest(#"{"shape": "odd"}"#)
        #expect(logged().count == 2 && logged()[1].contains("the mapper mappers/edr.lua returned no valid incident"),
                "\(logged())")
        let mapped = try await ingest(#"{"device": {"name": "laptop-7"}}"#)
        #expect(mapped.incident.type == "malware" && mapped.incident.title == "laptop-7")
        _ = try await ingest(#"{"device": {"name": "laptop-8"}}"#)
        #expect(logged().count == 3 && logged()[2] == "info: alerts from edr are mapped again by mappers/edr.lua: 52 were "
                + "kept as unmapped incidents meanwhile (post them to /api/v1/ingest/edr again to map them)", "\(logged())")
        _ = try await ingest("{}")
        #expect(logged().count == 4, "a new failure after a recovery is said again: \(logged())")
        await desk.service.shutdown()
    }

    @Test("An is_duplicate that fails at every alert is logged once, and once when it works again")
    func failingDuplicateCheckLoggedOnce() async throws {
        let desk = try await Desk()
        try FileManager.default.createDirectory(atPath: desk.folder.path + "/scripts/mappers", withIntermediateDirectories: true)
        try Data("""
            return mapper {
              map = function(alert)
                return { title = alert.title, type = "malware", severity = "high", source_ref = "host-1" }
              end,
              is_duplicate = function(new, existing)
                if new.title == "broken" then error("no verdict for " .. existing.id) end
                return true
              end,
            }
            """.utf8).write(to: URL(fileURLWithPath: desk.folder.path + "/scripts/mappers/edr.lua"))
        func ingest(_ alert: String) async throws -> IncidentService.Ingested {
            try await desk.service.ingest(source: "edr", alert: Array(alert.utf8), by: "api")
        }
        func logged() -> [String] {
            desk.log.lines.withLock { $0 }.filter { $0.message.contains("is_duplicate") }.map { "\($0.level): \($0.message)" }
        }
        let first = try await ingest(#"{"title": "beacon"}"#)
        for _ in 1...20 { #expect(try await ingest(#"{"title": "broken"}"#).deduplicated) }
        #expect(logged().count == 1 && logged()[0].hasPrefix("warning: is_duplicate of mappers/edr.lua failed, the alert "
                + "is linked to \(first.incident.id): mappers/edr.lua:6: no verdict for \(first.incident.id)"), "\(logged())")
        #expect(try await ingest(#"{"title": "beacon"}"#).deduplicated)
        _ = try await ingest(#"{"title": "beacon"}"#)
        #expect(logged().count == 2 && logged()[1] == "info: is_duplicate of mappers/edr.lua works again: 20 alerts "
                + "from edr were linked to an open incident meanwhile, without it", "\(logged())")
        await desk.service.shutdown()
    }
}
