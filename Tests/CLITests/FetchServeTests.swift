import Foundation
import GRDB
import TestSupport
import Testing

/// `scripts/integrations/defender.lua`'s fetch on `automator serve`, against a loopback Microsoft
/// Graph: alerts become incidents through the ingest path, the cursor survives a restart, a page
/// fetched again opens nothing twice, and a failing fetch keeps its cursor and says so.
@Suite("Integrations fetch alerts: Microsoft Defender XDR on automator serve", .serialized, .timeLimit(.minutes(3)))
struct FetchServeTests {
    /// The shipped scripts, with `integration` (defender.lua) fetching every `every` (a second) instead of every minute.
    static func scripts(in folder: TemporaryFolder, fetching integration: String = "defender", every: String = "1s") throws
        -> URL
    {
        let scripts = folder.url.appendingPathComponent("scripts")
        try FileManager.default.copyItem(at: PlaybookTrialTests.scripts, to: scripts)
        let file = scripts.appendingPathComponent("integrations/\(integration).lua")
        let text = try String(contentsOf: file, encoding: .utf8)
        #expect(text.contains(#"every = "1m","#))
        try text.replacingOccurrences(of: #"every = "1m","#, with: #"every = "\#(every)","#).write(to: file, atomically: true,
                                                                                                   encoding: .utf8)
        return scripts
    }

    /// Writes `folder`'s automator.yml: defender.lua set up for `graph`, `page_size` alerts a page,
    /// and `max_pages` pages a run when given.
    @discardableResult
    static func configure(_ folder: TemporaryFolder, graph: LoopbackGraph, pageSize: Int = 2, maxPages: Int? = nil) throws
        -> String
    {
        var settings = graph.settings.merging(["page_size": "\(pageSize)"]) { $1 }
        settings["max_pages"] = maxPages.map(String.init)
        let written = settings.sorted { $0.key < $1.key }.map { #"\#($0.key): "\#($0.value)""# }
        return try folder.write("automator.yml", "integrations:\n  defender: { \(written.joined(separator: ", ")) }\n")
    }

    /// `serve` on `folder`'s data with defender.lua set up for `graph`, as `configure` writes it.
    static func serve(_ folder: TemporaryFolder, scripts: URL, graph: LoopbackGraph, pageSize: Int = 2,
                      maxPages: Int? = nil) async throws -> ServerProcess
    {
        let config = try configure(folder, graph: graph, pageSize: pageSize, maxPages: maxPages)
        return try await ServerProcess.start(data: folder.url.appendingPathComponent("data"), scripts: scripts,
                                             arguments: ["--executors", "1", "--config", config])
    }

    /// `date` as Graph writes an alert's times, which sort as text: `2026-11-30T02:15:03.126Z`.
    static func stamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// The value of the gauge `name` for defender in `server`'s `/metrics`.
    static func gauge(_ name: String, on server: ServerProcess) async throws -> Double? {
        let metrics = try await server.call("GET", "/metrics").body
        return metrics.split(separator: "\n").first { $0.hasPrefix(name + #"{integration="defender"} "#) }
            .flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// An alerts_v2 alert `id` of `category`, updated at `updated` (the example's other fields).
    static func alert(_ id: String, category: String = "DefenseEvasion", title: String = "Suspicious execution of hidden file",
                      severity: String = "medium", updated: String) -> String
    {
        """
        {"@odata.type": "#microsoft.graph.security.alert", "id": "\(id)", "incidentId": "4127", "status": "new",
         "severity": "\(severity)", "serviceSource": "microsoftDefenderForEndpoint",
         "detectionSource": "microsoftDefenderForEndpoint", "title": "\(title)", "category": "\(category)",
         "description": "What Defender saw.", "mitreTechniques": ["T1564.001"], "lastUpdateDateTime": "\(updated)",
         "evidence": [{"@odata.type": "#microsoft.graph.security.deviceEvidence", "deviceDnsName": "ws-eng-0142",
                       "mdeDeviceId": "5e0b8f13", "ipInterfaces": ["10.20.4.31"]},
                      {"@odata.type": "#microsoft.graph.security.ipEvidence", "ipAddress": "198.51.100.7"}]}
        """
    }

    /// The fetch `name` as `GET /api/v1/fetches` lists it.
    static func fetch(_ name: String, on server: ServerProcess) async throws -> [String: Any] {
        let fetches = try await server.call("GET", "/api/v1/fetches").json["fetches"] as? [[String: Any]] ?? []
        return fetches.first { $0["name"] as? String == name } ?? [:]
    }

    /// The incidents, oldest first.
    static func incidents(on server: ServerProcess) async throws -> [[String: Any]] {
        let listed = try await server.call("GET", "/api/v1/incidents?limit=100").json["incidents"] as? [[String: Any]] ?? []
        func number(_ incident: [String: Any]) -> Int { Int((incident["id"] as? String ?? "").dropFirst("INC-".count)) ?? 0 }
        return listed.sorted { number($0) < number($1) }
    }

    /// The `$filter`s of the alerts_v2 requests, in order.
    static func filters(_ graph: LoopbackGraph) -> [String] {
        graph.received.lines.filter { $0.hasPrefix("GET /v1.0/security/alerts_v2") }.compactMap { line in
            URLComponents(string: String(line.dropFirst("GET ".count)))?.queryItems?
                .first { $0.name == "$filter" && !line.contains("skiptoken") }?.value
        }
    }

    @Test("Alerts become incidents that start their playbook; a restart goes on from the kept cursor; a page fetched twice opens nothing twice")
    func fetchesIntoIncidents() async throws {
        let graph = try await LoopbackGraph()
        defer { graph.stop() }
        let example = try String(contentsOf: PlaybookTrialTests.scripts.appendingPathComponent("examples/alerts/defender.json"),
                                 encoding: .utf8)
        let now = Date()
        let stamp = { (seconds: TimeInterval) in Self.stamp(now.addingTimeInterval(seconds)) }
        // The example's update time replaced: within the first fetch's hour.
        let malware = example.replacingOccurrences(of: "2026-11-30T02:15:03.1266667Z", with: stamp(-600))
        graph.publish([malware, Self.alert("alert-2", updated: stamp(-300)),
                       Self.alert("alert-3", category: "CommandAndControl", title: "Connection to a C2 server",
                                  updated: stamp(-60))])
        let folder = try TemporaryFolder()
        let scripts = try Self.scripts(in: folder)
        var server = try await Self.serve(folder, scripts: scripts, graph: graph)

        // A page of two holds the newest two of three: the window up to the older of them is asked
        // for, then the rest. Three incidents, their playbooks started.
        var incidents: [[String: Any]] = []
        #expect(try await eventually {
            incidents = try await Self.incidents(on: server)
            return incidents.count == 3
        }, "\(server.log)")
        // Oldest first, though Graph lists the newest first.
        #expect(incidents.map { $0["type"] as? String } == ["malware", "defender_alert", "c2_traffic"])
        #expect(incidents.map { $0["source_ref"] as? String } == ["da638671950271230000_-1284772121", "alert-2", "alert-3"])
        let runs = try await server.call("GET", "/api/v1/runs?limit=50").json["runs"] as? [[String: Any]] ?? []
        #expect(Set(runs.compactMap { $0["incident"] as? String }) == ["INC-1", "INC-2", "INC-3"],
                "c2_traffic.lua, alert_triage.lua (the defender_alert) and malware.lua started")
        let first = try #require(Self.filters(graph).first)
        #expect(first.hasPrefix("lastUpdateDateTime gt "), "the first fetch asks for the last hour: \(first)")
        let token = graph.received.all.first { $0.line.hasPrefix("POST /tenant-1/oauth2") }
        #expect(token?.form["scope"] == "https://graph.microsoft.com/.default")
        // The next fetches ask from the latest update seen.
        #expect(try await eventually { Self.filters(graph).contains("lastUpdateDateTime gt \(stamp(-60))") })

        // automator fetch, through the server, then on the folder once it stopped.
        let data = server.data.path
        let listed = try await AutomatorProcess.run(["fetch", "list", "--data", data])
        #expect(listed.status == 0 && listed.stdout.hasPrefix("defender (mappers/defender.lua, every 1s)\n")
            && listed.stdout.contains("  cursor        \(stamp(-60))\n"), "\(listed.stdout)\(listed.stderr)")
        let unknown = try await AutomatorProcess.run(["fetch", "run", "sentinel", "--data", data])
        #expect(unknown.status == 1 && unknown.stderr.contains(
            "no integration in use declares a fetch named sentinel: the fetches are defender"), "\(unknown.stderr)")

        // Stopped; meanwhile one alert is updated and one is new.
        server.terminate()
        #expect(await server.waitForExit() == 0)
        let stored = try await AutomatorProcess.run(["fetch", "list", "--data", data, "--json"])
        #expect(stored.status == 0 && stored.stdout.contains(#""cursor":"\#(stamp(-60))""#), "\(stored.stdout)\(stored.stderr)")
        let asked = Self.filters(graph).count
        graph.publish([Self.alert("alert-2", severity: "low", updated: stamp(1)), Self.alert("alert-4", updated: stamp(2))])
        server = try await Self.serve(folder, scripts: scripts, graph: graph)
        #expect(try await eventually { try await Self.incidents(on: server).count == 4 }, "\(server.log)")
        #expect(Self.filters(graph)[asked] == "lastUpdateDateTime gt \(stamp(-60))", "the restart went on from the cursor")
        // The update, older than the new alert, came first and joined the incident its alert opened.
        var journal: [[String: Any]] = []
        #expect(try await eventually {
            journal = try await server.call("GET", "/api/v1/incidents/\(incidents[1]["id"] as! String)/journal")
                .json["journal"] as? [[String: Any]] ?? []
            return journal.contains { $0["kind"] as? String == "alert" && $0["actor"] as? String == "fetch:defender" }
        }, "the update joined the incident its alert opened: \(journal)")

        // A crash after the alerts were stored but before the cursor was: the page comes again.
        server.kill()
        _ = await server.waitForExit()
        let database = try DatabaseQueue(path: folder.url.appendingPathComponent("data/automator.sqlite").path)
        let earlier = stamp(-60)
        try await database.write { db in
            try db.execute(sql: "UPDATE fetch_cursor SET cursor = ? WHERE name = 'defender'", arguments: [earlier])
        }
        try database.close()
        let before = Self.filters(graph).count
        server = try await Self.serve(folder, scripts: scripts, graph: graph)
        #expect(try await eventually { Self.filters(graph).count > before + 1 })
        #expect(Self.filters(graph)[before] == "lastUpdateDateTime gt \(stamp(-60))")
        #expect(try await Self.incidents(on: server).count == 4, "the alerts fetched again linked to their incidents")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("A failing fetch keeps its cursor, is logged once per cause and shows in /healthz and /metrics; a 429 is waited out")
    func failuresKeepTheCursor() async throws {
        let graph = try await LoopbackGraph()
        defer { graph.stop() }
        let first = Self.stamp(Date().addingTimeInterval(-60))
        graph.publish([Self.alert("alert-1", updated: first)])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, scripts: try Self.scripts(in: folder), graph: graph)
        #expect(try await eventually { try await Self.fetch("defender", on: server)["cursor"] as? String == first },
                "\(server.log)")

        // The next alert comes once the 401 is seen: a run asking meanwhile, past the fault's check
        // before it was set, would have read it, and moved the cursor before any failure.
        graph.fail(.unauthorized)
        #expect(try await server.waitForLog("integration defender: a fetch failed: Microsoft Graph, alerts: 401 "
            + "InvalidAuthenticationToken: Lifetime validation failed, the token is expired."))
        let second = Self.stamp(Date())
        graph.publish([Self.alert("alert-2", updated: second)])
        let health = try await server.call("GET", "/healthz", credentials: .none).json
        let failing = health["fetches_failing"] as? [[String: Any]] ?? []
        #expect(failing.first?["integration"] as? String == "defender" && (failing.first?["failed"] as? Int ?? 0) >= 1,
                "\(health)")
        let metrics = try await server.call("GET", "/metrics").body
        #expect(metrics.contains(#"automator_integration_fetch_failing{integration="defender"} 1"#), "\(metrics)")
        #expect(server.log.components(separatedBy: "a fetch failed: Microsoft Graph, alerts: 401").count == 2,
                "logged once for its cause")

        graph.fail(.notJSON)
        #expect(try await server.waitForLog("a fetch failed: Microsoft Graph, alerts: the answer is not a page of alerts"))
        #expect(try await Self.incidents(on: server).count == 1)

        // A 429 is waited out by `http` and asked again: the page is fetched, from the cursor kept all along.
        graph.fail(.throttledOnce)
        #expect(try await eventually(within: .seconds(60)) { try await Self.incidents(on: server).count == 2 }, "\(server.log)")
        let filters = Self.filters(graph).drop { $0 != "lastUpdateDateTime gt \(first)" }
        #expect(filters.prefix { $0 == "lastUpdateDateTime gt \(first)" }.count >= 4
            && Set(filters).isSubset(of: ["lastUpdateDateTime gt \(first)", "lastUpdateDateTime gt \(second)"]),
                "401, not JSON, 429 and its retry, all from the cursor kept: \(filters)")
        // Said once the cursor is kept, after the page's incidents.
        #expect(try await server.waitForLog("integration defender: fetches succeed again, after"))
        #expect(try await eventually {
            (try await server.call("GET", "/healthz", credentials: .none).json["fetches_failing"] as? [Any])?.isEmpty == true
        })
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("An alert storm larger than a run reads is fetched whole over consecutive runs, each alert once, the cursor at the newest")
    func stormIsFetchedWhole() async throws {
        let graph = try await LoopbackGraph()
        defer { graph.stop() }
        // 15 alerts updated within 140 ms, where a run reads 3 pages of 2 at most: the same
        // fetch failed every run, "raise max_pages", and its window only grew.
        let start = Date().addingTimeInterval(-30)
        let stamps = (0..<15).map { Self.stamp(start.addingTimeInterval(Double($0) / 100)) }
        graph.publish(stamps.enumerated().map { Self.alert("alert-\($0.offset)", updated: $0.element) })
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, scripts: try Self.scripts(in: folder), graph: graph, maxPages: 3)

        var incidents: [[String: Any]] = []
        #expect(try await eventually(within: .seconds(90)) {
            incidents = try await Self.incidents(on: server)
            return incidents.count == 15
        }, "\(server.log)")
        #expect(incidents.map { $0["source_ref"] as? String } == (0..<15).map { "alert-\($0)" }, "oldest first")
        #expect(incidents.allSatisfy { $0["alert_count"] as? Int == 1 }, "each alert once: \(incidents)")
        var cursor: String?
        #expect(try await eventually {
            cursor = try await Self.fetch("defender", on: server)["cursor"] as? String
            return cursor == stamps.last
        }, "the cursor ends at the newest: \(cursor ?? "none")")
        #expect(!server.log.contains("a fetch failed"), "\(server.log)")
        // Windows with an end, each read from one page: no nextLink followed.
        #expect(Self.filters(graph).contains { $0.contains(" and lastUpdateDateTime le ") })
        #expect(!graph.received.lines.contains { $0.contains("skiptoken") })
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("More alerts updated at one instant than a page holds fail the run, saying to raise page_size; raised, none is lost")
    func oneInstantPastAPage() async throws {
        let graph = try await LoopbackGraph()
        defer { graph.stop() }
        let before = Self.stamp(Date().addingTimeInterval(-60))
        let instant = Self.stamp(Date().addingTimeInterval(-30))
        graph.publish([Self.alert("alert-0", updated: before)] + (1...3).map { Self.alert("alert-\($0)", updated: instant) })
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, scripts: try Self.scripts(in: folder), graph: graph)

        // Three at one instant, two a page: the alert before it is taken, then the runs fail at it.
        let written = instant.dropLast() + "0000Z"
        #expect(try await server.waitForLog("integration defender: a fetch failed: more than 2 alerts were updated at "
            + "\(written): raise integrations.defender.page_size (Graph takes up to 1000 a page), which loses none of them"),
                "\(server.log)")
        #expect(try await Self.incidents(on: server).map { $0["source_ref"] as? String } == ["alert-0"])

        try Self.configure(folder, graph: graph, pageSize: 3)
        server.hangUp()
        var incidents: [[String: Any]] = []
        #expect(try await eventually(within: .seconds(60)) {
            incidents = try await Self.incidents(on: server)
            return incidents.count == 4
        }, "\(server.log)")
        #expect(Set(incidents.dropFirst().compactMap { $0["source_ref"] as? String }) == ["alert-1", "alert-2", "alert-3"])
        #expect(try await eventually { try await Self.fetch("defender", on: server)["cursor"] as? String == instant })
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("On a shared PostgreSQL store only the leader fetches, fetch run too; the next leader goes on from its cursor")
    func onlyTheLeaderFetches() async throws {
        let graph = try await LoopbackGraph()
        defer { graph.stop() }
        let first = Self.stamp(Date().addingTimeInterval(-60))
        graph.publish([Self.alert("alert-1", updated: first), Self.alert("alert-2", updated: first)])
        let folder = try TemporaryFolder()
        let scripts = try Self.scripts(in: folder)
        let store = try await PostgresServer.shared().makeDatabase()
        let settings = graph.settings.sorted { $0.key < $1.key }.map { #"\#($0.key): "\#($0.value)""# }
        let config = try folder.write("automator.yml", "integrations:\n  defender: { \(settings.joined(separator: ", ")) }\n")
        func worker(_ name: String) async throws -> ServerProcess {
            try await ServerProcess.start(data: folder.url.appendingPathComponent(name), scripts: scripts,
                                          arguments: ["--executors", "1", "--store", store, "--config", config])
        }
        let one = try await worker("one")
        let two = try await worker("two")
        #expect(try await eventually { try await Self.incidents(on: two).count == 2 })
        // One of them leads, and only its fetch ever stored a page; the other's never ran.
        var stamps: [Double] = []
        #expect(try await eventually {
            stamps = [try await Self.gauge("automator_integration_fetch_success_timestamp_seconds", on: one) ?? -1,
                      try await Self.gauge("automator_integration_fetch_success_timestamp_seconds", on: two) ?? -1]
            return stamps.filter { $0 > 0 }.count == 1 && stamps.contains(0)
        }, "\(stamps)")
        let (leader, other) = stamps[0] > 0 ? (one, two) : (two, one)
        let listed = try await other.call("GET", "/api/v1/fetches").json["fetches"] as? [[String: Any]]
        #expect(listed?.first?["cursor"] as? String == first, "every worker reads the leader's cursor: \(listed ?? [])")
        // A run asked of the other would ingest the page beside the leader's: refused. A dry run stores nothing: answered.
        let refused = try await other.call("POST", "/api/v1/fetches/defender/run")
        #expect(refused.status == 409 && refused.body.contains("this worker does not fetch"), "\(refused.body)")
        let dryRun = try await other.call("POST", "/api/v1/fetches/defender/run?dry_run=true")
        #expect(dryRun.status == 200 && dryRun.json["cursor"] as? String == first, "\(dryRun.body)")

        // The leader stops; the other leads, and goes on from the cursor.
        leader.terminate()
        #expect(await leader.waitForExit() == 0)
        let asked = Self.filters(graph).count
        graph.publish([Self.alert("alert-3", updated: Self.stamp(Date()))])
        #expect(try await eventually { try await Self.incidents(on: other).count == 3 }, "\(other.log)")
        #expect(Self.filters(graph).dropFirst(asked).first == "lastUpdateDateTime gt \(first)",
                "the new leader asked from the cursor the last one kept, not from a new first window")
        #expect(try await Self.gauge("automator_integration_fetch_success_timestamp_seconds", on: other) ?? 0 > 0)
        other.terminate()
        #expect(await other.waitForExit() == 0)
    }
}
