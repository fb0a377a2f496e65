import Foundation
import TestSupport
import Testing

/// `scripts/integrations/okta.lua`'s fetch of the System Log on `automator serve`, against a
/// loopback Okta: security events become incidents through `scripts/mappers/okta.lua`, a page a
/// run from the cursor of Okta's next link, a 401 keeps the cursor and loses nothing, and the fetch
/// waits for `fetch: true`. The fetch runs every hour here: after the first run, at the start (and
/// the pages it asks for at once), only `automator fetch run` runs it.
@Suite("Integrations fetch alerts: Okta's System Log on automator serve", .serialized, .timeLimit(.minutes(3)))
struct OktaFetchServeTests {
    /// `serve` on `folder`'s data with okta.lua set up for `okta`, two events a page, its fetch on
    /// unless `fetch` says otherwise.
    static func serve(_ folder: TemporaryFolder, okta: LoopbackOkta, fetch: Bool = true) async throws -> ServerProcess {
        let scripts = try FetchServeTests.scripts(in: folder, fetching: "okta", every: "1h")
        let config = try folder.write("automator.yml", """
            integrations:
              okta: { api_url: "\(okta.url)", api_token: "\(LoopbackOkta.token)", page_size: "2"\(fetch ? ", fetch: true" : "") }
            """)
        return try await ServerProcess.start(data: folder.url.appendingPathComponent("data"), scripts: scripts,
                                             arguments: ["--executors", "1", "--config", config])
    }

    /// A System Log event `uuid` of `type` from `ip`, by l.moreau, published `seconds` from now.
    static func event(_ uuid: String, _ type: String, ip: String, seconds: TimeInterval) -> String {
        """
        {"uuid": "\(uuid)", "published": "\(FetchServeTests.stamp(Date().addingTimeInterval(seconds)))",
         "eventType": "\(type)", "version": "0", "severity": "WARN", "displayMessage": "\(type)",
         "actor": {"id": "00u1x7q9zkAbCdEf5d7", "type": "User", "alternateId": "l.moreau@example.com", "displayName": "Lea Moreau"},
         "client": {"ipAddress": "\(ip)", "geographicalContext": {"city": "Amsterdam", "country": "Netherlands"}},
         "outcome": {"result": "DENY"}, "target": []}
        """
    }

    @Test("Security events become incidents, a page a run from Okta's next link; a spray's events are one incident")
    func fetchesIntoIncidents() async throws {
        let okta = try await LoopbackOkta()
        defer { okta.stop() }
        // Two events of one spray (from a host of ours: its incident waits for tier 1 rather than
        // closing before the second joins it), a lockout from elsewhere, a sign-in the filter leaves
        // out, a denied push.
        okta.publish([Self.event("e-1", "security.threat.detected", ip: "10.20.4.31", seconds: -600),
                      Self.event("e-2", "security.threat.detected", ip: "10.20.4.31", seconds: -540),
                      Self.event("e-3", "user.account.lock", ip: "198.51.100.23", seconds: -400),
                      Self.event("e-4", "user.session.start", ip: "192.0.2.10", seconds: -350),
                      Self.event("e-5", "user.mfa.okta_verify.deny_push", ip: "192.0.2.10", seconds: -300)])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, okta: okta)

        #expect(try await eventually { try await FetchServeTests.fetch("okta", on: server)["cursor"] as? String == "position-5" }, "\(server.log)")
        let incidents = try await FetchServeTests.incidents(on: server)
        #expect(incidents.map { $0["source_ref"] as? String } == ["okta:guessing:10.20.4.31", "okta:guessing:198.51.100.23",
                                                                 "okta:user.mfa.okta_verify.deny_push:l.moreau@example.com"])
        #expect(incidents.map { $0["type"] as? String } == ["brute_force", "brute_force", "okta_event"])
        #expect(try await server.call("GET", "/api/v1/incidents/INC-1").json["alert_count"] as? Int == 2, "the spray's two events")
        let fields = try await server.call("GET", "/api/v1/incidents/INC-2").json["fields"] as? [String: Any] ?? [:]
        #expect(fields["src_ip"] as? String == "198.51.100.23" && fields["user"] as? String == "l.moreau@example.com", "\(fields)")

        // A full page asks for the next at once, from the cursor of its next link; the last, short, ends it.
        let queries = okta.logQueries
        #expect(queries.map { $0["after"] } == [nil, "position-2", "position-5"], "\(queries)")
        #expect(queries[0]["since"]?.hasSuffix("Z") == true && queries.allSatisfy { $0["limit"] == "2" && $0["sortOrder"] == "ASCENDING" })
        #expect(queries[0]["filter"]?.hasPrefix(#"eventType eq "security.threat.detected" or eventType eq "user.account.lock""#)
            == true, "\(queries[0])")

        // Each run reads one page: a new event is one request, from the cursor kept.
        okta.publish([Self.event("e-6", "user.account.report_suspicious_activity_by_enduser", ip: "192.0.2.10", seconds: -10)])
        let run = try await AutomatorProcess.run(["fetch", "run", "okta", "--data", server.data.path])
        #expect(run.status == 0 && run.stdout == "okta: 1 alert, 1 opened an incident, 0 joined one here; cursor position-6\n", "\(run.stdout)\(run.stderr)")
        #expect(okta.logQueries.count == 4 && okta.logQueries.last?["after"] == "position-5")
        #expect(try await FetchServeTests.incidents(on: server).last?["type"] as? String == "okta_event")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("A 401 fails the run, keeps the cursor and loses nothing: the next run fetches what it missed")
    func unauthorizedKeepsTheCursor() async throws {
        let okta = try await LoopbackOkta()
        defer { okta.stop() }
        okta.publish([Self.event("e-1", "user.account.lock", ip: "198.51.100.23", seconds: -60)])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, okta: okta)
        #expect(try await eventually { try await FetchServeTests.fetch("okta", on: server)["cursor"] as? String == "position-1" }, "\(server.log)")
        let data = server.data.path

        okta.fail(.unauthorized)
        okta.publish([Self.event("e-2", "security.threat.detected", ip: "203.0.113.45", seconds: -5)])
        let refused = try await AutomatorProcess.run(["fetch", "run", "okta", "--data", data])
        #expect(refused.status == 1 && refused.stderr.contains(
            "the fetch okta failed: Okta, System Log: 401 Invalid token provided (check OKTA_API_TOKEN"), "\(refused.stderr)")
        #expect(try await FetchServeTests.fetch("okta", on: server)["cursor"] as? String == "position-1")
        #expect(try await FetchServeTests.incidents(on: server).count == 1)

        okta.fail(nil)
        let run = try await AutomatorProcess.run(["fetch", "run", "okta", "--data", data])
        #expect(run.status == 0 && run.stdout.contains("1 opened an incident"), "\(run.stdout)\(run.stderr)")
        #expect(okta.logQueries.suffix(2).map { $0["after"] } == ["position-1", "position-1"], "asked again from the cursor kept")
        #expect(try await FetchServeTests.incidents(on: server).last?["source_ref"] as? String == "okta:guessing:203.0.113.45")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("Okta set up to suspend users fetches nothing until the configuration says fetch: true")
    func optIn() async throws {
        let okta = try await LoopbackOkta()
        defer { okta.stop() }
        okta.publish([Self.event("e-1", "user.account.lock", ip: "198.51.100.23", seconds: -60)])
        let folder = try TemporaryFolder()
        let server = try await Self.serve(folder, okta: okta, fetch: false)
        let fetches = try await server.call("GET", "/api/v1/fetches").json["fetches"] as? [[String: Any]]
        #expect(fetches?.isEmpty == true, "\(fetches ?? [])")
        let actions = try await server.call("GET", "/api/v1/actions/catalog").json["actions"] as? [[String: Any]] ?? []
        #expect(actions.contains { $0["name"] as? String == "okta.suspend_user" }, "its actions are in use: \(actions)")
        let run = try await AutomatorProcess.run(["fetch", "run", "okta", "--data", server.data.path])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(okta.logQueries.isEmpty, "the System Log never asked for")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }
}
