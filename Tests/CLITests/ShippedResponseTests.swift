import Foundation
import Synchronization
import TestSupport
import Testing

@Suite("The shipped playbooks act through their integrations on automator serve, and undo when people are done",
       .serialized, .timeLimit(.minutes(3)))
struct ShippedResponseTests {
    /// `automator serve` with the shipped scripts and, when `configuration` is given, that file.
    static func serve(in folder: TemporaryFolder, configuration: String? = nil) async throws -> ServerProcess {
        let config = try configuration.map { try folder.write("automator.yml", $0) }
        return try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                             scripts: PlaybookTrialTests.scripts,
                                             arguments: ["--executors", "1"] + (config.map { ["--config", $0] } ?? []))
    }

    /// The example feed of known-bad addresses, Check Point at `api` (and Falcon at `falcon`), our
    /// private ranges protected, and high-risk actions approved in #soc: what the shipped playbooks
    /// that block need.
    static func checkPointConfiguration(at api: LoopbackServer, falcon: LoopbackFalcon? = nil) -> String {
        let feed = PlaybookTrialTests.scripts.appendingPathComponent("examples/feeds/bad-ips.txt").path
        let edr = falcon.map {
            #"\#n  crowdstrike: { base_url: "\#($0.url)", client_id: \#(LoopbackFalcon.clientID), client_secret: \#(LoopbackFalcon.clientSecret) }"#
        }
        return """
            feeds:
              - { name: bad-ips, path: "\(feed)", verdict: malicious }
            integrations:
              checkpoint: { base_url: "\(api.url)/web_api", api_key: \(LoopbackCheckPoint.apiKey) }\(edr ?? "")
            actions:
              approval: { risk: high, channel: "#soc", timeout: 1h }
              protected: { networks: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16] }
            """
    }

    /// The open tasks, once there are some.
    static func openTasks(on server: ServerProcess) async throws -> [[String: Any]] {
        var tasks: [[String: Any]] = []
        _ = try await eventually {
            tasks = try await server.call("GET", "/api/v1/tasks?status=open").json["tasks"] as? [[String: Any]] ?? []
            return !tasks.isEmpty
        }
        return tasks
    }

    /// Completes the task `task` (from `openTasks`) with `answer`, as its owner does.
    static func complete(_ task: [String: Any]?, answer: String, by person: String, on server: ServerProcess) async throws {
        let id = try #require(task?["id"] as? String)
        let done = try await server.call("POST", "/api/v1/tasks/\(id)/complete",
                                         body: #"{"answer": "\#(answer)", "by": "\#(person)"}"#)
        #expect(done.status == 200, "\(done.body)")
    }

    /// Opens the shipped example incident `name` (scripts/examples/incidents/NAME.json): INC-1.
    static func open(_ name: String, on server: ServerProcess) async throws {
        let incident = try String(contentsOf: PlaybookTrialTests.scripts.appendingPathComponent(
            "examples/incidents/\(name).json"), encoding: .utf8)
        #expect(try await server.call("POST", "/api/v1/incidents", body: incident).status == 201)
    }

    /// The id of the approval INC-1's playbook asks for, once asked.
    static func approvalQuestion(on server: ServerProcess) async throws -> String {
        var question: String?
        _ = try await eventually {
            let questions = try await server.call("GET", "/api/v1/questions?incident=INC-1").json["questions"] as? [[String: Any]]
            question = questions?.first?["id"] as? String
            return question != nil
        }
        return try #require(question, "no approval asked")
    }

    /// Alice, an approver, says yes to `question`.
    static func approve(_ question: String, on server: ServerProcess) async throws {
        let answered = try await server.call("POST", "/api/v1/questions/\(question)/answer",
                                             body: #"{"choice": "approve", "by": "alice"}"#)
        #expect(answered.status == 200, "\(answered.body)")
    }

    /// Whether INC-1 comes to be closed.
    static func closes(on server: ServerProcess) async throws -> Bool {
        try await eventually {
            try await server.call("GET", "/api/v1/incidents/INC-1").json["status"] as? String == "closed"
        }
    }

    /// The texts of INC-1's journal.
    static func journal(on server: ServerProcess) async throws -> [String] {
        let entries = try await server.call("GET", "/api/v1/incidents/INC-1/journal").json["journal"] as? [[String: Any]]
        return (entries ?? []).compactMap { $0["text"] as? String }
    }

    @Test("malware.lua: an approver's yes contains the host through Falcon, tier 2's cleaning lifts it")
    func malwareContainsAndLifts() async throws {
        let falcon = try await LoopbackFalcon()
        defer { falcon.stop() }
        let folder = try TemporaryFolder()
        let server = try await Self.serve(in: folder, configuration: """
            integrations:
              crowdstrike:
                base_url: "\(falcon.url)"
                client_id: \(LoopbackFalcon.clientID)
                client_secret: \(LoopbackFalcon.clientSecret)
            actions:
              approval: { risk: high, channel: "#soc", timeout: 1h }
            """)
        try await Self.open("malware", on: server)

        // The containment is critical: it waits for an approver, and nothing is sent before.
        let question = try await Self.approvalQuestion(on: server)
        #expect(falcon.actions.isEmpty)
        try await Self.approve(question, on: server)
        #expect(try await eventually { falcon.actions.count == 1 })
        #expect(falcon.actions == [#"contain {"ids":["5e0b8f13-6c24-4a9d-b7e1-92d4f0a3c658"]}"#])

        // No isolation task: only the cleaning, which says the containment is lifted after it.
        let tasks = try await Self.openTasks(on: server)
        #expect(tasks.map { $0["title"] as? String } == ["Reimage or clean WS-FIN-0231"])
        #expect((tasks.first?["description"] as? String)?.contains("Automator lifts the EDR's containment") == true)
        try await Self.complete(tasks.first, answer: "reimaged", by: "bob", on: server)
        #expect(try await eventually { falcon.actions.count == 2 })
        #expect(falcon.actions.last == #"lift_containment {"ids":["5e0b8f13-6c24-4a9d-b7e1-92d4f0a3c658"]}"#)
        #expect(try await Self.closes(on: server))
        let journal = try await Self.journal(on: server)
        #expect(journal.contains { $0.hasPrefix("Host WS-FIN-0231 contained by the EDR (ACT-") }, "\(journal)")
        #expect(journal.contains { $0.contains(": undone by playbook ") }, "\(journal)")
        server.terminate()
        _ = await server.waitForExit()
    }

    @Test("cloud_credential_misuse.lua: an approver's yes disables the key in AWS IAM; tier 2's \"benign\" enables it again")
    func cloudCredentialMisuseDisablesAndEnables() async throws {
        let iam = try await LoopbackIAM()
        defer { iam.stop() }
        iam.state.withLock { $0.keys["deploy-bot"] = ["AKIAEXAMPLEDEPLOY001": "Active"] }
        let folder = try TemporaryFolder()
        let settings = iam.settings().sorted { $0.key < $1.key }.map { #"\#($0.key): "\#($0.value)""# }
        let server = try await Self.serve(in: folder, configuration: """
            integrations:
              aws: { \(settings.joined(separator: ", ")) }
            actions:
              approval: { risk: high, channel: "#soc", timeout: 1h }
            """)
        try await Self.open("cloud_credential_misuse", on: server)

        // Disabling a key stops whoever uses it, its owner's scripts too: an approver says yes first.
        let question = try await Self.approvalQuestion(on: server)
        #expect(iam.received.all.isEmpty)
        try await Self.approve(question, on: server)
        #expect(try await eventually { iam.state.withLock { $0.keys["deploy-bot"]?["AKIAEXAMPLEDEPLOY001"] } == "Inactive" })

        let review = try await Self.openTasks(on: server)
        #expect(review.map { $0["title"] as? String } == ["Review in CloudTrail what deploy-bot did, and rotate its credentials"])
        #expect(review.first?["owner"] as? String == "tier2")
        let description = review.first?["description"] as? String ?? ""
        #expect(description.contains("for the events of access key AKIAEXAMPLEDEPLOY001 (user deploy-bot) from"
            + " 2026-11-30T02:41:08Z on"), "\(description)")
        try await Self.complete(review.first, answer: "benign", by: "bob", on: server)

        #expect(try await eventually { iam.state.withLock { $0.keys["deploy-bot"]?["AKIAEXAMPLEDEPLOY001"] } == "Active" })
        #expect(try await Self.closes(on: server))
        let incident = try await server.call("GET", "/api/v1/incidents/INC-1").json
        #expect(incident["close_reason"] as? String == "Benign: deploy-bot's own activity.")
        let journal = try await Self.journal(on: server)
        #expect(journal.contains { $0.hasPrefix("Access key AKIAEXAMPLEDEPLOY001 of deploy-bot disabled (ACT-") }, "\(journal)")
        #expect(journal.contains { $0.contains(": undone by playbook ") && $0.contains(" with aws.enable_access_key") },
                "\(journal)")
        server.terminate()
        _ = await server.waitForExit()
    }

    /// Opens the impossible travel of the shipped example (l.moreau@example.com, Lyon then
    /// Singapore 50 minutes later) and answers the manager's question with "not me", as the
    /// manager does once they have the user on the phone.
    static func notMe(on server: ServerProcess) async throws {
        try await open("impossible_travel", on: server)
        let asked = try await openTasks(on: server)
        #expect(asked.map { $0["title"] as? String } == ["Confirm the sign-in with l.moreau@example.com"])
        #expect(asked.first?["owner"] as? String == "k.tanaka@example.com")
        try await complete(asked.first, answer: "not me", by: "k.tanaka@example.com", on: server)
    }

    @Test("impossible_travel.lua: \"not me\" disables the account and ends its sessions in Entra ID, the reset enables it")
    func impossibleTravelDisablesAndEnables() async throws {
        let graph = try await LoopbackGraph()
        defer { graph.stop() }
        let folder = try TemporaryFolder()
        let settings = graph.settings.sorted { $0.key < $1.key }.map { #"\#($0.key): "\#($0.value)""# }
        // Approvers for high-risk actions: the playbook's standing approval of the disable must skip them.
        let server = try await Self.serve(in: folder, configuration: """
            integrations:
              entra: { \(settings.joined(separator: ", ")) }
            actions:
              approval: { risk: high, channel: "#soc", timeout: 1h }
            """)
        try await Self.notMe(on: server)

        // At once, with nobody else asked: a token, the disable, a token, the revocation.
        let user = "/v1.0/users/l.moreau@example.com"
        #expect(try await eventually { graph.received.lines.count >= 4 })
        #expect(graph.received.lines == ["POST /tenant-1/oauth2/v2.0/token", "PATCH \(user)",
                                         "POST /tenant-1/oauth2/v2.0/token", "POST \(user)/revokeSignInSessions"])
        let requests = graph.received.all
        #expect(requests[0].form["client_id"] == LoopbackGraph.clientID
            && requests[0].form["client_secret"] == LoopbackGraph.clientSecret)
        #expect(requests[1].json["accountEnabled"] as? Bool == false)
        #expect([requests[1], requests[3]].allSatisfy { $0.headers["authorization"] == "Bearer \(LoopbackGraph.token)" })
        let questions = try await server.call("GET", "/api/v1/questions?incident=INC-1").json["questions"] as? [[String: Any]]
        #expect(questions?.isEmpty == true, "the user's own answer is the approval")

        let reset = try await Self.openTasks(on: server)
        #expect(reset.map { $0["title"] as? String } == ["Reset credentials and revoke sessions for l.moreau@example.com"])
        #expect(reset.first?["owner"] as? String == "iam-team")
        let description = reset.first?["description"] as? String ?? ""
        #expect(description.hasPrefix("The account is disabled and its sessions ended. Reset the password"), "\(description)")
        #expect(description.hasSuffix("Automator enables the account when this task is done."), "\(description)")
        try await Self.complete(reset.first, answer: "password reset, two MFA methods removed", by: "bob", on: server)

        #expect(try await eventually { graph.received.lines.count == 6 })
        #expect(graph.received.lines.suffix(2) == ["POST /tenant-1/oauth2/v2.0/token", "PATCH \(user)"])
        #expect(graph.received.last?.json["accountEnabled"] as? Bool == true, "enabled again")
        #expect(try await Self.closes(on: server))
        let incident = try await server.call("GET", "/api/v1/incidents/INC-1").json
        #expect(incident["severity"] as? String == "high")
        #expect(incident["close_reason"] as? String == "Account compromise: credentials reset and sessions revoked.")
        let journal = try await Self.journal(on: server)
        let disabled = try #require(journal.first {
            $0.contains(": ran entra.disable_user user=l.moreau@example.com, approved by standing approval of the playbook: ")
        }, "\(journal)")
        let action = disabled.prefix { $0 != ":" }
        #expect(journal.contains { $0.hasPrefix("ACT-") && $0.contains(": ran entra.revoke_sessions user=l.moreau@example.com: ") })
        #expect(journal.contains("Account disabled (\(action)), its sessions ended."), "\(journal)")
        #expect(journal.contains { $0.hasPrefix("\(action): undone by playbook ") && $0.contains(" with entra.enable_user: ") },
                "\(journal)")
        #expect(journal.contains("Identity team: password reset, two MFA methods removed"), "\(journal)")
        server.terminate()
        _ = await server.waitForExit()
    }

    @Test("impossible_travel.lua without Entra ID: the journal says why nothing was disabled, people get the whole step")
    func impossibleTravelWithoutEntra() async throws {
        let folder = try TemporaryFolder()
        let server = try await Self.serve(in: folder)
        try await Self.notMe(on: server)

        let reset = try await Self.openTasks(on: server)
        #expect(reset.map { $0["title"] as? String } == ["Reset credentials and revoke sessions for l.moreau@example.com"])
        let description = reset.first?["description"] as? String ?? ""
        #expect(description.hasPrefix("Disable the account, revoke every session and refresh token, reset the password"),
                "\(description)")
        #expect(!description.contains("Automator enables"), "\(description)")
        let journal = try await Self.journal(on: server)
        #expect(journal.contains { $0.hasPrefix("The account was not disabled automatically: the integration entra is not set up: ") },
                "\(journal)")
        try await Self.complete(reset.first, answer: "done by hand", by: "bob", on: server)
        #expect(try await Self.closes(on: server))
        let actions = try await server.call("GET", "/api/v1/incidents/INC-1").json["actions"] as? [[String: Any]]
        #expect(actions?.isEmpty == true, "nothing was sent, nothing recorded as sent: \(actions ?? [])")
        server.terminate()
        _ = await server.waitForExit()
    }

    @Test("phishing.lua: a confirmed lure's known-bad sender is blocked at Check Point once an approver agrees")
    func phishingBlocksAtCheckPoint() async throws {
        let checkPoint = LoopbackCheckPoint()
        let api = try await checkPoint.start()
        defer { api.stop() }
        let folder = try TemporaryFolder()
        let server = try await Self.serve(in: folder, configuration: Self.checkPointConfiguration(at: api))
        try await Self.open("phishing", on: server)
        let confirm = try await Self.openTasks(on: server)
        #expect(confirm.map { $0["title"] as? String } == ["Confirm with the reporter"])
        try await Self.complete(confirm.first, answer: "phishing", by: "carol", on: server)

        // The block is high risk: it waits for an approver, and nothing reaches the firewall before.
        let question = try await Self.approvalQuestion(on: server)
        #expect(checkPoint.commands.isEmpty)
        try await Self.approve(question, on: server)
        #expect(try await eventually { checkPoint.commands.count == 5 })
        #expect(checkPoint.commands == ["login", "add-host", "set-group", "publish", "logout"])
        #expect(checkPoint.blocked == ["automator-203.0.113.45"])
        #expect(checkPoint.state.withLock { $0.hosts["automator-203.0.113.45"] } == "203.0.113.45")

        let purge = try await Self.openTasks(on: server)
        #expect(purge.map { $0["title"] as? String } == ["Purge the message from all mailboxes"])
        try await Self.complete(purge.first, answer: "3 copies removed", by: "dave", on: server)
        #expect(try await Self.closes(on: server))
        let journal = try await Self.journal(on: server)
        let blocked = try #require(journal.first { $0.contains(": ran checkpoint.block_ip ip=203.0.113.45 ") }, "\(journal)")
        #expect(blocked.contains(" reason=phishing, INC-1, approved by api:alice: "), "\(blocked)")
        #expect(journal.contains("203.0.113.45 blocked at the firewall (\(blocked.prefix { $0 != ":" }))."), "\(journal)")
        server.terminate()
        _ = await server.waitForExit()
    }
}
