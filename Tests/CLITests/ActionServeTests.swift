import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

@Suite("automator action beside automator serve: the server's configuration, approvals and journal",
       .serialized, .timeLimit(.minutes(3)))
struct ActionServeTests {
    /// A firewall set up through the environment (`FW_URL`), as integrations.md suggests.
    static let firewall = #"""
        return integration {
          name = "Test firewall",
          config = { base_url = { env = "FW_URL", required = true } },
          actions = {
            block_ip = {
              risk = "high", undo = "unblock_ip",
              params = { ip = { type = "ip", required = true } },
              run = function(params, context) return json.decode(http.post(context.config.base_url .. "/block", json.encode(params)).body) end,
            },
            unblock_ip = {
              risk = "low", params = { ip = { type = "ip", required = true } },
              run = function(params, context)
                local response = http.post(context.config.base_url .. "/unblock", json.encode(params))
                if response.status ~= 200 then error(("the firewall answered %d"):format(response.status), 0) end
                return json.decode(response.body)
              end,
            },
          },
        }
        """#

    /// The firewall's API on loopback, recording the paths and bodies it is sent; with
    /// `refusingUndo`, an /unblock answers 409, as for a rule changed by hand.
    final class FirewallAPI: Sendable {
        private let requests = Mutex<[String]>([])
        let refusingUndo = Mutex(false)
        var sent: [String] { requests.withLock { $0 } }

        func start() async throws -> LoopbackServer {
            let router = Router()
            router.post("/{command}") { request, context -> Response in
                let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
                let path = "/" + (context.parameters.get("command") ?? "")
                self.requests.withLock { $0.append(path + " " + body) }
                if path == "/unblock", self.refusingUndo.withLock({ $0 }) { return Response(status: .conflict) }
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: #"{"rule": "r-1"}"#)))
            }
            return try await LoopbackServer(router)
        }
    }

    /// The firewall on loopback, a folder with its integration and `configuration`, and a server
    /// on it (run by alice) with incident INC-1: what `automator action` runs beside.
    struct Beside {
        let firewall = FirewallAPI()
        let api: LoopbackServer
        let folder: TemporaryFolder
        let config: String
        let server: ServerProcess
        var environment: [String: String] { ["FW_URL": api.url, "USER": "alice"] }
        var common: [String] {
            ["--data", folder.url.appendingPathComponent("data").path,
             "--scripts", folder.url.appendingPathComponent("scripts").path]
        }

        init(configuration: String) async throws {
            api = try await firewall.start()
            folder = try TemporaryFolder()
            _ = try folder.write("scripts/integrations/firewall.lua", ActionServeTests.firewall)
            config = try folder.write("automator.yml", configuration)
            server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"),
                                                   environment: ["FW_URL": api.url, "USER": "alice"],
                                                   arguments: ["--executors", "1", "--config", config])
            #expect(try await server.call("POST", "/api/v1/incidents",
                                          body: #"{"title": "C2", "type": "c2", "severity": "high"}"#).status == 201)
        }
    }

    @Test("Without --config, run and undo go through the server, which refuses its protected networks; with none, a real run needs --config")
    func throughTheServer() async throws {
        let beside = try await Beside(configuration: """
            actions:
              protected: { networks: [10.0.0.0/8] }
            chat:
              roles: { approver: [alice] }
            """)
        let (firewall, api, config, server) = (beside.firewall, beside.api, beside.config, beside.server)
        defer { api.stop() }
        let (environment, common, data) = (beside.environment, beside.common, beside.folder.url.appendingPathComponent("data"))

        let protected = try await AutomatorProcess.run(["action", "run", "firewall.block_ip", "--param", "ip=10.1.2.3",
                                                        "--approve"] + common, environment: environment)
        #expect(protected.status == 1 && protected.stderr.contains("is in the protected network 10.0.0.0/8"),
                "\(protected.stdout)\(protected.stderr)")
        let dry = try await AutomatorProcess.run(["action", "run", "firewall.block_ip", "--param", "ip=10.1.2.3",
                                                  "--dry-run"] + common, environment: environment)
        #expect(dry.status == 1 && dry.stderr.contains("is in the protected network 10.0.0.0/8"), "\(dry.stdout)\(dry.stderr)")
        #expect(firewall.sent.isEmpty)

        let notApprover = try await AutomatorProcess.run(["action", "run", "firewall.block_ip", "--param", "ip=198.51.100.7",
                                                          "--approve"] + common, environment: ["FW_URL": api.url, "USER": "bob"])
        #expect(notApprover.status == 1 && notApprover.stderr.contains("bob may not approve actions"), "\(notApprover.stderr)")
        // A dry run sends nothing: it needs no approval, so --approve from anyone is no refusal.
        let dryByBob = try await AutomatorProcess.run(["action", "run", "firewall.block_ip", "--param", "ip=198.51.100.7",
                                                       "--dry-run", "--approve"] + common,
                                                      environment: ["FW_URL": api.url, "USER": "bob"])
        #expect(dryByBob.status == 0 && dryByBob.stdout.contains("  planned  firewall.block_ip"),
                "\(dryByBob.stdout)\(dryByBob.stderr)")
        #expect(!dryByBob.stdout.contains("approved by"), "\(dryByBob.stdout)")
        let audit = try await AutomatorProcess.run(["audit", "--since", "1h", "--data", data.path], environment: environment)
        #expect(audit.stdout.contains(#"planned: firewall.block_ip {"ip":"198.51.100.7"}: dry run, nothing sent"#),
                "\(audit.stdout)\(audit.stderr)")
        // A misspelled field is refused, not read as no parameters (nor as a real run for "dryrun").
        let misspelled = try await server.call("POST", "/api/v1/actions",
                                               body: #"{"name": "firewall.block_ip", "parms": {"ip": "198.51.100.7"}}"#)
        #expect(misspelled.status == 400 && misspelled.body.contains(#"unknown field \"parms\": an action takes name, "#
            + "params, incident, ttl, dry_run, approve, by"), "\(misspelled.body)")
        let textFlag = try await server.call("POST", "/api/v1/actions", body: #"{"name": "firewall.block_ip", "#
            + #""params": {"ip": "198.51.100.7"}, "dry_run": "true"}"#)
        #expect(textFlag.status == 400 && textFlag.body.contains(#"\"dry_run\" is true or false"#), "\(textFlag.body)")
        #expect(firewall.sent.isEmpty)
        let blocked = try await AutomatorProcess.run(["action", "run", "firewall.block_ip", "--param", "ip=198.51.100.7",
                                                      "--incident", "INC-1", "--approve"] + common, environment: environment)
        #expect(blocked.status == 0 && blocked.stdout.contains("  done  firewall.block_ip  INC-1"), "\(blocked.stderr)")
        #expect(blocked.stdout.contains("by cli:alice  approved by cli:alice"), "\(blocked.stdout)")
        let id = try #require(blocked.stdout.split(separator: " ").first.map(String.init))
        let undone = try await AutomatorProcess.run(["action", "undo", id] + common, environment: environment)
        #expect(undone.status == 0 && undone.stdout.hasPrefix("\(id)  undone"), "\(undone.stderr)")
        #expect(firewall.sent == [#"/block {"ip":"198.51.100.7"}"#, #"/unblock {"ip":"198.51.100.7"}"#])
        let journal = try await server.call("GET", "/api/v1/incidents/INC-1/journal").body
        #expect(journal.contains("approved by cli:alice") && journal.contains("undone by cli:alice"), "\(journal)")
        server.terminate()
        _ = await server.waitForExit()

        // No server: no configuration given at all is refused for a real action, and said how to pass it.
        let unprotected = try await AutomatorProcess.run(["action", "run", "firewall.block_ip", "--param", "ip=10.1.2.3",
                                                          "--approve"] + common, environment: environment)
        #expect(unprotected.status == 1 && unprotected.stderr.contains("--config"), "\(unprotected.stderr)")
        let configured = try await AutomatorProcess.run(["action", "run", "firewall.block_ip", "--param", "ip=10.1.2.3",
                                                         "--approve", "--config", config] + common, environment: environment)
        #expect(configured.status == 1 && configured.stderr.contains("is in the protected network 10.0.0.0/8"))
        #expect(firewall.sent.count == 2)
    }

    @Test("A failed undo, by the CLI and the API: the action is named as still in force, with how to lift it, and journaled so")
    func failedUndo() async throws {
        let beside = try await Beside(configuration: "chat:\n  roles: { approver: [alice] }\n")
        let (firewall, api, server) = (beside.firewall, beside.api, beside.server)
        defer { api.stop() }
        let (environment, common) = (beside.environment, beside.common)
        let blocked = try await AutomatorProcess.run(["action", "run", "firewall.block_ip", "--param", "ip=198.51.100.7",
                                                      "--incident", "INC-1", "--approve"] + common, environment: environment)
        let id = try #require(blocked.stdout.split(separator: " ").first.map(String.init), "\(blocked.stderr)")
        firewall.refusingUndo.withLock { $0 = true }
        let inForce = "\(id) firewall.block_ip ip=198.51.100.7 is still in force: firewall.unblock_ip failed: the firewall "
            + "answered 409. Run the undo again once that is fixed (automator action undo \(id), or !action undo \(id) in "
            + "chat); or lift it by hand in the product and say so in INC-1's journal (!note INC-1 … in chat, or POST "
            + "/api/v1/incidents/INC-1/journal): automator still counts it as done"
        let refused = try await AutomatorProcess.run(["action", "undo", id] + common, environment: environment)
        #expect(refused.status == 1 && refused.stderr == "error: \(inForce)\n", "\(refused.stdout)\(refused.stderr)")
        let answer = try await server.call("POST", "/api/v1/actions/\(id)/undo")
        #expect(answer.status == 502 && answer.json["error"] as? String == inForce, "\(answer.body)")
        let shown = try await AutomatorProcess.run(["action", "show", id] + common, environment: environment)
        #expect(shown.stdout.contains("status    done\n"), "still done, still undoable: \(shown.stdout)\(shown.stderr)")
        // The incident's journal says it too, once for each attempt, by whoever asked: the error
        // alone reached only them, while the journal said the action done.
        let journal = try await server.call("GET", "/api/v1/incidents/INC-1/journal").json["journal"] as? [[String: Any]] ?? []
        let failures = journal.filter { ($0["text"] as? String)?.contains("still in force") == true }
        #expect(failures.map { "\($0["kind"] ?? "") \($0["actor"] ?? ""): \($0["text"] ?? "")" } == ["cli:alice", "api"].map {
            "action \($0): \(id) firewall.block_ip ip=198.51.100.7 is still in force: firewall.unblock_ip failed: the "
                + "firewall answered 409 (undo asked by \($0)); once that is fixed, automator action undo \(id) runs it again"
        }, "\(journal)")

        firewall.refusingUndo.withLock { $0 = false }
        let undone = try await AutomatorProcess.run(["action", "undo", id] + common, environment: environment)
        #expect(undone.status == 0 && undone.stdout.hasPrefix("\(id)  undone"), "\(undone.stdout)\(undone.stderr)")
        #expect(firewall.sent.filter { $0.hasPrefix("/unblock") }.count == 3)
        let verified = try await AutomatorProcess.run(["journal", "verify", "--data", common[1]], environment: environment)
        #expect(verified.status == 0 && verified.stdout.hasPrefix("journal verified: "), "\(verified.stdout)\(verified.stderr)")
    }

    @Test("action show, through the server and on the folder: the record, its ttl (a dry run's too) and its undo")
    func show() async throws {
        let beside = try await Beside(configuration: "actions:\n  protected: { networks: [10.0.0.0/8] }\n")
        defer { beside.api.stop() }
        let (server, environment, common) = (beside.server, beside.environment, beside.common)
        let block = ["action", "run", "firewall.block_ip", "--param", "ip=198.51.100.7", "--incident", "INC-1", "--ttl", "24h"]

        // A dry run says how long the action would last once sent, in text and in JSON.
        let dry = try await AutomatorProcess.run(block + ["--dry-run"] + common, environment: environment)
        #expect(dry.status == 0 && dry.stdout.contains("  planned  firewall.block_ip  INC-1")
            && dry.stdout.hasSuffix("  would lift 1d after it is sent\n"), "\(dry.stdout)\(dry.stderr)")
        let planned = try #require(dry.stdout.split(separator: " ").first.map(String.init))
        let posted = try await server.call("POST", "/api/v1/actions", body: #"{"name": "firewall.block_ip", "#
            + #""params": {"ip": "198.51.100.7"}, "ttl": "2h", "dry_run": true}"#)
        #expect(posted.status == 201 && posted.json["status"] as? String == "planned" && posted.json["ttl"] as? Double == 7200,
                "\(posted.body)")
        let shownPlan = try await AutomatorProcess.run(["action", "show", planned] + common, environment: environment)
        #expect(shownPlan.status == 0 && shownPlan.stdout.contains("status    planned\n")
            && shownPlan.stdout.contains("ttl       1d, its undo would run by itself that long after it is sent\n")
            && shownPlan.stdout.contains("undo      firewall.unblock_ip, once it is done\n"), "\(shownPlan.stdout)\(shownPlan.stderr)")

        let done = try await AutomatorProcess.run(block + ["--approve"] + common, environment: environment)
        #expect(done.status == 0 && done.stdout.contains("  done  firewall.block_ip  INC-1"), "\(done.stderr)")
        let id = try #require(done.stdout.split(separator: " ").first.map(String.init))
        let shown = try await AutomatorProcess.run(["action", "show", id] + common, environment: environment)
        let lines = shown.stdout.split(separator: "\n").map(String.init)
        #expect(shown.status == 0 && lines.prefix(7) == [
            "id        \(id)", "action    firewall.block_ip", #"params    {"ip":"198.51.100.7"}"#, "status    done",
            "incident  INC-1", lines[5], "approved  cli:alice",
        ] && lines[5].hasPrefix("asked     cli:alice, 20"), "\(shown.stdout)\(shown.stderr)")
        #expect(lines.contains(#"result    {"rule":"r-1"}"#) && lines.contains { $0.hasPrefix("ttl       1d, lifts by itself at 20") }
            && lines.contains("undo      firewall.unblock_ip: automator action undo \(id)"), "\(shown.stdout)")
        let json = try await server.call("GET", "/api/v1/actions/\(id)")
        #expect(json.status == 200 && json.json["undo"] as? String == "firewall.unblock_ip" && json.json["ttl"] as? Double == 86400
                && json.json["expires_at"] is String, "\(json.body)")
        let asJSON = try await AutomatorProcess.run(["action", "show", id, "--json"] + common, environment: environment)
        #expect(asJSON.stdout.hasPrefix("{") && asJSON.stdout.contains(#""undo":"firewall.unblock_ip""#), "\(asJSON.stdout)")
        #expect(try await server.call("GET", "/api/v1/actions/catalog").body.contains("firewall.block_ip"), "still the catalog")
        let unknown = try await server.call("GET", "/api/v1/actions/ACT-0000000000")
        #expect(unknown.status == 404 && unknown.body.contains("automator action history"), "\(unknown.body)")

        #expect(try await AutomatorProcess.run(["action", "undo", id] + common, environment: environment).status == 0)
        server.terminate()
        _ = await server.waitForExit()

        // On the folder, with no server: the same record, undone now.
        let undone = try await AutomatorProcess.run(["action", "show", id] + common, environment: environment)
        #expect(undone.status == 0 && undone.stdout.contains("status    undone\n")
            && undone.stdout.contains("undo      undone by cli:alice, 20"), "\(undone.stdout)\(undone.stderr)")
        let missing = try await AutomatorProcess.run(["action", "show", "ACT-0000000000"] + common, environment: environment)
        #expect(missing.status == 1 && missing.stderr.contains("there is no action ACT-0000000000: automator action history"),
                "\(missing.stderr)")
        let mistyped = try await AutomatorProcess.run(["action", "show", "INC-1"] + common, environment: environment)
        #expect(mistyped.status == 64 && mistyped.stderr.contains("'INC-1' is not an action id"), "\(mistyped.stderr)")
    }

    @Test("list and history show the server's integrations and store: on PostgreSQL, not the folder's")
    func listAndHistoryThroughTheServer() async throws {
        let firewall = FirewallAPI()
        let api = try await firewall.start()
        defer { api.stop() }
        let folder = try TemporaryFolder()
        _ = try folder.write("scripts/integrations/firewall.lua", Self.firewall)
        _ = try folder.write("scripts/integrations/spare.lua", Self.firewall.replacingOccurrences(of: "FW_URL", with: "SPARE_URL"))
        let store = try await PostgresServer.shared().makeDatabase()
        let data = folder.url.appendingPathComponent("data")
        let environment = ["FW_URL": api.url, "USER": "alice"]
        let server = try await ServerProcess.start(data: data, scripts: folder.url.appendingPathComponent("scripts"),
                                                   environment: environment,
                                                   arguments: ["--executors", "1", "--store", store])
        #expect(try await server.call("POST", "/api/v1/incidents", body: #"{"title": "C2", "type": "c2", "severity": "high"}"#).status == 201)
        // The command's own --scripts has no integration: what it lists is the server's.
        let common = ["--data", data.path, "--scripts", folder.url.appendingPathComponent("elsewhere").path]
        let listed = try await AutomatorProcess.run(["action", "list"] + common, environment: environment)
        #expect(listed.status == 0 && listed.stdout.contains("firewall.block_ip  risk high  ip:ip  undo unblock_ip"),
                "\(listed.stdout)\(listed.stderr)")
        // The server's integration not set up is listed as off, as it is with no server.
        let off = try #require(listed.stdout.components(separatedBy: "off until their integration's settings are given")
            .dropFirst().first, "\(listed.stdout)")
        #expect(off.contains("\nspare.block_ip  risk high") && !off.contains("firewall.block_ip"), "\(off)")

        let blocked = try await AutomatorProcess.run(["action", "run", "firewall.block_ip", "--param", "ip=198.51.100.7",
                                                      "--incident", "INC-1", "--approve"] + common, environment: environment)
        #expect(blocked.status == 0, "\(blocked.stderr)")
        let history = try await AutomatorProcess.run(["action", "history", "--incident", "INC-1"] + common,
                                                     environment: environment)
        #expect(history.status == 0 && history.stdout.contains("  done  firewall.block_ip  INC-1"),
                "\(history.stdout)\(history.stderr)")
        let other = try await AutomatorProcess.run(["action", "history", "--incident", "INC-2"] + common,
                                                   environment: environment)
        #expect(other.status == 1 && other.stderr.contains("INC-2"), "\(other.stdout)\(other.stderr)")
        let unknown = try await server.call("GET", "/api/v1/actions?incdent=INC-1")
        #expect(unknown.status == 400 && unknown.body.contains("use incident, limit"), "\(unknown.body)")
        server.terminate()
        _ = await server.waitForExit()
    }

    @Test("!action from an incident's war room asks its approval in actions.approval.channel, for approvers only")
    func warRoomApproval() async throws {
        let firewall = FirewallAPI()
        let api = try await firewall.start()
        defer { api.stop() }
        let slack = try await FakeSlack()
        let folder = try TemporaryFolder()
        _ = try folder.write("scripts/integrations/firewall.lua", Self.firewall)
        for file in ["commands/action.lua", "lib/incident_ref.lua"] {
            _ = try folder.write("scripts/" + file, String(contentsOfFile: ActionCommandTests.scripts + "/" + file,
                                                           encoding: .utf8))
        }
        let config = try folder.write("automator.yml", """
            actions:
              approval: { channel: "#soc" }
            chat:
              roles: { approver: [U0ALICE] }
              slack:
                signing_secret: \(FakeSlack.signingSecret)
                bot_token: \(FakeSlack.token)
                api_url: \(slack.apiURL)
            """)
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"),
                                                   environment: ["FW_URL": api.url],
                                                   arguments: ["--executors", "1", "--config", config])
        #expect(try await server.call("POST", "/api/v1/incidents", body: #"{"title": "C2", "type": "c2", "severity": "high"}"#).status == 201)
        let said = try await server.call("POST", "/api/v1/incidents/INC-1/command",
                                         body: #"{"text": "!action firewall.block_ip ip=198.51.100.7", "by": "alice"}"#)
        #expect(said.status == 200 && said.body.contains("Waiting for an approver in #soc: firewall.block_ip ip=198.51.100[.]7."), "\(said.body)")
        let questions = slack.calls("chat.postMessage").filter { $0.arguments["text"]?.contains("Approve firewall.block_ip") == true }
        #expect(questions.map { $0.arguments["channel"] } == ["C0SOC"], "\(questions.map(\.body))")
        #expect(questions.first?.arguments["text"]?.contains("approver only") == true, "only an approver may answer")
        #expect(questions.first?.arguments["text"]?.contains("ip=198.51.100[.]7?") == true, "defanged, as the bot's answers")
        #expect(firewall.sent.isEmpty, "nothing sent before the approval")
        server.terminate()
        _ = await server.waitForExit()
    }

    @Test("history and show name the question of an action denied (and who said no) or timed out (and when); an overdue ttl says so")
    func declinedNamesItsQuestion() async throws {
        let firewall = FirewallAPI()
        let api = try await firewall.start()
        defer { api.stop() }
        let folder = try TemporaryFolder()
        _ = try folder.write("scripts/integrations/firewall.lua", Self.firewall)
        for file in ["commands/action.lua", "lib/incident_ref.lua"] {
            _ = try folder.write("scripts/" + file, String(contentsOfFile: ActionCommandTests.scripts + "/" + file,
                                                           encoding: .utf8))
        }
        let (data, scripts) = (folder.url.appendingPathComponent("data"), folder.url.appendingPathComponent("scripts"))
        let common = ["--data", data.path, "--scripts", scripts.path]
        let environment = ["FW_URL": api.url, "USER": "alice"]
        /// A server whose approvals wait `timeout`, with `!action firewall.block_ip` asked on a new incident.
        func asking(timeout: String) async throws -> (ServerProcess, incident: String) {
            let config = try folder.write("automator.yml", "actions:\n  approval: { channel: \"#soc\", timeout: \(timeout) }\n")
            let server = try await ServerProcess.start(data: data, scripts: scripts, environment: environment,
                                                       arguments: ["--executors", "1", "--config", config])
            let created = try await server.call("POST", "/api/v1/incidents", body: #"{"title": "C2", "type": "c2", "severity": "high"}"#)
            let incident = try #require(created.json["id"] as? String, "\(created.body)")
            let said = try await server.call("POST", "/api/v1/incidents/\(incident)/command",
                                             body: #"{"text": "!action firewall.block_ip ip=198.51.100.7", "by": "alice"}"#)
            #expect(said.status == 200, "\(said.body)")
            return (server, incident)
        }
        /// The incident's one action once it is no longer waiting for its question.
        func declined(_ incident: String, on server: ServerProcess) async throws -> [String: Any] {
            for _ in 0..<1500 {
                let listed = try await server.call("GET", "/api/v1/actions?incident=\(incident)").json
                if let action = (listed["actions"] as? [[String: Any]])?.first { return action }
                try await Task.sleep(for: .milliseconds(20))
            }
            throw CancellationError()
        }

        var (server, incident) = try await asking(timeout: "1h")
        let open = try await server.call("GET", "/api/v1/questions")
        let question = try #require((open.json["questions"] as? [[String: Any]])?.first?["id"] as? String, "\(open.body)")
        #expect(try await server.call("POST", "/api/v1/questions/\(question)/answer",
                                      body: #"{"choice": "deny", "by": "bob"}"#).status == 200)
        let denied = try await declined(incident, on: server)
        #expect(denied["status"] as? String == "denied" && denied["question"] as? String == question, "\(denied)")
        let id = try #require(denied["id"] as? String)
        let history = try await AutomatorProcess.run(["action", "history", "--incident", incident] + common,
                                                     environment: environment)
        #expect(history.status == 0 && history.stdout.hasPrefix("\(id)  denied  firewall.block_ip  \(incident)")
            && history.stdout.hasSuffix("  denied by api:bob in \(question)\n"), "\(history.stdout)\(history.stderr)")
        let shown = try await AutomatorProcess.run(["action", "show", id] + common, environment: environment)
        #expect(shown.stdout.contains("approved  no: denied by api:bob\n")
            && shown.stdout.contains("question  \(question) \"Approve firewall.block_ip ip=198.51.100[.]7? (risk high, "
                + "\(incident))\": deny by api:bob, 20"), "\(shown.stdout)\(shown.stderr)")
        #expect(shown.stdout.contains("ttl       -\n")
            && shown.stdout.contains("undo      firewall.unblock_ip; nothing to undo: it was not done\n"),
                "nothing was done, so nothing stays or waits for an undo: \(shown.stdout)")
        let json = try await server.call("GET", "/api/v1/actions/\(id)")
        let whole = try #require(json.json["question"] as? [String: Any], "\(json.body)")
        #expect(whole["answer"] as? String == "deny" && whole["answered_by"] as? String == "api:bob", "\(whole)")
        server.terminate()
        _ = await server.waitForExit()

        (server, incident) = try await asking(timeout: "1s")
        let unanswered = try await declined(incident, on: server)
        let late = try #require(unanswered["id"] as? String)
        #expect(unanswered["status"] as? String == "timed_out" && unanswered["question"] is String, "\(unanswered)")
        let lateHistory = try await AutomatorProcess.run(["action", "history", "--incident", incident] + common,
                                                         environment: environment)
        #expect(lateHistory.stdout.contains("  nobody answered \(unanswered["question"] as? String ?? "") by 20"),
                "\(lateHistory.stdout)\(lateHistory.stderr)")
        let lateShown = try await AutomatorProcess.run(["action", "show", late] + common, environment: environment)
        #expect(lateShown.stdout.contains("approved  no: nobody approved it in time\n")
            && lateShown.stdout.contains("\": nobody answered by 20"), "\(lateShown.stdout)\(lateShown.stderr)")
        #expect(firewall.sent.isEmpty, "nothing sent")
        server.terminate()
        _ = await server.waitForExit()

        // With no server, a ttl that has passed has lifted nothing: history says so, and what lifts it.
        let config = folder.url.appendingPathComponent("automator.yml").path
        let shunned = try await AutomatorProcess.run(["action", "run", "firewall.block_ip", "--param", "ip=198.51.100.9",
                                                      "--incident", incident, "--ttl", "1s", "--approve", "--config",
                                                      config] + common, environment: environment)
        let blocked = try #require(shunned.stdout.split(separator: " ").first.map(String.init), "\(shunned.stderr)")
        try await Task.sleep(for: .milliseconds(1100))
        let overdue = try await AutomatorProcess.run(["action", "history", "--incident", incident] + common,
                                                     environment: environment)
        #expect(overdue.stdout.contains("  not lifted yet, due at 20")
            && overdue.stdout.contains(" UTC: automator serve lifts it (or automator action undo \(blocked))\n"),
                "\(overdue.stdout)\(overdue.stderr)")
    }
}
