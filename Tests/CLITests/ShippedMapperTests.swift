import Foundation
import TestSupport
import Testing

@Suite("The shipped mappers turn their example alerts into incidents the shipped playbooks work on",
       .timeLimit(.minutes(3)))
struct ShippedMapperTests {
    /// scripts/examples/alerts/wazuh.json, as Wazuh's integrator posts it.
    static func wazuhAlert() throws -> String {
        try String(contentsOf: PlaybookTrialTests.scripts.appendingPathComponent("examples/alerts/wazuh.json"),
                   encoding: .utf8)
    }

    /// Posts `alert` to `path`, expects it to open INC-1 as a brute-force incident that the shipped
    /// playbook runs on, and returns the incident once the playbook closed it.
    static func bruteForceClosed(posting alert: String, to path: String, on server: ServerProcess,
                                 credentials: ServerProcess.Credentials = .serverToken) async throws -> [String: Any]
    {
        let ingested = try await server.call("POST", path, body: alert, credentials: credentials)
        #expect(ingested.status == 201, "\(ingested.body)")
        #expect(ingested.json["id"] as? String == "INC-1", "\(ingested.body)")
        #expect((ingested.json["incident"] as? [String: Any])?["type"] as? String == "brute_force", "\(ingested.body)")
        #expect(ingested.json["playbook"] as? String == "Brute force", "\(ingested.body)")
        return try await server.waitForIncident("INC-1") { $0["status"] as? String == "closed" }
    }

    @Test("Splunk: the example alert, posted with an ingest-only token in the URL as the webhook alert action does, opens a brute-force incident; the token opens nothing else")
    func splunkBruteForce() async throws {
        let folder = try TemporaryFolder()
        let server = try await ShippedResponseTests.serve(in: folder)
        let made = try await AutomatorProcess.run(["token", "add", "splunk", "--ingest-only", "splunk", "--json",
                                                   "--data", server.data.path])
        let splunk = try #require((try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any])?["token"]
            as? String, "\(made.stdout)\(made.stderr)")
        let alert = try String(contentsOf: PlaybookTrialTests.scripts.appendingPathComponent("examples/alerts/splunk.json"),
                               encoding: .utf8)

        let closed = try await Self.bruteForceClosed(posting: alert, to: "/api/v1/ingest/splunk?token=\(splunk)", on: server,
                                                     credentials: .none)
        #expect(closed["title"] as? String == "SSH password guessing (198.51.100.9, deploy, web-prod-02)")
        #expect(closed["close_reason"] as? String == "Brute force from 198.51.100.9: no sign-in succeeded.")
        let fields = try #require(closed["fields"] as? [String: Any])
        #expect(fields["attempts"] as? Int == 14 && fields["succeeded"] as? Bool == false, "\(fields)")
        #expect((fields["results_link"] as? String)?.hasPrefix("https://splunk.example.com:8000/app/search/@go?sid=") == true)
        #expect(try await server.journal("INC-1").first?.actor == "api:splunk")

        let alice = try await PersonalTokenServeTests.add("alice", data: server.data)
        for (method, path, why) in [("GET", "/api/v1/incidents?token=\(splunk)", "another route"),
                                    ("POST", "/api/v1/ingest/wazuh?token=\(splunk)", "another source's ingest"),
                                    ("POST", "/api/v1/ingest/splunk?token=\(alice)", "a token not ingest-only, in the URL")] {
            let refused = try await server.call(method, path, body: method == "POST" ? alert : nil, credentials: .none)
            #expect(refused.status == 403, "\(why): \(refused.body)")
        }
        let revoked = try await AutomatorProcess.run(["token", "revoke", "splunk", "--data", server.data.path])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        let after = try await server.call("POST", "/api/v1/ingest/splunk?token=\(splunk)", body: alert, credentials: .none)
        #expect(after.status == 401, "\(after.body)")
        let incidents = try await server.call("GET", "/api/v1/incidents").json["incidents"] as? [Any]
        #expect(incidents?.count == 1, "no refused alert got in: \(incidents ?? [])")
        server.terminate()
        _ = await server.waitForExit()
    }

    @Test("Wazuh: the example alert opens a brute-force incident, and the playbook notes why it could not block")
    func wazuhBruteForce() async throws {
        let folder = try TemporaryFolder()
        let server = try await ShippedResponseTests.serve(in: folder)

        let closed = try await Self.bruteForceClosed(posting: try Self.wazuhAlert(), to: "/api/v1/ingest/wazuh", on: server)
        #expect(closed["title"] as? String == "Brute force on web-prod-02 from 198.51.100.9")
        #expect(closed["close_reason"] as? String == "Brute force from 198.51.100.9: no sign-in succeeded.")
        let fields = try #require(closed["fields"] as? [String: Any])
        #expect(fields["src_ip"] as? String == "198.51.100.9")
        #expect(fields["user"] as? String == "deploy")
        let notes = try await server.journal("INC-1").filter { $0.kind == "note" }.map(\.text)
        #expect(notes.contains { $0.hasPrefix("198.51.100.9 not blocked at the firewall: ") && $0.contains("checkpoint") },
                "\(notes)")

        // The same attack again, while no incident of it is open: a new incident, not a lost alert.
        let again = try await server.call("POST", "/api/v1/ingest/wazuh", body: try Self.wazuhAlert())
        #expect(again.status == 201, "\(again.body)")
        #expect(again.json["id"] as? String == "INC-2", "\(again.body)")
    }

    @Test("Wazuh: with Check Point set up, a known-bad source is blocked at once for a day, with no approver asked")
    func wazuhBruteForceBlocked() async throws {
        let checkPoint = LoopbackCheckPoint()
        let api = try await checkPoint.start()
        defer { api.stop() }
        let folder = try TemporaryFolder()
        let server = try await ShippedResponseTests.serve(in: folder,
                                                          configuration: ShippedResponseTests.checkPointConfiguration(at: api))

        #expect(try await server.call("POST", "/api/v1/ingest/wazuh", body: try Self.wazuhAlert()).status == 201)

        let closed = try await server.waitForIncident("INC-1") { $0["status"] as? String == "closed" }
        #expect(closed["close_reason"] as? String == "Brute force from 198.51.100.9: no sign-in succeeded, blocked for 24h.")
        #expect(closed["severity"] as? String == "high", "the feed knows the source")
        #expect(checkPoint.commands == ["login", "add-host", "set-group", "publish", "logout"])
        #expect(checkPoint.blocked == ["automator-198.51.100.9"])
        let questions = try await server.call("GET", "/api/v1/questions?incident=INC-1").json["questions"] as? [Any]
        #expect(questions?.isEmpty == true, "the playbook's standing approval: \(questions ?? [])")
        let journal = try await server.journal("INC-1").map(\.text)
        let blocked = try #require(journal.first { $0.contains(": ran checkpoint.block_ip ip=198.51.100.9 ") }, "\(journal)")
        #expect(blocked.contains("approved by standing approval of the playbook") && blocked.hasSuffix("(ttl 1d)"),
                "the block lifts itself: \(blocked)")
        server.terminate()
        _ = await server.waitForExit()
    }
}
