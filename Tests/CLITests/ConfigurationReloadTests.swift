import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

/// SIGHUP to a real `automator serve`: the configuration file read again and put in use, in the
/// same process, or nothing changed when the file does not load.
@Suite("automator serve takes its configuration again on SIGHUP", .serialized, .timeLimit(.minutes(3)))
struct ConfigurationReloadTests {
    /// The firewall of `ActionServeTests`, a configuration beside it, and a server started with both.
    struct Setup {
        let folder: TemporaryFolder
        let config: String
        let data: URL
        let server: ServerProcess
        let firewall = ActionServeTests.FirewallAPI()
        let api: LoopbackServer

        init(_ configuration: String) async throws {
            api = try await firewall.start()
            folder = try TemporaryFolder()
            _ = try folder.write("scripts/integrations/firewall.lua", ActionServeTests.firewall)
            config = try folder.write("automator.yml", configuration)
            data = folder.url.appendingPathComponent("data")
            server = try await ServerProcess.start(data: data, scripts: folder.url.appendingPathComponent("scripts"),
                                                   environment: ["FW_URL": api.url],
                                                   arguments: ["--executors", "1", "--config", config])
        }

        /// Writes `configuration` and sends SIGHUP; returns once the log says `expected`.
        func reload(_ configuration: String, expecting expected: String) async throws {
            try folder.write("automator.yml", configuration)
            server.hangUp()
            #expect(try await server.waitForLog(expected), "\(server.log)")
        }

        func stop() async {
            server.terminate()
            #expect(await server.waitForExit() == 0, "\(server.log)")
            api.stop()
        }
    }

    static let block = #"{"name": "firewall.block_ip", "params": {"ip": "198.51.100.7"}, "approve": true}"#

    @Test("A new approver approves and a leaver no longer does after SIGHUP, in the same process; a file that does not load changes nothing")
    func roles() async throws {
        let setup = try await Setup("chat:\n  roles: { approver: [alice], responder: [alice, bob] }\n")
        let server = setup.server
        let alice = try await PersonalTokenServeTests.add("alice", data: setup.data)
        let bob = try await PersonalTokenServeTests.add("bob", data: setup.data)
        let refused = try await server.call("POST", "/api/v1/actions", body: Self.block, credentials: .bearer(bob))
        #expect(refused.status == 403 && refused.body.contains("bob may not approve actions"), "\(refused.body)")

        try await setup.reload("chat:\n  roles: { approver: [bob], responder: [alice, bob] }\n",
                               expecting: "SIGHUP: chat.roles (approver: +bob, -alice) changed")
        let approved = try await server.call("POST", "/api/v1/actions", body: Self.block, credentials: .bearer(bob))
        #expect(approved.status == 201 && approved.json["approved_by"] as? String == "api:bob", "\(approved.body)")
        let leaver = try await server.call("POST", "/api/v1/actions", body: Self.block, credentials: .bearer(alice))
        #expect(leaver.status == 403 && leaver.body.contains("alice may not approve actions"), "\(leaver.body)")
        #expect(setup.firewall.sent.count == 1)

        // Half a file would take away every role: the whole file loads, or nothing changes.
        try await setup.reload("chat:\n  roles: { approver: [alice]\n",
                               expecting: "SIGHUP: \(setup.config) does not load, so nothing changed")
        let still = try await server.call("POST", "/api/v1/actions", body: Self.block, credentials: .bearer(bob))
        #expect(still.status == 201, "the roles read before stay in use: \(still.body)")

        // No approver at all leaves approvals to the operators: the log says so in so many words.
        try await setup.reload("chat:\n  roles: { responder: [alice, bob] }\n",
                               expecting: "SIGHUP: chat.roles (approver: unset, so only an operator approves) changed")
        let nobody = try await server.call("POST", "/api/v1/actions", body: Self.block, credentials: .bearer(bob))
        #expect(nobody.status == 403 && nobody.body.contains("no one has the role approver yet"), "\(nobody.body)")
        let shared = try await server.call("POST", "/api/v1/actions", body: Self.block)
        #expect(shared.status == 201, "the shared token is the operator's: \(shared.body)")
        #expect(server.log.components(separatedBy: "listening on").count == 2, "one start: \(server.log)")
        await setup.stop()
    }

    @Test("A misspelt integration setting keeps the whole file out on SIGHUP, roles included; the file fixed is taken whole")
    func wholeOrNothing() async throws {
        let setup = try await Setup("chat:\n  roles: { approver: [alice], responder: [alice, bob] }\n")
        let server = setup.server
        let bob = try await PersonalTokenServeTests.add("bob", data: setup.data)
        let misspelt = "chat:\n  roles: { approver: [bob], responder: [alice, bob] }\n"
            + "integrations:\n  firewall: { base_ur: \"\(setup.api.url)\" }\n"
        try await setup.reload(misspelt, expecting: "SIGHUP: \(setup.config) does not fit the integrations, so nothing "
            + "changed: integrations.firewall.base_ur is not one of its settings: they are base_url. This serve goes on")
        #expect(server.log.contains(" error automator: [AutomatorServer] SIGHUP: "), "at error level: \(server.log)")
        let refused = try await server.call("POST", "/api/v1/actions", body: Self.block, credentials: .bearer(bob))
        #expect(refused.status == 403 && refused.body.contains("bob may not approve actions"), "\(refused.body)")

        let fixed = misspelt.replacingOccurrences(of: "base_ur:", with: "base_url:")
        try await setup.reload(fixed, expecting: "SIGHUP: chat.roles (approver: +bob, -alice), integrations.firewall changed")
        #expect(try await server.waitForLog("integration integrations/firewall.lua its settings changed"), "\(server.log)")
        let approved = try await server.call("POST", "/api/v1/actions", body: Self.block, credentials: .bearer(bob))
        #expect(approved.status == 201 && approved.json["approved_by"] as? String == "api:bob", "\(approved.body)")
        #expect(setup.firewall.sent.count == 1)
        await setup.stop()
    }

    /// Start and SIGHUP differ on purpose: a start has nothing to keep, so it leaves the integration
    /// out and serves; a SIGHUP keeps what runs. Only a setting the edit changes is checked, so an
    /// integration left out at start never holds the next edits back.
    @Test("An integration left out at start for a misspelt setting does not keep a SIGHUP's roles out while its setting stays as it was")
    func leftOutAtStart() async throws {
        let misspelt = "integrations:\n  firewall: { base_ur: \"http://127.0.0.1:9\" }\n"
        let setup = try await Setup("chat:\n  roles: { approver: [alice], responder: [alice, bob] }\n" + misspelt)
        let server = setup.server
        #expect(try await server.waitForLog("integrations.firewall.base_ur is not one of its settings"), "\(server.log)")
        let bob = try await PersonalTokenServeTests.add("bob", data: setup.data)

        try await setup.reload("chat:\n  roles: { approver: [bob], responder: [alice, bob] }\n" + misspelt,
                               expecting: "SIGHUP: chat.roles (approver: +bob, -alice) changed")
        let approved = try await server.call("POST", "/api/v1/actions", body: Self.block, credentials: .bearer(bob))
        #expect(!approved.body.contains("may not approve"), "bob approves now: \(approved.body)")
        #expect(setup.firewall.sent.isEmpty, "the firewall is still out")
        await setup.stop()
    }

    @Test("A Slack user given a role on SIGHUP runs its command, refused before; the Slack connection stays as it is")
    func slackRoles() async throws {
        let slack = try await FakeSlack()
        let chat = { (analysts: String) in """
              roles: { analyst: [\(analysts)] }
              slack:
                signing_secret: \(FakeSlack.signingSecret)
                bot_token: \(FakeSlack.token)
                api_url: \(slack.apiURL)
            """ }
        let (server, folder) = try await ChatServeTests.serve(chat: chat("alice"))
        let join = { (ts: String) in ChatServeTests.message("!join #soc", ts: ts, user: "U0BOB", event: "Ev" + ts) }
        let first = join("1700000001.000100")
        #expect(try await server.call("POST", "/slack/events", body: first, credentials: .none,
                                      headers: ChatServeTests.signed(first)).status == 200)
        let refused = try await ChatServeTests.posts(slack) { !$0.isEmpty }.last?.arguments["text"] ?? ""
        #expect(refused.contains("!join is for people with the role analyst"), "\(refused)")

        let config = try folder.write("automator.yml", """
            feeds:
              - { name: bad-ips, path: feeds/bad.txt, verdict: malicious }
            chat:

            """ + chat("alice, bob"))
        server.hangUp()
        #expect(try await server.waitForLog("SIGHUP: chat.roles (analyst: +bob) changed"), "\(server.log)")
        #expect(!server.log.contains("\(config) read again") && !server.log.contains("waiting for a restart"),
                "\(server.log)")
        let second = join("1700000002.000200")
        #expect(try await server.call("POST", "/slack/events", body: second, credentials: .none,
                                      headers: ChatServeTests.signed(second)).status == 200)
        let joined = try await ChatServeTests.posts(slack) { $0.count == 2 }.last?.arguments["text"] ?? ""
        #expect(joined.contains("Watching"), "\(joined)")
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
    }

    @Test("A daily report set on SIGHUP is posted, the one due a minute ago at once, as at a start")
    func reportSchedule() async throws {
        let slack = try await FakeSlack()
        let chat = """
              slack:
                signing_secret: \(FakeSlack.signingSecret)
                bot_token: \(FakeSlack.token)
                api_url: \(slack.apiURL)
            """
        let (server, folder) = try await ChatServeTests.serve(chat: chat)
        let minute = Int(Date().timeIntervalSince1970.truncatingRemainder(dividingBy: 86400) / 60)
        let due = (minute + 1439) % 1440
        try folder.write("automator.yml", """
            feeds:
              - { name: bad-ips, path: feeds/bad.txt, verdict: malicious }
            chat:
              report: { channel: "#soc", daily_at: "\(String(format: "%02d:%02d", due / 60, due % 60))" }

            """ + chat)
        server.hangUp()
        #expect(try await server.waitForLog("SIGHUP: chat.report changed"), "\(server.log)")
        let posted = try await ChatServeTests.posts(slack) { !$0.isEmpty }
        #expect(posted.count == 1 && posted.first?.arguments["channel"] == "C0SOC", "\(posted)")
        #expect(try await server.waitForLog("report posted to #soc"), "\(server.log)")
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
    }

    @Test("A network added to actions.protected is refused after SIGHUP; what needs a restart is named, and kept as it was")
    func protectedNetworks() async throws {
        let setup = try await Setup("actions:\n  protected: { networks: [10.0.0.0/8] }\n")
        let server = setup.server
        let dryRun = #"{"name": "firewall.block_ip", "params": {"ip": "192.0.2.10"}, "dry_run": true}"#
        #expect(try await server.call("POST", "/api/v1/actions", body: dryRun).status == 201)

        try await setup.reload("""
            actions:
              protected: { networks: [10.0.0.0/8, 192.0.2.0/24] }
            store: postgres://automator@db.example:5432/automator
            log: { level: debug }
            """, expecting: "SIGHUP: actions.protected.networks (+192.0.2.0/24) changed; waiting for a restart "
                + "(SIGTERM, then start serve): store, log")
        let refused = try await server.call("POST", "/api/v1/actions", body: dryRun)
        #expect(refused.status == 403 && refused.body.contains("is in the protected network 192.0.2.0/24"), "\(refused.body)")
        #expect(setup.firewall.sent.isEmpty)

        // The store and the log still wait for the restart: the next SIGHUP says so again.
        setup.server.hangUp()
        #expect(try await server.waitForLog("SIGHUP: \(setup.config) read again, nothing to change now; "
            + "waiting for a restart (SIGTERM, then start serve): store, log"), "\(server.log)")
        #expect(!server.log.contains(" debug "), "the level stays as it started: \(server.log)")
        await setup.stop()
    }

    @Test("A shorter cache time applies to the verdicts cached after SIGHUP")
    func cacheTimes() async throws {
        // Each answer numbered: a verdict from the cache repeats its number.
        let answers = Atomic<Int>(0)
        let router = Router()
        router.get("/count") { _, _ in String(answers.add(1, ordering: .sequentiallyConsistent).newValue) }
        let api = try await LoopbackServer(router)
        defer { api.stop() }
        let folder = try TemporaryFolder()
        try folder.write("scripts/integrations/counter.lua", """
            return integration {
              name = "Counter",
              config = { base_url = { default = "\(api.url)" } },
              reputation = {
                ip = function(ip, config)
                  return { score = "suspicious", reason = "answer " .. http.get(config.base_url .. "/count").body }
                end,
              },
            }
            """)
        let config = try folder.write("automator.yml", "cache: { suspicious: 1h }\n")
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"),
                                                   arguments: ["--executors", "1", "--config", config])
        let lookUp = { (ip: String) in try await server.call("GET", "/api/v1/intel/reputation?value=\(ip)").body }
        #expect(try await lookUp("198.51.100.1").contains("answer 1"))
        #expect(try await lookUp("198.51.100.1").contains("answer 1"), "cached for an hour")

        try folder.write("automator.yml", "cache: { suspicious: 1s }\n")
        server.hangUp()
        #expect(try await server.waitForLog("SIGHUP: cache changed"), "\(server.log)")
        #expect(try await lookUp("198.51.100.2").contains("answer 2"))
        try await Task.sleep(for: .milliseconds(1500))
        let again = try await lookUp("198.51.100.2")
        #expect(again.contains("answer 3"), "cached for a second only: \(again)")
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
    }

    @Test("A feed added on SIGHUP answers once loaded, beside those listed before")
    func feedList() async throws {
        let folder = try TemporaryFolder()
        try folder.write("feeds/bad.txt", "203.0.113.45 C2 of the Acme campaign\n")
        try folder.write("feeds/kits.txt", "198.51.100.77 phishing kit host\n")
        let bad = "feeds:\n  - { name: bad-ips, path: feeds/bad.txt, verdict: malicious }\n"
        let config = try folder.write("automator.yml", bad)
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: folder.url.appendingPathComponent("scripts"),
                                                   arguments: ["--executors", "1", "--config", config])
        let lookUp = { (ip: String) in try await server.call("GET", "/api/v1/intel/reputation?value=\(ip)").body }
        #expect(try await lookUp("203.0.113.45").contains("C2 of the Acme campaign"))
        #expect(!(try await lookUp("198.51.100.77")).contains("phishing kit host"))

        try folder.write("automator.yml", bad + "  - { name: kits, path: feeds/kits.txt, verdict: suspicious }\n")
        server.hangUp()
        #expect(try await server.waitForLog("SIGHUP: feeds (the previous list answers until the new one is loaded) changed"),
                "\(server.log)")
        #expect(try await server.waitForLog("SIGHUP: the new list of feeds is in use (bad-ips, kits)"), "\(server.log)")
        #expect(try await lookUp("198.51.100.77").contains("phishing kit host"))
        #expect(try await lookUp("203.0.113.45").contains("C2 of the Acme campaign"))
        let metrics = try await server.call("GET", "/metrics").body
        #expect(metrics.contains(#"automator_feed_entries{feed="kits"} 1"#), "\(metrics)")
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
    }

    @Test("An integration set enabled: false is left out after SIGHUP, as when its file changes")
    func integrationSettings() async throws {
        let setup = try await Setup("chat:\n  roles: { approver: [alice] }\n")
        let server = setup.server
        let listed = try await server.call("GET", "/api/v1/actions/catalog")
        #expect(listed.body.contains("firewall.block_ip"), "\(listed.body)")

        try await setup.reload("chat:\n  roles: { approver: [alice] }\nintegrations:\n  firewall: { enabled: false }\n",
                               expecting: "SIGHUP: integrations.firewall changed")
        #expect(try await server.waitForLog("integration integrations/firewall.lua is no longer used"), "\(server.log)")
        let after = try await server.call("GET", "/api/v1/actions/catalog")
        #expect(!after.body.contains("firewall.block_ip"), "\(after.body)")
        await setup.stop()
    }
}
