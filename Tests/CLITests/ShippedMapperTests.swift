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

    /// scripts/examples/alerts/suricata.json: a line of Suricata's eve.json, as a shipper posts it.
    static func suricataAlert() throws -> String {
        try String(contentsOf: PlaybookTrialTests.scripts.appendingPathComponent("examples/alerts/suricata.json"),
                   encoding: .utf8)
    }

    /// scripts/examples/alerts/guardduty.json: a GuardDuty finding as EventBridge posts it.
    static func guardDutyFinding() throws -> String {
        try String(contentsOf: PlaybookTrialTests.scripts.appendingPathComponent("examples/alerts/guardduty.json"),
                   encoding: .utf8)
    }

    /// A new ingest-only token `name` for `source`'s alerts, as `automator token add` prints it.
    static func ingestOnlyToken(_ name: String, for source: String, on server: ServerProcess) async throws -> String {
        let made = try await AutomatorProcess.run(["token", "add", name, "--ingest-only", source, "--json",
                                                   "--data", server.data.path])
        return try #require((try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any])?["token"]
            as? String, "\(made.stdout)\(made.stderr)")
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
        let splunk = try await Self.ingestOnlyToken("splunk", for: "splunk", on: server)
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
        #expect(after.status == 401 && after.body.contains("token in this URL") && after.body.contains("token rotate"),
                "a revoked token in the URL is told what to put there, not to set a header: \(after.body)")
        let incidents = try await server.call("GET", "/api/v1/incidents").json["incidents"] as? [Any]
        #expect(incidents?.count == 1, "no refused alert got in: \(incidents ?? [])")
        server.terminate()
        _ = await server.waitForExit()
    }

    @Test("GuardDuty: the example finding, posted with an ingest-only token in the Authorization header as an EventBridge API destination does, opens a brute-force incident; an update of an open finding joins its incident")
    func guardDutyBruteForce() async throws {
        let folder = try TemporaryFolder()
        let server = try await ShippedResponseTests.serve(in: folder)
        let eventBridge = try await Self.ingestOnlyToken("guardduty", for: "guardduty", on: server)

        let closed = try await Self.bruteForceClosed(posting: try Self.guardDutyFinding(), to: "/api/v1/ingest/guardduty",
                                                     on: server, credentials: .bearer(eventBridge))
        #expect(closed["title"] as? String == "SSH brute force on bastion-prod-1 from 198.51.100.23")
        #expect(closed["severity"] as? String == "low", "GuardDuty's 2")
        #expect(closed["close_reason"] as? String == "Brute force from 198.51.100.23: no sign-in succeeded.")
        let fields = try #require(closed["fields"] as? [String: Any])
        #expect(fields["instance_id"] as? String == "i-0a1b2c3d4e5f67890" && fields["occurrences"] as? Int == 37, "\(fields)")
        #expect(try await server.journal("INC-1").first?.actor == "api:guardduty")

        // Another finding, our instance guessing passwords elsewhere: its run waits for tier 1.
        var finding = try #require(try JSONSerialization.jsonObject(with: Data(try Self.guardDutyFinding().utf8))
            as? [String: Any])
        var detail = try #require(finding["detail"] as? [String: Any])
        var service = try #require(detail["service"] as? [String: Any])
        detail["id"] = "5d1e0c9b8a7f46e3b2d1c0f9e8a7b6c5"
        detail["severity"] = 8
        service["resourceRole"] = "ACTOR"
        detail["service"] = service
        finding["detail"] = detail
        let outbound = String(decoding: try JSONSerialization.data(withJSONObject: finding), as: UTF8.self)
        let opened = try await server.call("POST", "/api/v1/ingest/guardduty", body: outbound, credentials: .bearer(eventBridge))
        #expect(opened.status == 201 && opened.json["id"] as? String == "INC-2", "\(opened.body)")
        let tasks = try await ShippedResponseTests.openTasks(on: server)
        #expect(tasks.map { $0["title"] as? String } == ["Find what on 10.40.1.25 tries passwords on 198.51.100.23"])

        // GuardDuty sends the finding again as it goes on, seen more often: the same incident.
        service["count"] = 212
        detail["service"] = service
        finding["detail"] = detail
        let update = String(decoding: try JSONSerialization.data(withJSONObject: finding), as: UTF8.self)
        let linked = try await server.call("POST", "/api/v1/ingest/guardduty", body: update, credentials: .bearer(eventBridge))
        #expect(linked.status == 200 && linked.json["id"] as? String == "INC-2", "\(linked.body)")
        #expect(try await server.call("GET", "/api/v1/incidents/INC-2").json["alert_count"] as? Int == 2)
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

    @Test("Suricata: the example beacon blocks its known-bad peer at once; Falcon contains the host only once an approver agrees")
    func suricataC2Traffic() async throws {
        let checkPoint = LoopbackCheckPoint()
        let firewall = try await checkPoint.start()
        defer { firewall.stop() }
        let device = "5e0b8f136c244a9db7e192d4f0a3c658"
        let falcon = try await LoopbackFalcon(devices: [.init(id: device, hostname: "WS-ENG-0142", localIP: "10.20.4.31")])
        defer { falcon.stop() }
        let folder = try TemporaryFolder()
        // 10.20.4.31 is in a protected network: the lookup of its device must pass all the same.
        let server = try await ShippedResponseTests.serve(
            in: folder, configuration: ShippedResponseTests.checkPointConfiguration(at: firewall, falcon: falcon))

        let ingested = try await server.call("POST", "/api/v1/ingest/suricata", body: try Self.suricataAlert())
        #expect(ingested.status == 201, "\(ingested.body)")
        #expect((ingested.json["incident"] as? [String: Any])?["type"] as? String == "c2_traffic", "\(ingested.body)")
        #expect(ingested.json["playbook"] as? String == "C2 traffic", "\(ingested.body)")

        // The block is sent at once; the containment is critical and waits for an approver.
        let question = try await ShippedResponseTests.approvalQuestion(on: server)
        #expect(checkPoint.commands == ["login", "add-host", "set-group", "publish", "logout"])
        #expect(checkPoint.blocked == ["automator-198.51.100.7"])
        #expect(falcon.searches == ["local_ip:'10.20.4.31'"])
        #expect(falcon.actions.isEmpty, "contained before the approval: \(falcon.actions)")

        // The next beacon of the same host and peer joins the open incident.
        let again = try await server.call("POST", "/api/v1/ingest/suricata", body: try Self.suricataAlert())
        #expect(again.status == 200 && again.json["id"] as? String == "INC-1", "\(again.body)")

        try await ShippedResponseTests.approve(question, on: server)
        #expect(try await eventually { falcon.actions.count == 1 })
        #expect(falcon.actions == [#"contain {"ids":["\#(device)"]}"#])

        let tasks = try await ShippedResponseTests.openTasks(on: server)
        #expect(tasks.map { $0["title"] as? String } == ["Find and remove what on WS-ENG-0142 talks to 198.51.100.7"])
        try await ShippedResponseTests.complete(tasks.first, answer: "reimaged", by: "bob", on: server)
        #expect(try await eventually { falcon.actions.count == 2 })
        #expect(falcon.actions.last == #"lift_containment {"ids":["\#(device)"]}"#)

        let closed = try await server.waitForIncident("INC-1") { $0["status"] as? String == "closed" }
        #expect(closed["close_reason"] as? String == "C2 traffic from WS-ENG-0142 to 198.51.100.7: host reimaged, 198.51.100.7 blocked for 7d.")
        #expect(closed["severity"] as? String == "high", "the feed knows the peer")
        #expect(checkPoint.blocked == ["automator-198.51.100.7"], "the block stays its week")
        let journal = try await server.journal("INC-1").map(\.text)
        let blocked = try #require(journal.first { $0.contains(": ran checkpoint.block_ip ip=198.51.100.7 ") }, "\(journal)")
        #expect(blocked.contains("approved by standing approval of the playbook") && blocked.hasSuffix("(ttl 1w)"), "\(blocked)")
        #expect(journal.contains { $0.contains(": ran crowdstrike.contain_host device_id=\(device), approved by api:alice: ") },
                "\(journal)")
        server.terminate()
        _ = await server.waitForExit()
    }
}
