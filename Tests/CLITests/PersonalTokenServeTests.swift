import Foundation
import TestSupport
import Testing

/// Personal API tokens through a real `automator serve`: each authenticates as its name, which
/// the journal, the approver role and the questions' roles see; the shared token stays the operator's.
@Suite("Personal API tokens beside automator serve", .serialized, .timeLimit(.minutes(3)))
struct PersonalTokenServeTests {
    /// `automator token add NAME --json` on `data` (through its server when one holds it): the token.
    static func add(_ name: String, data: URL) async throws -> String {
        let made = try await AutomatorProcess.run(["token", "add", name, "--json", "--data", data.path])
        #expect(made.status == 0, "\(made.stdout)\(made.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: Any]
        return try #require(json?["token"] as? String, "\(made.stdout)")
    }

    /// The token `automator token add` or `rotate` printed, on a line of its own.
    static func printed(_ output: AutomatorProcess.Result) throws -> String {
        try #require(output.stdout.firstMatch(of: /\n  ([0-9a-f]{64})\n/).map { String($0.output.1) }, "\(output.stdout)")
    }

    /// `automator token list --json` on `data`: the tokens.
    static func listed(data: URL) async throws -> [[String: Any]] {
        let listed = try await AutomatorProcess.run(["token", "list", "--json", "--data", data.path])
        #expect(listed.status == 0, "\(listed.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
        return try #require(json?["tokens"] as? [[String: Any]], "\(listed.stdout)")
    }

    /// `automator serve` with the firewall integration, whose API `api` serves, and `chat.roles`
    /// as `roles` (YAML flow).
    static func serve(roles: String, api: LoopbackServer, in folder: TemporaryFolder) async throws -> ServerProcess
    {
        _ = try folder.write("scripts/integrations/firewall.lua", ActionServeTests.firewall)
        let config = try folder.write("automator.yml", "chat:\n  roles: \(roles)\n")
        return try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                             scripts: folder.url.appendingPathComponent("scripts"),
                                             environment: ["FW_URL": api.url], arguments: ["--executors", "1", "--config", config])
    }

    /// The id of the one question a run waits on, once it is asked.
    static func openQuestion(on server: ServerProcess) async throws -> String {
        var open: [[String: Any]] = []
        for _ in 0..<100 where open.isEmpty {
            open = try await server.call("GET", "/api/v1/questions").json["questions"] as? [[String: Any]] ?? []
            if open.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        }
        return try #require(open.first?["id"] as? String, "\(open)")
    }

    @Test("A personal token journals as api:NAME, whatever X-Automator-Actor says, and cannot claim another by; a wrong token is 401; only the shared token manages tokens")
    func identity() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: folder.url)
        let alice = try await Self.add("alice", data: data)

        let created = try await server.call("POST", "/api/v1/incidents", body: #"{"title": "C2", "type": "c2", "severity": "high"}"#,
                                            credentials: .bearer(alice))
        #expect(created.status == 201, "\(created.body)")
        let id = try #require(created.json["id"] as? String, "\(created.body)")
        let note = try await server.call("POST", "/api/v1/incidents/\(id)/journal", body: #"{"text": "called the user"}"#,
                                         credentials: .bearer(alice), headers: ["X-Automator-Actor": "cli:ciso"])
        #expect(note.status == 201, "\(note.body)")
        let claimed = try await server.call("POST", "/api/v1/incidents/\(id)/journal",
                                            body: #"{"text": "as bob", "by": "bob"}"#, credentials: .bearer(alice))
        #expect(claimed.status == 403 && claimed.body.contains("this token is alice's"), "\(claimed.body)")
        let own = try await server.call("POST", "/api/v1/incidents/\(id)/journal",
                                        body: #"{"text": "as myself", "by": "alice"}"#, credentials: .bearer(alice))
        #expect(own.status == 201, "\(own.body)")
        let journal = try await server.journal(id)
        #expect(journal.filter { $0.kind != "playbook" }.map(\.actor) == ["api:alice", "api:alice", "api:alice"],
                "\(journal)")
        #expect(!journal.contains { $0.text == "as bob" })

        let wrong = try await server.call("GET", "/api/v1/incidents", credentials: .bearer(alice.uppercased()))
        #expect(wrong.status == 401 && wrong.headers["www-authenticate"] != nil, "\(wrong.body)")
        #expect(try await server.call("GET", "/api/v1/incidents", credentials: .bearer(alice)).status == 200)
        for (method, path, body) in [("GET", "/api/v1/tokens", nil), ("POST", "/api/v1/tokens", #"{"name": "mallory"}"#),
                                     ("POST", "/api/v1/tokens/alice/rotate", nil), ("POST", "/api/v1/tokens/alice/revoke", nil)]
        {
            let refused = try await server.call(method, path, body: body, credentials: .bearer(alice))
            #expect(refused.status == 403 && refused.body.contains("cannot manage tokens"), "\(path): \(refused.body)")
        }
        // The operator's shared token names anyone, as before.
        let operatorNote = try await server.call("POST", "/api/v1/incidents/\(id)/journal",
                                                 body: #"{"text": "for carol", "by": "carol"}"#)
        #expect(operatorNote.status == 201, "\(operatorNote.body)")
        #expect(try await server.journal(id).last?.actor == "api:carol")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("chat.roles.approver applies to the token's holder: bob's token cannot approve a high-risk action nor an approval question, alice's can")
    func approvals() async throws {
        let firewall = ActionServeTests.FirewallAPI()
        let api = try await firewall.start()
        defer { api.stop() }
        let folder = try TemporaryFolder()
        let server = try await Self.serve(roles: "{ approver: [alice], responder: [alice, bob] }", api: api, in: folder)
        let alice = try await Self.add("alice", data: server.data)
        let bob = try await Self.add("bob", data: server.data)

        // Not approved: the refusal says how bob gets an approver's yes through the API.
        let unapproved = try await server.call("POST", "/api/v1/actions",
                                               body: #"{"name": "firewall.block_ip", "params": {"ip": "198.51.100.7"}}"#,
                                               credentials: .bearer(bob))
        #expect(unapproved.status == 403 && unapproved.body.contains(#"POST /api/v1/incidents/ID/command {\"text\": "#
            + #"\"!action firewall.block_ip ...\"}, which waits for an approver's answer"#), "\(unapproved.body)")
        let block = #"{"name": "firewall.block_ip", "params": {"ip": "198.51.100.7"}, "approve": true"#
        let asBob = try await server.call("POST", "/api/v1/actions", body: block + "}", credentials: .bearer(bob))
        #expect(asBob.status == 403 && asBob.body.contains("bob may not approve actions"), "\(asBob.body)")
        let bobAsAlice = try await server.call("POST", "/api/v1/actions", body: block + #", "by": "alice"}"#,
                                               credentials: .bearer(bob))
        #expect(bobAsAlice.status == 403 && bobAsAlice.body.contains("this token is bob's"), "\(bobAsAlice.body)")
        #expect(firewall.sent.isEmpty)
        let asAlice = try await server.call("POST", "/api/v1/actions", body: block + "}", credentials: .bearer(alice))
        #expect(asAlice.status == 201 && asAlice.json["approved_by"] as? String == "api:alice", "\(asAlice.body)")
        #expect(firewall.sent.count == 1)

        // A playbook's approval, with no chat network: answered through the API.
        let run = try await server.submit(#"{"source": "return chat.approve('#soc', 'Disable mallory?')"}"#)
        let question = try await Self.openQuestion(on: server)
        let bobAnswers = try await server.call("POST", "/api/v1/questions/\(question)/answer", body: #"{"choice": "approve"}"#,
                                               credentials: .bearer(bob))
        #expect(bobAnswers.status == 403 && bobAnswers.body.contains("bob may not answer"), "\(bobAnswers.body)")
        let aliceAnswers = try await server.call("POST", "/api/v1/questions/\(question)/answer",
                                                 body: #"{"choice": "approve"}"#, credentials: .bearer(alice))
        #expect(aliceAnswers.status == 200, "\(aliceAnswers.body)")
        let ended = try await server.waitForRun(run)
        #expect("\(ended["result"] ?? "")".contains("api:alice"), "\(ended)")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("With no approver named, no personal token approves an action nor answers an approval (403 saying what to do, journaled); the shared token does")
    func noApprover() async throws {
        let firewall = ActionServeTests.FirewallAPI()
        let api = try await firewall.start()
        defer { api.stop() }
        let folder = try TemporaryFolder()
        let server = try await Self.serve(roles: "{ responder: [alice] }", api: api, in: folder)
        let alice = try await Self.add("alice", data: server.data)
        let incident = try #require(try await server.call("POST", "/api/v1/incidents",
                                                          body: #"{"title": "C2", "type": "c2", "severity": "high"}"#)
            .json["id"] as? String)

        let block = #"{"name": "firewall.block_ip", "params": {"ip": "198.51.100.7"}, "approve": true, "incident": "\#(incident)"}"#
        let refused = try await server.call("POST", "/api/v1/actions", body: block, credentials: .bearer(alice))
        #expect(refused.status == 403 && refused.body.contains("no one has the role approver yet: chat.roles.approver "
            + "in the server's configuration (--config) names them; meanwhile an operator approves with automator action "
            + "run --approve"), "\(refused.body)")
        #expect(firewall.sent.isEmpty)
        #expect(try await server.journal(incident).contains { $0.kind == "refused" && $0.actor == "api:alice" })
        let approved = try await server.call("POST", "/api/v1/actions", body: block)
        #expect(approved.status == 201 && firewall.sent.count == 1, "the operator's token approves: \(approved.body)")

        let run = try await server.submit(#"{"source": "return chat.approve('#soc', 'Disable mallory?')"}"#)
        let question = try await Self.openQuestion(on: server)
        let answer = try await server.call("POST", "/api/v1/questions/\(question)/answer", body: #"{"choice": "approve"}"#,
                                           credentials: .bearer(alice))
        #expect(answer.status == 403 && answer.body.contains("alice may not answer \(question): no one has the role "
            + "approver yet") && answer.body.contains("automator question answer \(question)"), "\(answer.body)")
        let operatorAnswer = try await server.call("POST", "/api/v1/questions/\(question)/answer",
                                                   body: #"{"choice": "approve", "by": "carol"}"#)
        #expect(operatorAnswer.status == 200, "\(operatorAnswer.body)")
        #expect("\(try await server.waitForRun(run)["result"] ?? "")".contains("api:carol"))
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("A war-room command from a personal token needs its roles, as in chat; the shared token's stays exempt")
    func warRoomRoles() async throws {
        let folder = try TemporaryFolder()
        let config = try folder.write("automator.yml", "chat:\n  roles: { analyst: [alice] }\n")
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: PlaybookTrialTests.scripts,
                                                   arguments: ["--executors", "1", "--config", config])
        let alice = try await Self.add("alice", data: data)
        let bob = try await Self.add("bob", data: data)
        let created = try await server.call("POST", "/api/v1/incidents", body: #"{"title": "C2", "type": "c2", "severity": "high"}"#)
        let id = try #require(created.json["id"] as? String, "\(created.body)")

        let refused = try await server.call("POST", "/api/v1/incidents/\(id)/command", body: #"{"text": "!note by bob"}"#,
                                            credentials: .bearer(bob))
        #expect(refused.status == 200 && refused.body.contains("is for people with the role analyst"), "\(refused.body)")
        for (credentials, by) in [(ServerProcess.Credentials.bearer(alice), ""), (.serverToken, #", "by": "carol""#)] {
            let said = try await server.call("POST", "/api/v1/incidents/\(id)/command", body: #"{"text": "!note noted""# + by + "}",
                                             credentials: credentials)
            #expect(said.status == 200 && !said.body.contains("is for people with the role"), "\(said.body)")
        }
        let journal = try await server.journal(id)
        #expect(journal.filter { $0.kind == "note" }.map(\.actor) == ["console:alice", "console:carol"], "\(journal)")
        #expect(journal.contains { $0.kind == "refused" && $0.actor == "console:bob" }, "\(journal)")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("token add, list and revoke on a free folder and through its serve; a revoked token is refused at its next request")
    func managementAndRevocation() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data")
        let free = try await AutomatorProcess.run(["token", "list", "--data", data.path])
        #expect(free.status == 64 && free.stderr.contains("there is no data folder"), "\(free.stderr)")
        var server = try await ServerProcess.start(data: data, scripts: folder.url)
        server.terminate()
        #expect(await server.waitForExit() == 0)

        // No server: on the folder's store.
        let made = try await AutomatorProcess.run(["token", "add", "alice", "--data", data.path])
        #expect(made.status == 0 && made.stdout.contains("shown only this once")
                && made.stdout.contains("automator token revoke alice"), "\(made.stdout)\(made.stderr)")
        let alice = try Self.printed(made)
        let again = try await AutomatorProcess.run(["token", "add", "alice", "--data", data.path])
        #expect(again.status == 1 && again.stderr.contains("alice has a token already"), "\(again.stderr)")
        let badName = try await AutomatorProcess.run(["token", "add", "alice smith", "--data", data.path])
        #expect(badName.status == 64 && badName.stderr.contains("cannot name a token"), "\(badName.stderr)")
        let folderFile = try String(contentsOf: data.appendingPathComponent("automator.sqlite"), encoding: .isoLatin1)
        #expect(!folderFile.contains(alice), "the store keeps the token's SHA-256 only")

        server = try await ServerProcess.start(data: data, scripts: folder.url)
        #expect(try await server.call("GET", "/api/v1/runs", credentials: .bearer(alice)).status == 200)
        // Through the server: with the folder's shared token.
        let bob = try await Self.add("bob", data: data)
        #expect(try await server.call("GET", "/api/v1/runs", credentials: .bearer(bob)).status == 200)
        let listed = try await AutomatorProcess.run(["token", "list", "--data", data.path])
        #expect(listed.status == 0, "\(listed.stderr)")
        let lines = listed.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(lines.map { $0.first.map(String.init) } == ["NAME", "alice", "bob"], "\(listed.stdout)")
        #expect(!listed.stdout.contains(alice) && !listed.stdout.contains(bob))

        let revoked = try await AutomatorProcess.run(["token", "revoke", "alice", "--data", data.path])
        #expect(revoked.status == 0 && revoked.stdout.contains("Revoked the token of alice"), "\(revoked.stderr)")
        let refused = try await server.call("GET", "/api/v1/runs", credentials: .bearer(alice))
        #expect(refused.status == 401, "refused at once: \(refused.body)")
        #expect(try await server.call("GET", "/api/v1/runs", credentials: .bearer(bob)).status == 200)
        let twice = try await AutomatorProcess.run(["token", "revoke", "alice", "--data", data.path])
        #expect(twice.status == 1 && twice.stderr.contains("alice has no live token"), "\(twice.stderr)")
        let tokens = try await Self.listed(data: data)
        #expect(tokens.map { $0["name"] as? String } == ["alice", "bob"], "\(tokens)")
        #expect(tokens.first?["revoked_at"] is String && tokens.last?["revoked_at"] is NSNull, "\(tokens)")
        #expect(tokens.allSatisfy { ($0["created_by"] as? String)?.hasPrefix("cli") == true }, "\(tokens)")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("On PostgreSQL, a token added through one worker authenticates on another, and its revocation on the first's stopped folder reaches it",
          .timeLimit(.minutes(3)))
    func sharedStore() async throws {
        let workspace = try await SharedServeTests.Workspace()
        let worker1 = try await workspace.start("worker-1")
        let worker2 = try await workspace.start("worker-2")
        let alice = try await Self.add("alice", data: worker1.data)
        #expect(try workspace.psql("SELECT count(*) FROM personal_token WHERE sha256 = '\(alice)'") == "0")
        let created = try await worker2.call("POST", "/api/v1/incidents", body: #"{"title": "C2", "type": "c2", "severity": "high"}"#,
                                             credentials: .bearer(alice))
        #expect(created.status == 201, "\(created.body)")
        worker1.terminate()
        #expect(await worker1.waitForExit() == 0)
        // No server on worker-1's folder: the command works on the workers' PostgreSQL, and says
        // so without saying it only reads there.
        let revoked = try await AutomatorProcess.run(["token", "revoke", "alice", "--data", worker1.data.path])
        #expect(revoked.status == 0 && revoked.stderr.contains("working on it there (as --store postgres://")
                && !revoked.stderr.contains("reading"), "\(revoked.stderr)")
        #expect(try await worker2.call("GET", "/api/v1/incidents", credentials: .bearer(alice)).status == 401)
        worker2.terminate()
        #expect(await worker2.waitForExit() == 0)
    }

    @Test("Without a role, a personal token reads, creates, notes and runs the folder's playbooks; Lua of its own needs chat.roles.author and an action chat.roles.responder (403 naming the key, journaled on the incident); the shared token needs neither")
    func roles() async throws {
        let firewall = ActionServeTests.FirewallAPI()
        let api = try await firewall.start()
        defer { api.stop() }
        let folder = try TemporaryFolder()
        _ = try folder.write("scripts/integrations/firewall.lua", ActionServeTests.firewall)
        _ = try folder.write("scripts/hello.lua", "return 'hello ' .. (args[1] or '')")
        let config = try folder.write("automator.yml", "chat:\n  roles: { author: [alice], responder: [alice] }\n")
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: folder.url.appendingPathComponent("scripts"),
                                                   environment: ["FW_URL": api.url],
                                                   arguments: ["--executors", "1", "--config", config])
        let alice = try await Self.add("alice", data: data)
        let bob = try await Self.add("bob", data: data)

        let created = try await server.call("POST", "/api/v1/incidents", body: #"{"title": "C2", "type": "c2", "severity": "high"}"#,
                                            credentials: .bearer(bob))
        #expect(created.status == 201, "\(created.body)")
        let id = try #require(created.json["id"] as? String, "\(created.body)")
        #expect(try await server.call("POST", "/api/v1/incidents/\(id)/journal", body: #"{"text": "called the user"}"#,
                                      credentials: .bearer(bob)).status == 201)
        #expect(try await server.call("GET", "/api/v1/incidents/\(id)", credentials: .bearer(bob)).status == 200)
        let playbook = try await server.call("POST", "/api/v1/runs", body: #"{"script": "hello.lua", "args": ["bob"]}"#,
                                             credentials: .bearer(bob))
        #expect(playbook.status == 201, "\(playbook.body)")

        let source = #"{"source": "return 'mine'"}"#
        let code = try await server.call("POST", "/api/v1/runs", body: source, credentials: .bearer(bob))
        #expect(code.status == 403 && code.body.contains("the role author, which bob has not")
                && code.body.contains("chat.roles.author") && code.body.contains(#"{\"script\": \"triage.lua\"}"#), "\(code.body)")
        #expect(try await server.waitForLog("refused to api:bob, who has no role author"))
        for credentials in [ServerProcess.Credentials.bearer(alice), .serverToken] {
            let allowed = try await server.call("POST", "/api/v1/runs", body: source, credentials: credentials)
            #expect(allowed.status == 201, "\(allowed.body)")
        }

        let block = #"{"name": "firewall.block_ip", "params": {"ip": "198.51.100.7"}, "incident": "\#(id)"}"#
        let action = try await server.call("POST", "/api/v1/actions", body: block, credentials: .bearer(bob))
        #expect(action.status == 403 && action.body.contains("running an action is for people with the role responder")
                && action.body.contains("chat.roles.responder"), "\(action.body)")
        let undo = try await server.call("POST", "/api/v1/incidents/\(id)/actions/undo", credentials: .bearer(bob))
        #expect(undo.status == 403 && undo.body.contains("the role responder"), "\(undo.body)")
        #expect(firewall.sent.isEmpty)
        let refusals = try await server.journal(id).filter { $0.kind == "refused" }
        #expect(refusals.map(\.actor) == ["api:bob", "api:bob"]
                && refusals.first?.text == "running an action, for the role responder", "\(refusals)")
        let planned = #"{"name": "firewall.block_ip", "params": {"ip": "198.51.100.7"}, "dry_run": true}"#
        let byAlice = try await server.call("POST", "/api/v1/actions", body: planned, credentials: .bearer(alice))
        #expect(byAlice.status == 201 && byAlice.json["requested_by"] as? String == "api:alice", "\(byAlice.body)")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("A --metrics-only token scrapes /metrics and is refused on the API; a personal token scrapes too; /healthz needs none; a role the configuration names no one for admits no personal token")
    func metricsOnly() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: folder.url)
        let made = try await AutomatorProcess.run(["token", "add", "prometheus", "--metrics-only", "--data", data.path])
        #expect(made.status == 0 && made.stdout.contains("to GET /metrics; the API refuses it"), "\(made.stdout)\(made.stderr)")
        let prometheus = try Self.printed(made)
        let alice = try await Self.add("alice", data: data)
        let code = try await server.call("POST", "/api/v1/runs", body: #"{"source": "return 1"}"#, credentials: .bearer(alice))
        #expect(code.status == 403 && code.body.contains("the role author, and no one has it yet: chat.roles.author"),
                "\(code.body)")

        for token in [prometheus, alice] {
            let scraped = try await server.call("GET", "/metrics", credentials: .bearer(token))
            #expect(scraped.status == 200 && scraped.body.contains("automator_store_up 1"), "\(scraped.body)")
        }
        let api = try await server.call("GET", "/api/v1/incidents", credentials: .bearer(prometheus))
        #expect(api.status == 403 && api.body.contains("made for GET /metrics alone"), "\(api.body)")
        #expect(try await server.call("GET", "/healthz", credentials: .none).status == 200)
        #expect(try await server.call("GET", "/metrics", credentials: .none).status == 401)

        let listed = try await AutomatorProcess.run(["token", "list", "--data", data.path])
        let rows = listed.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(rows.map { $0.prefix(2) } == [["NAME", "FOR"], ["alice", "api"], ["prometheus", "metrics"]], "\(listed.stdout)")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("An --ingest-only token posts to its source's ingest, in the header or the URL, and nowhere else; no other token may be in a URL; none reaches the log")
    func ingestOnly() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: folder.url)
        let made = try await AutomatorProcess.run(["token", "add", "splunk", "--ingest-only", "splunk", "--data", data.path])
        let splunk = try Self.printed(made)
        #expect(made.status == 0 && made.stdout.contains("https://AUTOMATOR/api/v1/ingest/splunk?token=\(splunk)"),
                "\(made.stdout)\(made.stderr)")
        let alice = try await Self.add("alice", data: data)

        // With no mapper the alert is kept as an unmapped incident: the token got it in.
        let header = try await server.call("POST", "/api/v1/ingest/splunk", body: #"{"sid": "1"}"#, credentials: .bearer(splunk))
        #expect(header.status == 201, "\(header.body)")
        let inURL = try await server.call("POST", "/api/v1/ingest/splunk?token=\(splunk)", body: #"{"sid": "2"}"#,
                                          credentials: .none)
        #expect(inURL.status == 200 && inURL.json["id"] as? String == "INC-1", "joins the unmapped one: \(inURL.body)")
        let alerts = try await server.journal("INC-1").filter { $0.kind == "alert" }
        #expect(alerts.map(\.actor) == ["api:splunk"], "\(alerts)")

        let elsewhere = try await server.call("GET", "/api/v1/incidents", credentials: .bearer(splunk))
        #expect(elsewhere.status == 403 && elsewhere.body.contains("made to post alerts to POST /api/v1/ingest/splunk alone"),
                "\(elsewhere.body)")
        #expect(try await server.call("GET", "/metrics", credentials: .bearer(splunk)).status == 403)
        let both = try await server.call("POST", "/api/v1/ingest/splunk?token=\(splunk)", body: "{}", credentials: .bearer(splunk))
        #expect(both.status == 400 && both.body.contains("both in its Authorization header and in its URL"), "\(both.body)")
        let shared = try await server.call("POST", "/api/v1/ingest/splunk?token=\(server.token)", body: "{}", credentials: .none)
        #expect(shared.status == 403 && shared.body.contains("shared token may not travel in a URL")
                && shared.body.contains("automator token add NAME --ingest-only SOURCE"), "\(shared.body)")
        let scrape = try await server.call("GET", "/metrics?token=\(alice)", credentials: .none)
        #expect(scrape.status == 403 && scrape.body.contains("automator token rotate alice"), "\(scrape.body)")

        let tokens = try await Self.listed(data: data)
        #expect(tokens.map { "\($0["name"] ?? "") \($0["ingest_only"] as? String ?? "-")" } == ["alice -", "splunk splunk"],
                "\(tokens)")
        let listed = try await AutomatorProcess.run(["token", "list", "--data", data.path])
        let rows = listed.stdout.split(separator: "\n").map { $0.split(separator: " ").prefix(2).map(String.init) }
        #expect(rows == [["NAME", "FOR"], ["alice", "api"], ["splunk", "ingest:splunk"]], "\(listed.stdout)")
        for token in [splunk, alice, server.token] { #expect(!server.log.contains(token), "\(server.log)") }
        #expect(server.log.contains("a token in a URL, not ingest-only"), "the operator sees the refusal: \(server.log)")

        for wrong in [["--ingest-only", "splunk", "--metrics-only"], ["--ingest-only", "splunk/../x"]] {
            let refused = try await AutomatorProcess.run(["token", "add", "other", "--data", data.path] + wrong)
            #expect(refused.status == 64, "\(wrong): \(refused.stderr)")
        }
        for (body, why) in [(#"{"name": "other", "ingest_only": true}"#, #""ingest_only": "SOURCE""#),
                            (#"{"name": "other", "ingest_only": "splunk", "metrics_only": true}"#, "not both")] {
            let refused = try await server.call("POST", "/api/v1/tokens", body: body)
            #expect(refused.status == 400 && (refused.json["error"] as? String)?.contains(why) == true,
                    "\(body): \(refused.body)")
        }
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("token rotate gives the name a new token, printed once, that keeps its name and metrics-only; the old one is refused at its next request")
    func rotation() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data")
        var server = try await ServerProcess.start(data: data, scripts: folder.url)
        let old = try await Self.add("alice", data: data)
        #expect(try await server.call("GET", "/api/v1/incidents", credentials: .bearer(old)).status == 200)

        // Through the server.
        let rotated = try await AutomatorProcess.run(["token", "rotate", "alice", "--data", data.path])
        #expect(rotated.status == 0 && rotated.stdout.contains("shown only this once"), "\(rotated.stdout)\(rotated.stderr)")
        let new = try Self.printed(rotated)
        #expect(new != old)
        #expect(try await server.call("GET", "/api/v1/incidents", credentials: .bearer(old)).status == 401)
        let note = try await server.call("POST", "/api/v1/incidents", body: #"{"title": "C2", "type": "c2", "severity": "high"}"#,
                                         credentials: .bearer(new))
        #expect(note.status == 201, "\(note.body)")
        let id = try #require(note.json["id"] as? String)
        #expect(try await server.journal(id).first?.actor == "api:alice")
        let none = try await AutomatorProcess.run(["token", "rotate", "bob", "--data", data.path])
        #expect(none.status == 1 && none.stderr.contains("bob has no live token"), "\(none.stderr)")
        server.terminate()
        #expect(await server.waitForExit() == 0)

        // On the folder's store, with no server: a metrics-only token stays one.
        _ = try await AutomatorProcess.run(["token", "add", "prometheus", "--metrics-only", "--data", data.path])
        let again = try await AutomatorProcess.run(["token", "rotate", "prometheus", "--json", "--data", data.path])
        let json = try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any]
        #expect(again.status == 0 && json?["metrics_only"] as? Bool == true && json?["token"] is String, "\(again.stdout)")
        let tokens = try await Self.listed(data: data)
        #expect(tokens.map { "\($0["name"] ?? "") \($0["revoked_at"] is String ? "revoked" : "live")" }
                == ["alice live", "alice revoked", "prometheus live", "prometheus revoked"], "\(tokens)")
        server = try await ServerProcess.start(data: data, scripts: folder.url)
        let scraped = try await server.call("GET", "/metrics", credentials: .bearer(try #require(json?["token"] as? String)))
        #expect(scraped.status == 200)
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("token list says when each token was last used, noted at most once a minute, never for an unused one")
    func lastUsed() async throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data")
        let server = try await ServerProcess.start(data: data, scripts: folder.url)
        let alice = try await Self.add("alice", data: data)
        _ = try await Self.add("bob", data: data)
        func used() async throws -> [String: String] {
            Dictionary(uniqueKeysWithValues: try await Self.listed(data: data).map {
                ($0["name"] as? String ?? "", $0["last_used_at"] as? String ?? "never")
            })
        }
        #expect(try await used() == ["alice": "never", "bob": "never"])
        #expect(try await server.call("GET", "/api/v1/incidents", credentials: .bearer(alice)).status == 200)
        let first = try await used()
        #expect(first["alice"] != "never" && first["bob"] == "never", "\(first)")
        try await Task.sleep(for: .milliseconds(20))
        #expect(try await server.call("GET", "/api/v1/incidents", credentials: .bearer(alice)).status == 200)
        #expect(try await used() == first, "the second use within the minute writes nothing")
        let table = try await AutomatorProcess.run(["token", "list", "--data", data.path])
        #expect(table.stdout.contains("LAST USED") && table.stdout.contains("never"), "\(table.stdout)")
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }
}
