import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// An alert its tool has closed already (the mapper's `closed_in_source`): news on the incident
/// here when that one is closed too (most often the echo of its close, written back to the tool),
/// which opens nothing; otherwise an alert as any other.
@Suite("Alerts their tool closed: the echo of a close here joins the closed incident", .timeLimit(.minutes(2)))
struct SourceCloseTests {
    /// The SLA tests' incident service on `kind` of store, with `mappers/tool.lua`: an alert
    /// `{"id", "status", "classification", "by", "comment"}` is closed at the tool when its status
    /// is Closed (`said` gives any other `closed_in_source`). Its window is a second, so that a
    /// test can outlast it.
    struct Desk {
        let desk: IncidentSLATests.Desk
        var service: IncidentService { desk.service }

        init(_ kind: StoreUnderTest = .sqlite) async throws {
            desk = try await IncidentSLATests.Desk(kind)
            let mappers = desk.folder.path + "/scripts/mappers"
            try FileManager.default.createDirectory(atPath: mappers, withIntermediateDirectories: true)
            try Data("""
                return mapper {
                  map = function(alert)
                    local closed = alert.status == "Closed"
                    return { title = "Odd logon " .. alert.id, type = "tool_alert", severity = "high", source_ref = alert.id,
                             closed_in_source = closed and { status = alert.status, classification = alert.classification,
                                                             by = alert.by, comment = alert.comment } or alert.said }
                  end,
                  dedup_window = "1s",
                }
                """.utf8).write(to: URL(fileURLWithPath: mappers + "/tool.lua"))
        }

        func ingest(_ alert: String) async throws -> IncidentService.Ingested {
            try await service.ingest(source: "tool", alert: Array(alert.utf8), by: "fetch:tool")
        }

        func close(_ id: IncidentID) async throws {
            var change = IncidentChange(id)
            change.status = .closed
            change.closeReason = "The admin's script"
            change.resolution = .falsePositive
            _ = try await service.update(change, by: "alice")
        }

        func incidents() async throws -> [Incident] { try await service.store.listIncidents(IncidentQuery()) }
    }

    static let closedAlert = #"{"id": "a-1", "status": "Closed", "classification": "FalsePositive", "by": "bob@example.com", "comment": "Closed in Automator as INC-1: The admin's script"}"#

    @Test("Closed here, then closed at the tool: the alert is journaled on the closed incident, which stays as it was; nothing opens, however long ago it opened",
          arguments: StoreUnderTest.allCases)
    func echoJoinsTheClosedIncident(_ kind: StoreUnderTest) async throws {
        let desk = try await Desk(kind)
        let first = try await desk.ingest(#"{"id": "a-1", "status": "New"}"#)
        try await desk.close(first.incident.id)
        // Past the mapper's window: a close is news on the incident whenever it comes.
        try await Task.sleep(for: .seconds(1.2))

        let preview = try await desk.service.preview(source: "tool", alert: Array(Self.closedAlert.utf8))
        #expect(preview.joins == first.incident.id && preview.joinsStatus == .closed && preview.playbook == nil)
        let echo = try await desk.ingest(Self.closedAlert)

        #expect(echo.deduplicated && echo.incident.id == first.incident.id && echo.run == nil)
        #expect(try await desk.incidents().map(\.id) == [first.incident.id], "nothing opened")
        let closed = try await desk.service.load(first.incident.id)
        #expect(closed.status == .closed && closed.resolution == .falsePositive && closed.closeReason == "The admin's script"
            && closed.alertCount == 2, "\(closed)")
        let entry = try #require(try await desk.service.store.journal(of: first.incident.id).last)
        #expect(entry.kind == .alert && entry.actor == "fetch:tool")
        #expect(entry.text == #"the alert arrived again, closed at tool (status Closed, classification FalsePositive, "#
            + #"by bob@example.com, comment "Closed in Automator as INC-1: The admin's script"): Odd logon a-1; INC-1 "#
            + "stays closed, and nothing opened", "\(entry.text)")
        await desk.service.shutdown()
    }

    @Test("Otherwise a closed alert is an alert as any other: with no incident here it opens one, and it joins an open one saying it is closed there")
    func closedAlertWithoutClosedIncident() async throws {
        let desk = try await Desk()
        let opened = try await desk.ingest(Self.closedAlert)
        #expect(!opened.deduplicated && opened.incident.status == .new, "the first fetch's close opens the incident triage closes")
        let joined = try await desk.ingest(Self.closedAlert)
        #expect(joined.deduplicated && joined.incident.id == opened.incident.id)
        let entry = try #require(try await desk.service.store.journal(of: opened.incident.id).last)
        #expect(entry.text.hasPrefix("a duplicate alert arrived, closed at tool (status Closed, classification FalsePositive"),
                "\(entry.text)")
        await desk.service.shutdown()
    }

    @Test("An alert open at the tool whose incident here is closed (reopened there) opens a new incident")
    func reopenedAtTheToolOpensAnother() async throws {
        let desk = try await Desk()
        let first = try await desk.ingest(#"{"id": "a-1", "status": "New"}"#)
        try await desk.close(first.incident.id)
        let reopened = try await desk.ingest(#"{"id": "a-1", "status": "Active"}"#)
        #expect(!reopened.deduplicated && reopened.incident.id != first.incident.id)
        // The latest incident for the reference is the open one: the tool's next close joins that.
        let echo = try await desk.ingest(Self.closedAlert)
        #expect(echo.deduplicated && echo.incident.id == reopened.incident.id)
        #expect(try await desk.incidents().count == 2)
        await desk.service.shutdown()
    }

    @Test("Two closed alerts of one reference arriving together open one incident")
    func togetherOpenOne() async throws {
        let desk = try await Desk()
        async let one = desk.ingest(Self.closedAlert)
        async let two = desk.ingest(Self.closedAlert)
        let both = try await [one, two]
        #expect(both.filter(\.deduplicated).count == 1 && Set(both.map(\.incident.id)).count == 1)
        await desk.service.shutdown()
    }

    @Test("A closed_in_source the mapper gets wrong keeps the alert as unmapped, naming the member")
    func wrongCloseIsUnmapped() async throws {
        let desk = try await Desk()
        let kept = try await desk.ingest(#"{"id": "a-2", "said": {"classification": "FalsePositive"}}"#)
        #expect(kept.incident.type == "unmapped")
        #expect(kept.warning?.contains(#""closed_in_source.status": required"#) == true, "\(kept.warning ?? "")")
        let odd = try await desk.ingest(#"{"id": "a-3", "said": {"status": "Closed", "who": "bob"}}"#)
        #expect(odd.warning?.contains(#""closed_in_source.who": unknown member: it takes status, classification, by, comment"#) == true,
                "\(odd.warning ?? "")")
        await desk.service.shutdown()
    }
}
