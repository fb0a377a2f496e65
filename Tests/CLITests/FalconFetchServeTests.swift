import Foundation
import TestSupport
import Testing

/// `scripts/integrations/crowdstrike.lua`'s fetch on `automator serve`, against a loopback Falcon
/// Alerts API: alerts become incidents through `scripts/mappers/crowdstrike.lua`, page after page
/// from the cursor, a dry run stores nothing and keeps the cursor, and a 401 or a 429 keeps it too;
/// an incident closed here closes its alert there, and the Jira issue it opened.
/// The fetch runs every hour here: after the first, at the start, only `automator fetch run` runs it.
@Suite("Integrations fetch alerts: CrowdStrike Falcon on automator serve", .serialized, .timeLimit(.minutes(3)))
struct FalconFetchServeTests {
    /// `serve` on `folder`'s data with crowdstrike.lua set up for `falcon`, three alerts a page, its
    /// fetch on (`fetch: true`, as crowdstrike.lua's is opt-in) unless `fetch` says otherwise; and
    /// jira.lua for `jira`, with `playbooks` (file name to source) beside the shipped ones, when given.
    static func serve(_ folder: TemporaryFolder, falcon: LoopbackFalcon, fetch: Bool = true, jira: LoopbackJira? = nil,
                      playbooks: [String: String] = [:]) async throws -> ServerProcess
    {
        let scripts = try FetchServeTests.scripts(in: folder, fetching: "crowdstrike", every: "1h")
        for (name, source) in playbooks {
            try source.write(to: scripts.appendingPathComponent("playbooks/\(name)"), atomically: true, encoding: .utf8)
        }
        let settings = { (values: [String: String]) in
            values.sorted { $0.key < $1.key }.map { #"\#($0.key): "\#($0.value)""# }.joined(separator: ", ")
        }
        let config = try folder.write("automator.yml", """
            integrations:
              crowdstrike: { \(settings(falcon.settings)), page_size: "3"\(fetch ? ", fetch: true" : "") }
            \(jira.map { "  jira: { \(settings($0.settings)) }" } ?? "")
            """)
        return try await ServerProcess.start(data: folder.url.appendingPathComponent("data"), scripts: scripts,
                                             arguments: ["--executors", "1", "--config", config])
    }

    /// A Falcon alert `id` on WS-FIN-0231 of `tactic`, updated at `updated`; `extra` adds members
    /// (`"network_accesses": [...]`).
    static func alert(_ id: String, tactic: String = "Execution", technique: String = "T1059.001",
                      name: String = "Suspicious PowerShell", updated: String, extra: String = "") -> String
    {
        """
        {"composite_id": "\(id)", "product": "epp", "status": "new", "display_name": "\(name)", "severity": 70,
         "severity_name": "High", "tactic": "\(tactic)", "technique_id": "\(technique)", "updated_timestamp": "\(updated)",
         "device": {"device_id": "5e0b8f136c244a9db7e192d4f0a3c658", "hostname": "WS-FIN-0231", "local_ip": "192.0.2.37"},
         "user_name": "j.alvarez"\(extra)}
        """
    }

    /// A Command and Control alert `id` to 198.51.100.7, updated at `updated`.
    static func beacon(_ id: String, updated: String) -> String {
        alert(id, tactic: "Command and Control", technique: "T1071.001", name: "Beaconing to a known C2 server",
              updated: updated, extra: #", "tactic_id": "TA0011", "network_accesses": [{"remote_address": "198.51.100.7", "#
                  + #""remote_port": 443, "local_address": "192.0.2.37"}]"#)
    }

    @Test("Alerts become incidents page by page, the device id where contain_host reads it; a dry run stores nothing and keeps the cursor")
    func fetchesIntoIncidents() async throws {
        let falcon = try await LoopbackFalcon()
        defer { falcon.stop() }
        let example = try String(contentsOf: PlaybookTrialTests.scripts.appendingPathComponent("examples/alerts/crowdstrike.json"),
                                 encoding: .utf8)
        let now = Date()
        let stamp = { (seconds: TimeInterval) in FetchServeTests.stamp(now.addingTimeInterval(seconds)) }
        let malware = example.replacingOccurrences(of: "2026-11-30T02:14:09.902133871Z", with: stamp(-600))
        let malwareID = "d615b8c2f4e34c0fb7a2e5d91c3f6a10:ind:5e0b8f136c244a9db7e192d4f0a3c658:4389120745-10304-18449168"
        // Two updated at one instant: a page of three ends inside it, so both wait for the next page.
        falcon.publish([malware, Self.beacon("cid:ind:beacon", updated: stamp(-300)),
                        Self.alert("cid:ind:script", updated: stamp(-300)), Self.alert("cid:ind:later", updated: stamp(-60))])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, falcon: falcon)

        var incidents: [[String: Any]] = []
        #expect(try await eventually {
            incidents = try await FetchServeTests.incidents(on: server)
            return incidents.count == 4
        }, "\(server.log)")
        #expect(incidents.map { $0["source_ref"] as? String } == [malwareID, "cid:ind:beacon", "cid:ind:script", "cid:ind:later"],
                "oldest update first, as the query sorts them")
        #expect(incidents.map { $0["type"] as? String } == ["malware", "c2_traffic", "crowdstrike_alert", "crowdstrike_alert"])
        let filters = falcon.alertFilters
        #expect(filters.count == 2 && filters[0].hasPrefix("updated_timestamp:>'")
            && filters[1] == "updated_timestamp:>'\(stamp(-600))'",
                "the first page's last instant was asked for again at once, from the one before: \(filters)")
        let query = try #require(falcon.received.lines.first { $0.hasPrefix("GET /alerts/queries/alerts/v2") })
        #expect(query.contains("sort=updated_timestamp%7Casc") && query.contains("limit=3"), "\(query)")
        #expect(falcon.received.all.contains { $0.line == "POST /alerts/entities/alerts/v2"
            && $0.json["composite_ids"] as? [String] == [malwareID, "cid:ind:beacon", "cid:ind:script"] })
        let first = try await server.call("GET", "/api/v1/incidents/INC-1").json
        let fields = first["fields"] as? [String: Any] ?? [:]
        #expect(fields["device_id"] as? String == "5e0b8f136c244a9db7e192d4f0a3c658" && fields["action"] as? String == "killed",
                "\(first)")
        #expect(try await eventually { try await FetchServeTests.fetch("crowdstrike", on: server)["cursor"] as? String == stamp(-60) })

        // A new beacon and an update of the malware alert: the dry run says what they would do.
        falcon.publish([Self.beacon("cid:ind:beacon-2", updated: stamp(-30)),
                        malware.replacingOccurrences(of: stamp(-600), with: stamp(-20))])
        let data = server.data.path
        let dryRun = try await AutomatorProcess.run(["fetch", "run", "crowdstrike", "--dry-run", "--data", data])
        #expect(dryRun.status == 0 && dryRun.stdout == """
            crowdstrike, dry run: 2 alerts, nothing stored; the cursor stays at \(stamp(-60)) (a run would move it to \(stamp(-20)))
              would open  high c2_traffic  Beaconing to a known C2 server on WS-FIN-0231 (ref cid:ind:beacon-2; playbook C2 traffic)
              would join  INC-1  Cloud-based ML detected a malicious file on WS-FIN-0231 (ref \(malwareID))

            """, "\(dryRun.stdout)\(dryRun.stderr)")
        let answer = try await server.call("POST", "/api/v1/fetches/crowdstrike/run?dry_run=true")
        #expect(answer.status == 200, "\(answer.body)")
        let previewed = answer.json["incidents"] as? [[String: Any]] ?? []
        #expect(answer.json["dry_run"] as? Bool == true && previewed.first?["severity"] as? String == "high"
            && previewed.last?["joins"] as? String == "INC-1", "\(answer.body)")
        let refused = try await server.call("POST", "/api/v1/fetches/crowdstrike/run?dry_run=yes")
        #expect(refused.status == 400 && refused.body.contains("dry_run takes true or false"), "\(refused.body)")
        // Nothing stored, the cursor where it was.
        #expect(try await FetchServeTests.incidents(on: server).count == 4)
        #expect(try await server.call("GET", "/api/v1/incidents/INC-1").json["alert_count"] as? Int == 1)
        #expect(try await FetchServeTests.fetch("crowdstrike", on: server)["cursor"] as? String == stamp(-60))

        // The run itself opens and joins what the dry run said, and moves the cursor.
        let run = try await AutomatorProcess.run(["fetch", "run", "crowdstrike", "--data", data])
        #expect(run.status == 0 && run.stdout == """
            crowdstrike: 2 alerts, 1 opened an incident, 1 joined one here; cursor \(stamp(-20))

            """, "\(run.stdout)\(run.stderr)")
        #expect(try await server.call("GET", "/api/v1/incidents/INC-1").json["alert_count"] as? Int == 2)
        #expect(try await FetchServeTests.incidents(on: server).last?["source_ref"] as? String == "cid:ind:beacon-2")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("Falcon set up for containment alone fetches nothing until the configuration says fetch: true")
    func optIn() async throws {
        let falcon = try await LoopbackFalcon()
        defer { falcon.stop() }
        falcon.publish([Self.alert("alert-1", updated: FetchServeTests.stamp(Date().addingTimeInterval(-60)))])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, falcon: falcon, fetch: false)
        let fetches = try await server.call("GET", "/api/v1/fetches").json["fetches"] as? [[String: Any]]
        #expect(fetches?.isEmpty == true, "\(fetches ?? [])")
        let actions = try await server.call("GET", "/api/v1/actions/catalog").json["actions"] as? [[String: Any]] ?? []
        #expect(actions.contains { $0["name"] as? String == "crowdstrike.contain_host" }, "its actions are in use: \(actions)")
        let run = try await AutomatorProcess.run(["fetch", "run", "crowdstrike", "--data", server.data.path])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(!falcon.received.lines.contains { $0.contains("/alerts/") }, "Falcon's alerts never asked for")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("With no server up, a dry run fetches with --config from the folder's cursor and stores nothing; a run that stores is refused")
    func dryRunWithoutServer() async throws {
        let falcon = try await LoopbackFalcon()
        defer { falcon.stop() }
        let now = Date()
        let stamp = { (seconds: TimeInterval) in FetchServeTests.stamp(now.addingTimeInterval(seconds)) }
        falcon.publish([Self.alert("cid:ind:one", updated: stamp(-120))])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, falcon: falcon)
        #expect(try await eventually { try await FetchServeTests.fetch("crowdstrike", on: server)["cursor"] as? String == stamp(-120) }, "\(server.log)")
        server.terminate()
        #expect(await server.waitForExit() == 0)

        falcon.publish([Self.alert("cid:ind:one", updated: stamp(-30)), Self.beacon("cid:ind:beacon", updated: stamp(-20))])
        let data = server.data.path
        let scripts = folder.url.appendingPathComponent("scripts").path
        let config = folder.url.appendingPathComponent("automator.yml").path
        let dryRun = try await AutomatorProcess.run(["fetch", "run", "crowdstrike", "--dry-run", "--data", data,
                                                     "--scripts", scripts, "--config", config])
        #expect(dryRun.status == 0 && dryRun.stdout == """
            crowdstrike, dry run: 2 alerts, nothing stored; the cursor stays at \(stamp(-120)) (a run would move it to \(stamp(-20)))
              would join  INC-1  Suspicious PowerShell on WS-FIN-0231 (ref cid:ind:one)
              would open  high c2_traffic  Beaconing to a known C2 server on WS-FIN-0231 (ref cid:ind:beacon; playbook C2 traffic)

            """, "\(dryRun.stdout)\(dryRun.stderr)")
        #expect(falcon.alertFilters.last == "updated_timestamp:>'\(stamp(-120))'", "asked from the folder's cursor")

        let unconfigured = try await AutomatorProcess.run(["fetch", "run", "crowdstrike", "--dry-run", "--data", data,
                                                           "--scripts", scripts])
        #expect(unconfigured.status == 1 && unconfigured.stderr.contains("pass --config automator.yml"), "\(unconfigured.stderr)")
        let run = try await AutomatorProcess.run(["fetch", "run", "crowdstrike", "--data", data, "--scripts", scripts,
                                                  "--config", config])
        #expect(run.status == 1 && run.stderr.contains("add --dry-run --config automator.yml"), "\(run.stderr)")

        let list = try await AutomatorProcess.run(["fetch", "list", "--data", data, "--json"])
        let fetches = (try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [String: Any])?["fetches"]
            as? [[String: Any]] ?? []
        #expect(fetches.first?["cursor"] as? String == stamp(-120), "the cursor kept: \(list.stdout)\(list.stderr)")
        let incidents = try await AutomatorProcess.run(["incident", "list", "--data", data, "--json"])
        #expect(incidents.status == 0 && !incidents.stdout.contains("INC-2"), "nothing opened: \(incidents.stdout)")
    }

    @Test("A 401 fails the run and keeps the cursor; a 429 is asked again when Falcon says; one that lasts fails, saying when Falcon takes requests again")
    func failuresKeepTheCursor() async throws {
        let falcon = try await LoopbackFalcon()
        defer { falcon.stop() }
        let first = FetchServeTests.stamp(Date().addingTimeInterval(-60))
        falcon.publish([Self.alert("cid:ind:one", updated: first)])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, falcon: falcon)
        #expect(try await eventually { try await FetchServeTests.fetch("crowdstrike", on: server)["cursor"] as? String == first }, "\(server.log)")
        let data = server.data.path

        falcon.fail(.unauthorized)
        let second = FetchServeTests.stamp(Date())
        falcon.publish([Self.alert("cid:ind:two", updated: second)])
        let refused = try await AutomatorProcess.run(["fetch", "run", "crowdstrike", "--data", data])
        #expect(refused.status == 1 && refused.stderr.contains(
            "the fetch crowdstrike failed: CrowdStrike Falcon, alerts query: 401 access denied, authorization failed"),
                "\(refused.stderr)")
        #expect(try await FetchServeTests.fetch("crowdstrike", on: server)["cursor"] as? String == first)

        // `http` waits out the X-RateLimit-RetryAfter of a 429 (4 s, past its own retries' pauses)
        // and asks once more: the page comes, from the cursor kept.
        falcon.fail(.throttledOnce)
        let throttled = try await AutomatorProcess.run(["fetch", "run", "crowdstrike", "--data", data])
        #expect(throttled.status == 0 && throttled.stdout.contains("1 opened an incident"), "\(throttled.stdout)\(throttled.stderr)")
        #expect(falcon.alertFilters.suffix(2) == Array(repeating: "updated_timestamp:>'\(first)'", count: 2),
                "the 429 and the one request after its reset")
        #expect(try await FetchServeTests.fetch("crowdstrike", on: server)["cursor"] as? String == second)

        falcon.fail(.throttled)
        let limited = try await AutomatorProcess.run(["fetch", "run", "crowdstrike", "--data", data])
        #expect(limited.status == 1 && limited.stderr.contains(
            "CrowdStrike Falcon, alerts query: 429 API rate limit exceeded. (Falcon takes requests again at "),
                "\(limited.stderr)")
        #expect(try await FetchServeTests.fetch("crowdstrike", on: server)["cursor"] as? String == second)
        #expect(try await FetchServeTests.incidents(on: server).count == 2)
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    /// A team's own playbook: a Jira issue for each Falcon alert it triages (none for one Falcon closed).
    static let ticketed = """
        local has = require("lib.values").has
        return playbook {
          name = "Ticketed",
          match = function(inc) return inc.type == "crowdstrike_alert" and not has(inc.labels, "closed_in_falcon") end,
          run = function(inc)
            local issue = assert(actions.run("jira.create_issue", { summary = inc.title }, { incident = inc }))
            inc:note("Filed " .. issue.result.key)
          end,
        }
        """

    @Test("An incident closed here closes its Falcon alert, tagged as resolved, and the Jira issue it opened; the fetch reads the alert closed, news on the closed incident, which opens nothing")
    func closesInFalconAndJira() async throws {
        let falcon = try await LoopbackFalcon()
        defer { falcon.stop() }
        let jira = try await LoopbackJira()
        defer { jira.stop() }
        falcon.publish([Self.alert("cid:ind:ticket", updated: FetchServeTests.stamp(Date().addingTimeInterval(-60)))])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, falcon: falcon, jira: jira, playbooks: ["ticketed.lua": Self.ticketed])
        // Required: the close below must come after the issue's action was recorded on the incident.
        try #require(try await eventually { try await server.journal("INC-1").contains { $0.text == "Filed SEC-1" } },
                     "\(server.log)")

        let patched = try await server.call("PATCH", "/api/v1/incidents/INC-1",
                                            body: #"{"status": "closed", "reason": "The admin's inventory script", "resolution": "false_positive"}"#)
        #expect(patched.status == 200, "\(patched.body)")
        #expect(try await eventually { jira.issue("SEC-1")?.status == "Done" && falcon.alert("cid:ind:ticket")?["status"] as? String == "closed" },
                "\(server.log)")
        let alert = falcon.alert("cid:ind:ticket") ?? [:]
        #expect(alert["tags"] as? [String] == ["automator/false_positive"]
            && alert["comments"] as? [String] == ["Closed in Automator as INC-1: The admin's inventory script"], "\(alert)")
        #expect(jira.issue("SEC-1")?.comments == ["Closed in Automator as INC-1: The admin's inventory script"])
        var said = ""
        #expect(try await eventually {
            said = try await server.journal("INC-1").last { $0.kind == "note" }?.text ?? ""
            return said.hasPrefix("Closed CrowdStrike Falcon alert cid:ind:ticket too, as false_positive (ACT-")
                && said.contains(". Closed Jira issue SEC-1 too (ACT-")
        }, "the hook notes what it closed where: \(said)")

        // Closing it changed the alert: the next fetch reads it, closed, which joins the closed
        // incident: no second incident, ticket or close in Falcon.
        let preview = try await AutomatorProcess.run(["fetch", "run", "crowdstrike", "--dry-run", "--data", server.data.path])
        #expect(preview.stdout.contains("\n  would join  INC-1 (closed)  Suspicious PowerShell on WS-FIN-0231 (ref cid:ind:ticket)\n"),
                "\(preview.stdout)\(preview.stderr)")
        let fetched = try await AutomatorProcess.run(["fetch", "run", "crowdstrike", "--data", server.data.path])
        #expect(fetched.status == 0 && fetched.stdout.contains("1 alert, 0 opened an incident, 1 joined one here"),
                "\(fetched.stdout)\(fetched.stderr)")
        let journal = try await server.journal("INC-1")
        #expect(journal.last?.kind == "alert" && journal.last?.text == "the alert arrived again, closed at crowdstrike "
            + "(status closed): Suspicious PowerShell on WS-FIN-0231; INC-1 stays closed, and nothing opened",
                "\(journal.last?.text ?? "")")
        #expect(try await FetchServeTests.incidents(on: server).count == 1)
        #expect(falcon.received.lines.filter { $0.hasPrefix("PATCH ") }.count == 1 && jira.labels.count == 1)
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }
}
