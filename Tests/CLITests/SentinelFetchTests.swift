import Foundation
import TestSupport
import Testing

/// `scripts/integrations/sentinel.lua`'s fetch on `automator serve`, against a loopback Azure
/// Resource Manager: Sentinel's incidents, with their entities, become incidents for the shipped
/// playbooks, oldest first, a page a run, the cursor moving to the latest; a missing role says which one.
@Suite("Integrations fetch alerts: Microsoft Sentinel on automator serve", .serialized, .timeLimit(.minutes(3)))
struct SentinelFetchTests {
    /// `serve` on `folder`'s data with sentinel.lua set up for `sentinel`, two incidents a page.
    static func serve(_ folder: TemporaryFolder, sentinel: LoopbackSentinel) async throws -> ServerProcess {
        let settings = sentinel.settings.sorted { $0.key < $1.key }.map { #"\#($0.key): "\#($0.value)""# }
        let config = try folder.write("automator.yml", """
            integrations:
              sentinel: { \(settings.joined(separator: ", ")), page_size: "2" }
            """)
        return try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                             scripts: try FetchServeTests.scripts(in: folder, fetching: "sentinel"),
                                             arguments: ["--executors", "1", "--config", config])
    }

    /// A Sentinel incident `name` titled `title`, modified at `modified`, with `entities` (JSON text).
    static func incident(_ name: String, _ title: String, tactics: [String] = [], status: String = "New",
                         modified: String, entities: String = "[]") -> String
    {
        let tactics = tactics.map { #""\#($0)""# }.joined(separator: ", ")
        return """
            {"id": "\(LoopbackSentinel.path)/Incidents/\(name)", "name": "\(name)", "type": "Microsoft.SecurityInsights/Incidents",
             "properties": {"title": "\(title)", "severity": "High", "status": "\(status)", "incidentNumber": 3177,
              "lastModifiedTimeUtc": "\(modified)", "additionalData": {"tactics": [\(tactics)]}},
             "entities": \(entities)}
            """
    }

    /// The `$filter`s of the incidents requests that were no next page, in order.
    static func filters(_ sentinel: LoopbackSentinel) -> [String] {
        sentinel.received.lines.filter { $0.hasPrefix("GET \(LoopbackSentinel.path)/incidents") && !$0.contains("skipToken") }
            .compactMap { line in
                URLComponents(string: String(line.dropFirst("GET ".count)))?.queryItems?.first { $0.name == "$filter" }?.value
            }
    }

    @Test("Incidents and their entities become incidents for the playbooks, oldest first, a page a run; the cursor moves to the latest")
    func fetchesIncidents() async throws {
        let sentinel = try await LoopbackSentinel()
        defer { sentinel.stop() }
        let example = try String(contentsOf: PlaybookTrialTests.scripts.appendingPathComponent("examples/alerts/sentinel.json"),
                                 encoding: .utf8)
        let now = Date()
        let stamp = { (seconds: TimeInterval) in FetchServeTests.stamp(now.addingTimeInterval(seconds)) }
        // The example (beaconing, with its entities) modified within the first fetch's hour.
        sentinel.publish([
            Self.incident("closed-1", "Beaconing to a known C2 server", tactics: ["CommandAndControl"], status: "Closed",
                          modified: stamp(-900)),
            example.replacingOccurrences(of: "2026-11-30T02:15:03.1266667Z", with: stamp(-600)),
            Self.incident("other-1", "Rare process run by a service account", tactics: ["Execution"], modified: stamp(-60),
                          entities: #"[{"kind": "Host", "properties": {"hostName": "srv-db-02"}}]"#),
        ])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, sentinel: sentinel)

        var incidents: [[String: Any]] = []
        // Required: the checks below read the incidents by position.
        try #require(try await eventually {
            incidents = try await FetchServeTests.incidents(on: server)
            return incidents.count == 3
        }, "\(server.log)")
        #expect(incidents.map { $0["type"] as? String } == ["sentinel_incident", "c2_traffic", "sentinel_incident"])
        #expect(incidents.map { $0["source_ref"] as? String } == ["closed-1", "73e01a99-5cd7-4139-a149-9f2736ff2ab5", "other-1"])
        let c2 = incidents[1]["fields"] as? [String: Any] ?? [:]
        #expect(c2["host"] as? String == "ws-fin-0007" && c2["remote_ip"] as? String == "198.51.100.7"
            && c2["host_ip"] as? String == "10.20.4.31", "from the incident's entities: \(c2)")
        #expect(incidents[2]["title"] as? String == "Rare process run by a service account on srv-db-02")
        // c2_traffic.lua for the beaconing; alert_triage.lua closes the one closed in Sentinel, and
        // gives tier 1 the other.
        #expect(try await eventually {
            try await server.call("GET", "/api/v1/incidents/INC-1").json["close_reason"] as? String
                == "Closed in Microsoft Sentinel already (no classification given)."
        }, "\(server.log)")
        #expect(try await eventually {
            let tasks = try await server.call("GET", "/api/v1/tasks?status=open").json["tasks"] as? [[String: Any]] ?? []
            return tasks.contains { $0["title"] as? String == "Triage the Microsoft Sentinel alert: Rare process run by a "
                + "service account on srv-db-02" }
        }, "\(server.log)")

        let token = sentinel.received.all.first { $0.line.hasPrefix("POST /tenant-1/oauth2") }
        #expect(token?.form["scope"] == "https://management.azure.com/.default")
        let entities = sentinel.received.lines.filter { $0.contains("/entities?api-version=2024-03-01") }
        #expect(entities.count >= 3, "each incident's entities asked for: \(entities)")
        #expect(!sentinel.received.lines.contains { $0.contains("skipToken") }, "never by nextLink's offset")
        let filters = Self.filters(sentinel)
        #expect(filters.first?.hasPrefix("properties/lastModifiedTimeUtc gt ") == true, "the first fetch asks for the last hour")
        // The first page, full, held back its last instant (the beaconing): the next page asked at
        // once from the instant before, and got it.
        #expect(filters.dropFirst().first == "properties/lastModifiedTimeUtc gt \(stamp(-900))", "\(filters)")
        #expect(try await eventually { Self.filters(sentinel).contains("properties/lastModifiedTimeUtc gt \(stamp(-60))") },
                "the next fetches ask from the latest modification seen")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("An incident closed here closes its Sentinel incident, classified as it was resolved: by a playbook, and by a person")
    func closesInSentinel() async throws {
        let sentinel = try await LoopbackSentinel()
        defer { sentinel.stop() }
        let stamp = { (seconds: TimeInterval) in FetchServeTests.stamp(Date().addingTimeInterval(seconds)) }
        sentinel.publish([Self.incident("other-1", "Rare process", tactics: ["Execution"], modified: stamp(-120)),
                          Self.incident("other-2", "Odd logon", tactics: ["Execution"], modified: stamp(-60))])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, sentinel: sentinel)
        var tasks: [[String: Any]] = []
        try #require(try await eventually {
            tasks = try await server.call("GET", "/api/v1/tasks?status=open").json["tasks"] as? [[String: Any]] ?? []
            return tasks.count == 2
        }, "alert triage gives tier 1 each: \(server.log)")
        let byRef = Dictionary(uniqueKeysWithValues: try await FetchServeTests.incidents(on: server).map {
            ($0["source_ref"] as? String ?? "", $0["id"] as? String ?? "")
        })

        // Tier 1 finds the first a false positive: the playbook closes it, the hook closes it in Sentinel.
        let first = try #require(tasks.first { $0["incident"] as? String == byRef["other-1"] }?["id"] as? String)
        let answered = try await server.call("POST", "/api/v1/tasks/\(first)/complete",
                                             body: #"{"answer": "false positive", "by": "alice"}"#)
        #expect(answered.status == 200, "\(answered.body)")
        #expect(try await eventually { sentinel.properties(of: "other-1")["status"] as? String == "Closed" }, "\(server.log)")
        let closed = sentinel.properties(of: "other-1")
        #expect(closed["classification"] as? String == "FalsePositive"
            && closed["classificationReason"] as? String == "IncorrectAlertLogic"
            && (closed["classificationComment"] as? String)?.hasPrefix("Closed in Automator as \(byRef["other-1"] ?? "?"): False positive") == true,
                "\(closed)")

        // A person closes the second as benign, through the API.
        let second = byRef["other-2"] ?? "?"
        let patched = try await server.call("PATCH", "/api/v1/incidents/\(second)",
                                            body: #"{"status": "closed", "reason": "The admin's logon", "resolution": "benign"}"#)
        #expect(patched.status == 200, "\(patched.body)")
        #expect(try await eventually { sentinel.properties(of: "other-2")["classification"] as? String == "BenignPositive" },
                "\(server.log)")
        #expect(try await eventually {
            try await server.journal(second).contains { $0.text.hasPrefix("Closed Microsoft Sentinel incident other-2 too, as BenignPositive") }
        }, "the hook notes what it closed where")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("The write-back's echo: the incident closed in Sentinel from here comes back closed, news on the incident here, not another; the report counts one false positive")
    func closeEchoJoinsTheClosedIncident() async throws {
        let sentinel = try await LoopbackSentinel()
        defer { sentinel.stop() }
        sentinel.publish([Self.incident("echo-1", "Rare process", tactics: ["Execution"],
                                        modified: FetchServeTests.stamp(Date().addingTimeInterval(-60)))])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, sentinel: sentinel)
        try #require(try await eventually { try await FetchServeTests.incidents(on: server).count == 1 }, "\(server.log)")

        let patched = try await server.call("PATCH", "/api/v1/incidents/INC-1",
                                            body: #"{"status": "closed", "reason": "The admin's scan", "resolution": "false_positive"}"#)
        #expect(patched.status == 200, "\(patched.body)")
        #expect(try await eventually { sentinel.properties(of: "echo-1")["status"] as? String == "Closed" }, "\(server.log)")
        // The close moved the incident's lastModifiedTimeUtc: a fetch (every second here) reads it, Closed.
        var said = ""
        #expect(try await eventually {
            said = try await server.journal("INC-1").last { $0.kind == "alert" }?.text ?? ""
            return !said.isEmpty
        }, "\(server.log)")
        #expect(said == #"the alert arrived again, closed at sentinel (status Closed, classification FalsePositive, "#
            + #"comment "Closed in Automator as INC-1: The admin's scan"): Rare process; INC-1 stays closed, and "#
            + "nothing opened", "\(said)")
        let incidents = try await FetchServeTests.incidents(on: server)
        #expect(incidents.count == 1 && incidents.first?["status"] as? String == "closed"
            && incidents.first?["resolution"] as? String == "false_positive", "\(incidents)")
        let report = try await server.call("GET", "/api/v1/report?since=1d").json
        let resolutions = report["resolutions"] as? [[String: Any]] ?? []
        #expect(resolutions.map { $0["false_positive"] as? Int ?? 0 }.reduce(0, +) == 1, "\(resolutions)")
        #expect(sentinel.received.lines.filter { $0.hasPrefix("PUT ") && !$0.contains("/comments/") }.count == 1,
                "closed in Sentinel once")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("An application without a role on the workspace fails the fetch, saying which role it needs, and loses nothing")
    func missingRole() async throws {
        let sentinel = try await LoopbackSentinel()
        defer { sentinel.stop() }
        sentinel.forbid(true)
        let modified = FetchServeTests.stamp(Date().addingTimeInterval(-60))
        sentinel.publish([Self.incident("other-1", "Rare process", modified: modified)])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, sentinel: sentinel)
        #expect(try await server.waitForLog("integration sentinel: a fetch failed: Microsoft Sentinel, incidents: 403 "
            + "AuthorizationFailed: The client 'app-1' does not have authorization to perform action "
            + "'Microsoft.SecurityInsights/incidents/read'. (give the application the Microsoft Sentinel Reader role on the workspace)"),
                "\(server.log)")
        sentinel.forbid(false)
        #expect(try await eventually { try await FetchServeTests.incidents(on: server).count == 1 }, "\(server.log)")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }
}
