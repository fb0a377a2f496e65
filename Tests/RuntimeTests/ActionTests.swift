import AutomatorRuntime
import Foundation
import Hummingbird
import Logging
import Synchronization
import TestSupport
import Testing

@Suite("Actions: checks before sending, approvals, the journal, idempotency keys, dry runs, undo and ttl",
       .serialized, .timeLimit(.minutes(2)))
struct ActionTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let alice = ChatUser(id: "U1", name: "alice")
    static let soc = ChatChannel(id: "C1", name: "soc")
    static let bob = ChatUser(id: "U2", name: "bob")
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts").path

    /// A firewall's API on loopback: POST /block, /unblock, /disable, each recorded with its
    /// Idempotency-Key. A block with a key already seen changes nothing (as Stripe-style APIs
    /// do), so `effects` counts what really happened. With `hang`, the first block is held until
    /// `holding` is cleared (a minute at most).
    final class Firewall: Sendable {
        let requests = Mutex<[(path: String, key: String, body: String)]>([])
        let hang = Mutex(false)
        let holding = Mutex(true)
        /// An /unblock whose body holds this is refused, as for a rule removed by hand.
        let refusedUndo = Mutex<String?>(nil)
        var paths: [String] { requests.withLock { $0.map(\.path) } }
        var bodies: [String] { requests.withLock { $0.map(\.body) } }
        /// Distinct (path, key) pairs: what an API that honours idempotency keys did.
        var effects: Int { requests.withLock { Set($0.map { "\($0.path) \($0.key)" }).count } }

        func start() async throws -> LoopbackServer {
            let router = Router()
            router.post("/{command}") { request, context -> Response in
                let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
                let key = request.headers.first(where: { $0.name.canonicalName == "idempotency-key" })?.value ?? ""
                let path = "/" + (context.parameters.get("command") ?? "")
                self.requests.withLock { $0.append((path, key, body)) }
                if body.contains("refuse@") || path == "/unblock" && self.refusedUndo.withLock({ $0.map(body.contains) == true }) {
                    return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "no such user")))
                }
                if path == "/block", self.hang.withLock({ hanging in defer { hanging = false }; return hanging }) {
                    for _ in 0..<6000 where self.holding.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
                }
                return Response(status: .ok, headers: [.contentType: "application/json"],
                                body: .init(byteBuffer: ByteBuffer(string: #"{"rule": "r-\#(self.paths.count)"}"#)))
            }
            return try await LoopbackServer(router)
        }
    }

    /// The integration the tests act through: each action posts to the firewall with the key.
    static let firewall = #"""
        local function post(context, path, params)
          local response = http.post(context.config.base_url .. path, json.encode(params),
                                     { headers = { ["content-type"] = "application/json",
                                                   ["idempotency-key"] = context.idempotency_key } })
          if response.status ~= 200 then error(("the firewall answered %d"):format(response.status), 0) end
          return json.decode(response.body)
        end

        return integration {
          name = "Test firewall",
          config = { base_url = { required = true } },
          actions = {
            block_ip = {
              risk = "high", undo = "unblock_ip",
              params = { ip = { type = "ip", required = true }, reason = "string" },
              run = function(params, context) return post(context, "/block", params) end,
            },
            shun = {
              risk = "low", undo = "unblock_ip", ttl = "2s",
              params = { ip = { type = "ip", required = true } },
              run = function(params, context) return post(context, "/block", params) end,
            },
            block_network = {
              risk = "low", params = { network = { type = "cidr", required = true } },
              run = function(params, context) return post(context, "/block", params) end,
            },
            unblock_ip = {
              risk = "low", params = { ip = { type = "ip", required = true }, reason = "string" },
              run = function(params, context) return post(context, "/unblock", params) end,
            },
            disable_user = {
              risk = "medium", params = { user = { type = "account", required = true }, hours = "integer", notify = "boolean" },
              run = function(params, context) return post(context, "/disable", params) end,
            },
          },
        }
        """#

    static func configuration(timeout: TimeInterval = 3600) -> ActionConfiguration {
        var configuration = ActionConfiguration()
        configuration.approvalChannel = "#soc"
        configuration.approvalTimeout = timeout
        configuration.protectedNetworks = ["10.0.0.0/8", "2001:db8:ffff::/48"]
        configuration.protectedAccounts = ["Administrator@example.com"]
        return configuration
    }

    /// Playbooks, integrations, a store, the chat bot on a test network and the actions, in a
    /// scratch folder that outlives one instance (a restart is a new `Responder` on it).
    final class Responder: Sendable {
        let network = ChatTestNetwork()
        let store: SQLiteStore
        let chat: ChatService
        let incidents: IncidentService
        let integrations: Integrations
        let actions: ActionService

        /// - Parameter configured: false leaves the firewall's settings out, as for an integration
        ///   nobody set up.
        init(folder: ScratchFolder, api: LoopbackServer, configuration: ActionConfiguration = ActionTests.configuration(),
             configured: Bool = true) async throws
        {
            let scripts = folder.path + "/scripts"
            try FileManager.default.createDirectory(atPath: scripts + "/integrations", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: scripts + "/playbooks", withIntermediateDirectories: true)
            try ActionTests.firewall.write(toFile: scripts + "/integrations/firewall.lua", atomically: true, encoding: .utf8)
            store = try SQLiteStore(folder: folder.path + "/data")
            let ledger = IncidentLedger(store: store)
            integrations = await Integrations(folder: scripts + "/integrations",
                                              settings: configured ? ["firewall": .init(values: ["base_url": api.url])] : [:],
                                              environment: [:], logger: ActionTests.logger)
            for file in ["commands/action.lua", "lib/incident_ref.lua"] {
                try? FileManager.default.createDirectory(atPath: scripts + "/" + (file as NSString).deletingLastPathComponent,
                                                         withIntermediateDirectories: true)
                try? FileManager.default.copyItem(atPath: ActionTests.shipped + "/" + file, toPath: scripts + "/" + file)
            }
            chat = ChatService(store: store, adapters: [network], scripts: scripts,
                               rules: AccessRules(roles: ["approver": ["U1"], "responder": ["U1"]]))
            actions = ActionService(integrations: integrations, store: store, rules: AccessRules(actions: configuration),
                                    logger: ActionTests.logger)
            let modules = StandardModules.all(logger: ActionTests.logger)
                + [IncidentsModule(ledger: ledger), ChatModule(service: chat, reputation: nil, evidence: nil),
                   ActionsModule(service: actions)]
            let runs = try RunService(store: store, modules: modules, modulePaths: [scripts], executors: 1)
            incidents = try IncidentService(ledger: ledger, runs: runs, scripts: scripts, modules: modules)
            try await incidents.start()
            try await chat.start(runs: runs, modules: modules)
        }

        /// Opens an incident of type `c2`, which the playbook in the folder (if any) takes.
        func open(_ title: String = "C2 at 198.51.100.7") async throws -> (IncidentID, RunRecord?) {
            let created = try await incidents.create(IncidentDraft(title: title, type: "c2", severity: .high), by: "test")
            return (created.incident.id, created.run)
        }

        /// The `nth` question the bot posted, once it has and it takes answers (the message that
        /// asked is recorded just after the post).
        func question(_ nth: Int = 1) async throws -> ChatPost {
            for _ in 0..<300 {
                let posted = network.posts.withLock { posts in
                    posts.indices.filter { posts[$0].question != nil }.dropFirst(nth - 1).first.map { (posts[$0], "p\($0 + 1)") }
                }
                if let (post, message) = posted,
                   try await store.question(network: "test", channel: "C1", message: message) != nil
                { return post }
                try await Task.sleep(for: .milliseconds(10))
            }
            throw ActionError(.notFound, "no question was posted")
        }

        /// Says `text` in #soc as `user`, and returns what the bot answered.
        func say(_ text: String, by user: ChatUser = ActionTests.alice) async -> [String] {
            await chat.receive(ChatMessage(id: UUID().uuidString, channel: ActionTests.soc, user: user, text: text,
                                           thread: nil, replyTo: nil, files: []), from: network)
            await chat.settle()
            return network.takePosts().map(\.text)
        }

        func answer(_ text: String) async {
            await chat.receive(ChatMessage(id: UUID().uuidString, channel: ActionTests.soc, user: ActionTests.alice,
                                           text: text, thread: "p1", replyTo: "p1", files: []), from: network)
            await chat.settle()
        }

        func journal(_ incident: IncidentID, _ kind: JournalEntry.Kind = .action) async throws -> [String] {
            try await store.journal(of: incident).filter { $0.kind == kind }.map { "\($0.actor): \($0.text)" }
        }

        func notes(_ incident: IncidentID) async throws -> [String] {
            try await store.journal(of: incident).filter { $0.kind == .note }.map(\.text)
        }

        func stop() async {
            await chat.shutdown()
            await incidents.shutdown()
            integrations.shutdown()
        }
    }

    /// One test's world: the firewall on loopback, and a folder with the playbook (unless
    /// `approvals` is nil) where responders start and restart.
    final class Scene: Sendable {
        let firewall = Firewall()
        let api: LoopbackServer
        let folder: ScratchFolder

        init(approvals: String? = "", hanging: Bool = false) async throws {
            firewall.hang.withLock { $0 = hanging }
            api = try await firewall.start()
            folder = try ScratchFolder()
            if let approvals { try ActionTests.playbook(in: folder, approvals: approvals) }
        }

        func responder(timeout: TimeInterval = 3600, configured: Bool = true) async throws -> Responder {
            try await Responder(folder: folder, api: api, configuration: ActionTests.configuration(timeout: timeout),
                                configured: configured)
        }

        deinit { api.stop() }
    }

    /// A playbook for incidents of type `c2` that blocks the address in the title, or runs `body`.
    static func playbook(in folder: ScratchFolder, approvals: String = "", running body: String = """
        local done, why = actions.run("firewall.block_ip", { ip = inc.title:match("%d+%.%d+%.%d+%.%d+"), reason = "C2" },
                                      { incident = inc })
        if done then inc:note("blocked: " .. done.id .. " " .. done.status) else inc:note("not blocked: " .. why) end
        """) throws {
        try FileManager.default.createDirectory(atPath: folder.path + "/scripts/playbooks", withIntermediateDirectories: true)
        let source = """
            return playbook {
              name = "Block C2",
              match = { type = "c2" },
              \(approvals)
              run = function(inc)
            \(body)
              end,
            }
            """
        try source.write(toFile: folder.path + "/scripts/playbooks/block.lua", atomically: true, encoding: .utf8)
    }

    // MARK: - Checks

    @Test("Parameters are checked before anything is sent: types, IP syntax, protected networks and accounts, /0")
    func refusals() async throws {
        let scene = try await Scene()
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let actions = responder.actions
        func refusal(_ name: String, _ parameters: [String: Any]) -> String {
            do {
                _ = try actions.plan(name, parameters: parameters)
                return "accepted"
            } catch { return error.description }
        }
        #expect(refusal("firewall.block_ip", ["ip": "10.20.30.40"])
            == "firewall.block_ip: ip 10.20.30.40 is in the protected network 10.0.0.0/8 (actions.protected.networks "
            + "in the configuration): no action may touch it")
        #expect(refusal("firewall.block_ip", ["ip": "2001:db8:ffff:1::7"]).contains("protected network 2001:db8:ffff::/48"))
        #expect(refusal("firewall.block_network", ["network": "0.0.0.0/0"]).contains("is wider than a /8"))
        #expect(refusal("firewall.block_network", ["network": "10.128.0.0/9"]).contains("protected network 10.0.0.0/8"),
                "a network that overlaps a protected one")
        #expect(refusal("firewall.block_network", ["network": "198.51.100.0/24"]) == "accepted")
        #expect(refusal("firewall.block_ip", ["ip": "198.51.100.0/24"]).contains("must be one IP address, not a network"))
        #expect(refusal("firewall.block_ip", ["ip": "999.1.1.1"]).hasPrefix("firewall.block_ip: ip must be an IP address"))
        #expect(refusal("firewall.block_ip", [:]) == "firewall.block_ip needs ip (ip): it takes ip, reason")
        #expect(refusal("firewall.block_ip", ["ip": "198.51.100.7", "port": "22"])
            == #"firewall.block_ip has no parameter "port": it takes ip, reason"#)
        #expect(refusal("firewall.disable_user", ["user": "administrator@EXAMPLE.com"]).contains("is a protected account"))
        #expect(refusal("firewall.disable_user", ["user": "mallory@example.com", "hours": "two"])
            .contains("hours must be a whole number"))
        #expect(refusal("firewall.nuke", [:]).hasPrefix("there is no action firewall.nuke: the actions are firewall.block_ip"))
        #expect(refusal("firewall.blok_ip", [:])
            .hasPrefix("there is no action firewall.blok_ip (did you mean firewall.block_ip?): the actions are firewall.block_ip"))

        // Through a playbook: the error is raised at the script's line, and nothing reached the API.
        let (incident, run) = try await responder.open("C2 at 10.1.2.3")
        let runID = try #require(run).id
        await responder.incidents.runs.waitForEnd(runID)
        let failed = try #require(try await responder.incidents.runs.run(runID))
        #expect(failed.status == .failed && failed.error?.contains("block.lua:6: actions.run: firewall.block_ip: ip 10.1.2.3 is in "
            + "the protected network") == true, "\(failed.error ?? "")")
        #expect(firewall.paths.isEmpty && responder.network.posts.withLock { $0.isEmpty }, "nothing sent, nobody asked")
        #expect(try await responder.journal(incident).isEmpty)
        await responder.stop()
    }

    @Test("A value must be of its parameter's type: no number for text, no wildcard or newline in an account")
    func strictTypes() async throws {
        let scene = try await Scene(approvals: nil)
        let responder = try await scene.responder()
        /// What the checks say of parameters as a script's JSON gives them.
        func refusal(_ name: String, _ json: String) throws -> String {
            let parameters = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
            do {
                return try responder.actions.plan(name, parameters: parameters).parametersJSON
            } catch { return error.description }
        }
        let refusals = try [
            refusal("firewall.disable_user", #"{"user": 42}"#),
            refusal("firewall.disable_user", #"{"user": "*"}"#),
            refusal("firewall.disable_user", #"{"user": "a\nb"}"#),
            refusal("firewall.disable_user", #"{"user": ["a"]}"#),
            refusal("firewall.block_ip", #"{"ip": "198.51.100.7", "reason": true}"#),
            refusal("firewall.block_ip", #"{"ip": "198.51.100.7", "reason": null}"#),
            refusal("firewall.disable_user", #"{"user": "j.doe", "notify": "yes"}"#),
            refusal("firewall.disable_user", #"{"user": "j.doe", "hours": true}"#),
            refusal("firewall.disable_user", #"{"user": "j.doe", "notify": 1}"#),
        ]
        #expect(refusals == [
            "firewall.disable_user: user must be an account as text, got 42 (a number)",
            #"firewall.disable_user: user must be one account, without wildcards (*, ?, %) or control characters, got "*""#,
            #"firewall.disable_user: user must be one account, without wildcards (*, ?, %) or control characters, got "a\nb""#,
            "firewall.disable_user: user must be an account as text, got a list",
            "firewall.block_ip: reason must be text, got true (a boolean)",
            "firewall.block_ip: reason must be text, got null",
            #"firewall.disable_user: notify must be true or false, got "yes""#,
            "firewall.disable_user: hours must be a whole number, got true (a boolean)",
            "firewall.disable_user: notify must be true or false, got 1 (a number)",
        ], "\(refusals)")
        // What is right passes: a script's values of the type, the CLI's text read as the type.
        #expect(try refusal("firewall.disable_user", #"{"user": "j.doe", "hours": 2, "notify": true}"#)
            == #"{"hours":2,"notify":true,"user":"j.doe"}"#)
        #expect(try refusal("firewall.disable_user", #"{"user": "j.doe", "hours": "2", "notify": "false"}"#)
            == #"{"hours":2,"notify":false,"user":"j.doe"}"#)
        #expect(try refusal("firewall.block_ip", #"{"ip": "198.51.100.7", "reason": "C2\nsee INC-7"}"#)
            == #"{"ip":"198.51.100.7","reason":"C2\nsee INC-7"}"#)
        await responder.stop()
    }

    @Test("A refusal inside a playbook is kept with the run's next write, whatever incident it names")
    func refusalKeptWithTheRun() async throws {
        let scene = try await Scene()
        try Self.playbook(in: scene.folder, running: """
            local ok = pcall(actions.run, "firewall.block_ip", { ip = "10.1.2.3" }, { incident = "INC-999" })
            inc:note(ok and "sent" or "refused")
            """)
        let responder = try await scene.responder()
        let (incident, run) = try await responder.open()
        let runID = try #require(run).id
        await responder.incidents.runs.waitForEnd(runID)
        #expect(try await responder.incidents.runs.run(runID)?.status == .completed)
        #expect(try await responder.notes(incident) == ["refused"])
        // Written with the note, in one transaction: before, in a task of its own, the store's
        // refusal of INC-999 (which does not exist) lost it without a word.
        let refusal = try #require(try await responder.actions.history().first)
        #expect(refusal.status == .refused && refusal.incident == IncidentID(999) && refusal.key.hasPrefix(runID.rawValue + "/"),
                "\(refusal)")
        #expect(scene.firewall.paths.isEmpty)
        await responder.stop()
    }

    @Test("A protected account is matched as an identity admin would: case, DOMAIN\\ prefix, trailing dot, bare name")
    func protectedAccountForms() async throws {
        let scene = try await Scene()
        var configuration = Self.configuration()
        configuration.protectedAccounts = ["administrator@example.com", "breakglass"]
        let responder = try await Responder(folder: scene.folder, api: scene.api, configuration: configuration)
        func refused(_ user: String) -> Bool {
            do {
                _ = try responder.actions.plan("firewall.disable_user", parameters: ["user": user])
                return false
            } catch { return error.kind == .refused }
        }
        for user in ["administrator@example.com", "Administrator@EXAMPLE.COM", "administrator@example.com.",
                     "EXAMPLE\\administrator", "example\\Administrator", "administrator", " administrator@example.com ",
                     "breakglass", "BreakGlass", "breakglass@example.com", "breakglass@other.example", "CORP\\breakglass",
                     "breakglass."] {
            #expect(refused(user), "\(user) is protected")
        }
        for user in ["administrator@other.example", "administrator2@example.com", "admin@example.com", "breakglass2",
                     "breakglass-test@example.com", "alice@example.com", "EXAMPLE\\alice", "mallory"] {
            #expect(!refused(user), "\(user) is not protected")
        }
        await responder.stop()
    }

    @Test("An IPv4 address written as IPv6 (mapped, compatible, NAT64) is the IPv4 address to protected networks")
    func protectedIPv4InIPv6() async throws {
        let scene = try await Scene()
        let responder = try await scene.responder()
        func refusal(_ name: String, _ parameters: [String: Any], by actions: ActionService) -> String {
            do {
                _ = try actions.plan(name, parameters: parameters)
                return "accepted"
            } catch { return error.description }
        }
        for ip in ["::ffff:10.0.0.1", "0:0:0:0:0:ffff:10.0.0.1", "::ffff:0a00:0001", "::10.0.0.1", "64:ff9b::10.0.0.1"] {
            #expect(refusal("firewall.block_ip", ["ip": ip], by: responder.actions)
                == "firewall.block_ip: ip \(ip) is in the protected network 10.0.0.0/8 (actions.protected.networks "
                + "in the configuration): no action may touch it")
        }
        for network in ["::ffff:10.0.0.0/104", "::ffff:10.1.0.0/112", "64:ff9b::/96", "::fffe:0:0/95", "::/64"] {
            #expect(refusal("firewall.block_network", ["network": network], by: responder.actions) != "accepted",
                    "\(network) covers addresses of 10.0.0.0/8")
        }
        #expect(refusal("firewall.block_network", ["network": "::ffff:0:0/96"], by: responder.actions)
            .contains("covers 0.0.0.0/0 written as IPv6, wider than a /8"))
        for allowed in ["::ffff:198.51.100.7", "64:ff9b::198.51.100.0/120", "::1", "2001:db8::1"] {
            #expect(refusal("firewall.block_network", ["network": allowed], by: responder.actions) == "accepted", "\(allowed)")
        }
        await responder.stop()

        // A protected network written as IPv6 protects the IPv4 form; 0.0.0.0/0 protects every IPv6 form of IPv4.
        var configuration = ActionTests.configuration()
        configuration.protectedNetworks = ["::ffff:192.0.2.0/120", "0.0.0.0/0"]
        let guarded = try await Responder(folder: scene.folder, api: scene.api, configuration: configuration)
        #expect(refusal("firewall.block_ip", ["ip": "192.0.2.7"], by: guarded.actions)
            .contains("in the protected network ::ffff:192.0.2.0/120"))
        for ip in ["::ffff:198.51.100.7", "64:ff9b::198.51.100.7", "::198.51.100.7"] {
            #expect(refusal("firewall.block_ip", ["ip": ip], by: guarded.actions).contains("in the protected network 0.0.0.0/0"))
        }
        #expect(refusal("firewall.block_ip", ["ip": "2001:db8::7"], by: guarded.actions) == "accepted")
        #expect(refusal("firewall.block_ip", ["ip": "::1"], by: guarded.actions) == "accepted", "loopback is not 0.0.0.1")
        await guarded.stop()
        #expect(scene.firewall.paths.isEmpty)
    }

    @Test("The actions section of the configuration: the example file reads; a bad network names its line and key")
    func configurationFile() throws {
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/examples/automator.yml").path
        let configuration = try ActionConfiguration(file: example)
        #expect(configuration.approvalRisk == .high && configuration.approvalChannel == "#soc")
        #expect(configuration.approvalTimeout == 3600 && configuration.protectedNetworks.count == 3)
        let folder = try ScratchFolder()
        let file = folder.path + "/bad.yml"
        try "actions:\n  protected:\n    networks: [10.0.0.0/8, 10.0.0.1/8]\n".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: ConfigurationError.self) { try ActionConfiguration(file: file) }
        do { _ = try ActionConfiguration(file: file) } catch {
            #expect("\(error)".contains("3") && "\(error)".contains("actions.protected.networks"), "\(error)")
        }
        let none = folder.path + "/none.yml"
        try "actions:\n  approval: { risk: none }\n".write(toFile: none, atomically: true, encoding: .utf8)
        #expect(try ActionConfiguration(file: none).approvalRisk == nil)
    }

    // MARK: - Approvals

    @Test("A high-risk action waits for an approver: granted, it is sent once with the run's key and journaled")
    func approved() async throws {
        let scene = try await Scene()
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let (incident, run) = try await responder.open()
        let runID = try #require(run).id
        let question = try await responder.question()
        #expect(question.channel == "C1" && question.text.hasPrefix(
            "Approve firewall.block_ip ip=198.51.100[.]7 reason=C2? (risk high, \(incident))"), "defanged: \(question.text)")
        #expect(firewall.paths.isEmpty, "nothing is sent before the approval")
        await responder.answer("approve")
        await responder.incidents.runs.waitForEnd(runID)
        #expect(firewall.paths == ["/block"])
        let key = try #require(firewall.requests.withLock { $0.first?.key })
        #expect(key.hasPrefix(runID.rawValue + "/"), "the run's id and the call's number: \(key)")
        let record = try #require(try await responder.actions.history(on: incident).first)
        #expect(record.status == .done && record.approvedBy == "test:alice" && record.key == key)
        #expect(record.parameters == #"{"ip":"198.51.100.7","reason":"C2"}"# && record.result == #"{"rule":"r-1"}"#)
        #expect(try await responder.notes(incident) == ["blocked: \(record.id) done"])
        let journal = try await responder.journal(incident)
        #expect(journal == ["playbook \(runID): \(record.id): ran firewall.block_ip ip=198.51.100.7 "
            + #"reason=C2, approved by test:alice: {"rule":"r-1"}"#], "\(journal)")

        // As automator action show gives it: its undo, and the question that approved it, answered.
        let (shown, undo, asked) = try await responder.actions.details(record.id)
        #expect(shown == record && undo == "firewall.unblock_ip")
        #expect(asked?.text.hasPrefix("Approve firewall.block_ip") == true && asked?.answer == "approve"
                    && asked?.answeredBy == "test:alice",
                "\(String(describing: asked))")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(ActionsModule.json(shown, undo: undo,
                                                                                                question: asked).utf8))
            as? [String: Any])
        #expect(json["undo"] as? String == "firewall.unblock_ip" && json["id"] as? String == record.id)
        let answered = try #require(json["question"] as? [String: Any], "\(json)")
        #expect(answered["answer"] as? String == "approve" && answered["incident"] as? String == incident.description,
                "\(answered)")
        await #expect(throws: ActionError.self) { try await responder.actions.details("ACT-0000000000") }
        await responder.stop()
    }

    @Test("An approval says how long the action lasts, under its question: the approver agrees to the ttl too")
    func approvalSaysTheTTL() async throws {
        let scene = try await Scene()
        try Self.playbook(in: scene.folder, running: """
            local done = actions.run("firewall.block_ip", { ip = "198.51.100.7" }, { incident = inc, ttl = "24h" })
            inc:note("blocked: " .. done.status)
            """)
        let responder = try await scene.responder()
        let (incident, run) = try await responder.open()
        let post = try await responder.question()
        let note = "If approved, its undo runs by itself 1d after it is sent."
        #expect(post.text.hasPrefix("Approve firewall.block_ip ip=198.51.100[.]7? (risk high, \(incident))\n\(note)"),
                "\(post.text)")
        let asked = try #require(try await responder.store.openQuestions(of: incident).first?.question)
        #expect(asked.text.hasSuffix("\n" + note), "kept as posted: \(asked.text)")
        await responder.answer("approve")
        await responder.incidents.runs.waitForEnd(try #require(run).id)
        #expect(try await responder.notes(incident) == ["blocked: done"])
        await responder.stop()
    }

    @Test("A question's note is no argument a replay compares: a run asked without one replays; a changed question diverges")
    func questionNoteReplays() async throws {
        let scene = try await Scene(approvals: nil)
        let responder = try await scene.responder()
        let asking = { (question: String, options: String) in Array("""
            local answer = chat.ask("#soc", "\(question)", { "yes", "no" }\(options))
            error("stopped after " .. answer)
            """.utf8) }
        let run = try await responder.incidents.runs.submit(script: "ask.lua", source: asking("Go on?", ""))
        _ = try await responder.question()
        await responder.answer("yes")
        await responder.incidents.runs.waitForEnd(run.id)
        #expect(try await responder.incidents.runs.run(run.id)?.error?.contains("stopped after yes") == true)

        // The same run, now with a note, as a run recorded before the approval's note replays.
        _ = try await responder.incidents.runs.retry(run.id, source: asking("Go on?", #", { note = "Lasts 1d." }"#))
        await responder.incidents.runs.waitForEnd(run.id)
        let replayed = try #require(try await responder.incidents.runs.run(run.id))
        #expect(replayed.status == .failed && replayed.error?.contains("stopped after yes") == true,
                "\(replayed.status): \(replayed.error ?? "")")
        // The question's own text is compared.
        _ = try await responder.incidents.runs.retry(run.id, source: asking("Go on now?", ""))
        await responder.incidents.runs.waitForEnd(run.id)
        #expect(try await responder.incidents.runs.run(run.id)?.status == .diverged)
        #expect(responder.network.posts.withLock { $0.filter { $0.question != nil }.count } == 1, "asked once")
        await responder.stop()
    }

    @Test("Time to approval is the wait of the approval's own question, not of a chat.ask the run answered before")
    func approvalLinkedToItsQuestion() async throws {
        let scene = try await Scene()
        try Self.playbook(in: scene.folder, running: """
            local ours = chat.ask("#soc", "Is 198.51.100.7 one of ours?", { "no", "yes" })
            if ours == "no" then actions.run("firewall.block_ip", { ip = "198.51.100.7" }, { incident = inc }) end
            """)
        let responder = try await scene.responder()
        let (incident, run) = try await responder.open()
        let asked = try #require(try await responder.question(1).question)
        try await Task.sleep(for: .milliseconds(600))
        await responder.answer("no")
        let approval = try #require(try await responder.question(2).question)
        try await Task.sleep(for: .milliseconds(150))
        try await responder.chat.answer(approval.id, choice: "approve", by: "test:alice")
        await responder.incidents.runs.waitForEnd(try #require(run).id)

        let record = try #require(try await responder.actions.history(on: incident).first)
        #expect(record.status == .done && record.question == approval.id, "\(record)")
        let question = try #require(try await responder.store.question(approval.id))
        let wait = try #require(question.answeredAt).timeIntervalSince(question.askedAt)
        let first = try #require(try await responder.store.question(asked.id))
        #expect(try #require(first.answeredAt).timeIntervalSince(first.askedAt) >= 0.6)
        let report = try await responder.store.report(ReportWindow(from: record.at.addingTimeInterval(-60),
                                                                   to: record.at.addingTimeInterval(60)), at: Date())
        #expect(report.approval.count == 1 && abs((report.approval.mean ?? 0) - wait) < 0.001,
                "the approval's \(wait) s: \(report.approval)")
        await responder.stop()
    }

    @Test("An approval answered through the API (or the CLI) for the person who holds the token")
    func approvedOutsideChat() async throws {
        let scene = try await Scene()
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let (incident, run) = try await responder.open()
        let runID = try #require(run).id
        _ = try await responder.question()
        let question = try #require(try await responder.store.question(network: "test", channel: "C1", message: "p1"))
        await #expect(throws: ChatError.self) { try await responder.chat.answer(question.id, choice: "maybe", by: "api") }
        try await responder.chat.answer(question.id, choice: "Approve", by: "api")
        await responder.incidents.runs.waitForEnd(runID)
        #expect(firewall.paths == ["/block"])
        #expect(try await responder.actions.history(on: incident).first?.approvedBy == "api")
        #expect(responder.network.takePosts().last?.text == "api answered: approve", "said in the question's thread")
        await #expect(throws: StoreError.self) { try await responder.chat.answer(question.id, choice: "deny", by: "api") }
        await responder.stop()
    }

    @Test("Denied, or unanswered within the timeout: nothing is sent, the journal says why, the record is kept")
    func deniedAndTimedOut() async throws {
        let scene = try await Scene()
        let firewall = scene.firewall
        var responder = try await scene.responder()
        let (denied, run) = try await responder.open()
        let runID = try #require(run).id
        let asked = try #require(try await responder.question().question)
        await responder.answer("deny")
        await responder.incidents.runs.waitForEnd(runID)
        #expect(try await responder.notes(denied) == ["not blocked: denied by test:alice"])
        #expect(try await responder.journal(denied).last?.hasSuffix(
            "not run: firewall.block_ip ip=198.51.100.7 reason=C2 (asked by playbook \(runID)): denied by test:alice "
                + "(\(asked.id))") == true)
        let refusal = try #require(try await responder.actions.history(on: denied).first, "kept for the report and the audit")
        #expect([refusal.status.rawValue, refusal.result, refusal.approvedBy] == ["denied", "denied by test:alice", nil])
        #expect(refusal.question == asked.id, "the question its no answered: \(refusal)")
        let (_, _, no) = try await responder.actions.details(refusal.id)
        #expect(no?.id == asked.id && no?.answer == "deny" && no?.answeredBy == "test:alice", "\(String(describing: no))")
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(ActionsModule.json([refusal]).utf8))
            as? [String: [[String: Any]]])
        #expect(listed["actions"]?.first?["question"] as? String == asked.id, "history names it: \(listed)")
        await responder.stop()

        responder = try await scene.responder(timeout: 0.5)
        let (unanswered, late) = try await responder.open()
        let unasked = try #require(try await responder.question().question)
        await responder.incidents.runs.waitForEnd(try #require(late).id)
        #expect(try await responder.notes(unanswered) == ["not blocked: nobody approved it in time"])
        await responder.answer("approve")
        #expect(try await responder.notes(unanswered).count == 1, "a late answer changes nothing")
        #expect(firewall.paths.isEmpty)
        let timedOut = try #require(try await responder.actions.history(on: unanswered).first)
        #expect(timedOut.status == .timedOut && timedOut.question == unasked.id, "\(timedOut)")
        // The question's own entry: who was asked, where and when, by when nobody answered, and so no.
        let kept = try #require(try await responder.store.question(unasked.id))
        let time = { (date: Date) in JSONText.time(date).dropFirst().dropLast() }
        let expired = try await responder.journal(unanswered, .approval).filter { $0.contains("timed out") }
        #expect(expired == ["automator: \(unasked.id) timed out, not approved: nobody answered by "
            + "\(time(kept.askedAt.addingTimeInterval(0.5))); asked the role approver in C1 at \(time(kept.askedAt)): "
            + "\(kept.text)"], "once, with the decision: \(expired)")
        let (_, _, none) = try await responder.actions.details(timedOut.id)
        #expect(none?.answer == "timeout" && none?.answeredBy == "automator" && none?.answeredAt != nil,
                "when nobody had answered: \(String(describing: none))")
        #expect(try await responder.actions.history().allSatisfy { $0.status == .denied || $0.status == .timedOut },
                "nothing sent")
        // A no, or no answer, is no time to approval.
        let report = try await responder.store.report(ReportWindow(from: refusal.at.addingTimeInterval(-60),
                                                                   to: Date().addingTimeInterval(60)), at: Date())
        #expect(report.approval.count == 0, "\(report.approval)")
        await responder.stop()
    }

    @Test("A playbook's standing approval runs the action without asking; a dry run asks nothing and sends nothing")
    func standingAndDryRun() async throws {
        let scene = try await Scene(approvals: #"approvals = { "firewall.block_ip" },"#)
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let (incident, run) = try await responder.open()
        await responder.incidents.runs.waitForEnd(try #require(run?.id))
        #expect(responder.network.posts.withLock { $0.isEmpty }, "no question")
        #expect(firewall.paths == ["/block"])
        #expect(try await responder.actions.history(on: incident).first?.approvedBy == "standing approval of the playbook")

        let script = """
            local planned = actions.run("firewall.block_ip", { ip = "203.0.113.9" }, { incident = "\(incident)", dry_run = true })
            return planned.status, planned.id
            """
        let dry = try await responder.incidents.runs.submit(script: "dry.lua", source: Array(script.utf8))
        await responder.incidents.runs.waitForEnd(dry.id)
        let ended = try #require(try await responder.incidents.runs.run(dry.id))
        #expect(ended.status == .completed && ended.result?.hasPrefix(#"["planned","ACT-"#) == true, "\(ended.error ?? "")")
        #expect(firewall.paths == ["/block"] && responder.network.posts.withLock { $0.isEmpty })
        #expect(try await responder.journal(incident).last?.hasSuffix("dry run, nothing sent: would run firewall.block_ip "
            + "ip=203.0.113.9 (risk high, approval required)") == true)

        // An unknown incident is refused with the action's record, before anything is sent.
        let nowhere = try await responder.incidents.runs.submit(script: "nowhere.lua", source: Array("""
            return actions.run("firewall.block_network", { network = "203.0.113.0/24" }, { incident = "INC-99" })
            """.utf8))
        await responder.incidents.runs.waitForEnd(nowhere.id)
        let refused = try #require(try await responder.incidents.runs.run(nowhere.id))
        #expect(refused.status == .failed && refused.error?.contains("there is no incident INC-99") == true,
                "\(refused.error ?? "")")
        #expect(firewall.paths == ["/block"])
        #expect(try await responder.actions.history().count == 2)
        await responder.stop()
    }

    @Test("actions.available: false and why for an integration not set up, kept by a replay after it is; a typo is an error")
    func availability() async throws {
        let scene = try await Scene(approvals: nil)
        try ActionTests.playbook(in: scene.folder, running: """
            local can, why = actions.available("firewall.block_ip")
            inc:note("first: " .. tostring(can) .. ", " .. tostring(why))
            chat.ask("#soc", "Go on?", { "yes" })
            inc:note("then: " .. tostring(can) .. ", now " .. tostring(actions.available("firewall.block_ip")))
            """)
        var responder = try await scene.responder(configured: false)
        let (incident, run) = try await responder.open()
        _ = try await responder.question()
        let first = try await responder.notes(incident)
        #expect(first == ["first: false, the integration firewall is not set up: "
            + "base_url is not set: set integrations.firewall.base_url in the configuration file"], "\(first)")
        await responder.stop()

        // Set up and restarted: the replay takes the branch the run took; a new call sees it set up.
        responder = try await scene.responder()
        await responder.answer("yes")
        await responder.incidents.runs.waitForEnd(try #require(run).id)
        #expect(try await responder.notes(incident).last == "then: false, now true")

        let typo = try await responder.incidents.runs.submit(script: "typo.lua", source: Array("""
            return actions.available("firewall.blok_ip")
            """.utf8))
        await responder.incidents.runs.waitForEnd(typo.id)
        let failed = try #require(try await responder.incidents.runs.run(typo.id))
        #expect(failed.status == .failed && failed.error?.contains("there is no action firewall.blok_ip (did you mean "
            + "firewall.block_ip?)") == true, "\(failed.error ?? "")")
        #expect(scene.firewall.paths.isEmpty)
        await responder.stop()
    }

    @Test("A typo in actions.run's options, or the incident where they belong, is refused: nothing is sent")
    func misspelledOptions() async throws {
        let scene = try await Scene(approvals: nil)
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let (incident, _) = try await responder.open()
        func failure(_ call: String) async throws -> String {
            let source = #"local inc = incidents.get("\#(incident)")"# + "\n" + call
            let run = try await responder.incidents.runs.submit(script: "typo.lua", source: Array(source.utf8))
            await responder.incidents.runs.waitForEnd(run.id)
            let error = try #require(try await responder.incidents.runs.run(run.id)).error ?? "completed"
            return String(error.prefix { $0 != "\n" })  // without the traceback
        }
        let block = #"actions.run("firewall.block_network", { network = "203.0.113.0/24" }, "#
        let failures = [
            try await failure(block + "{ incident = inc, dryrun = true })"),
            try await failure(block + "inc)"),
            try await failure(block + #"{ incident = inc, dry_run = "yes" })"#),
            try await failure(block + #""INC-1")"#),
            try await failure(#"actions.plan("firewall.block_ip", { ip = "203.0.113.9" }, { incidnet = inc })"#),
            try await failure(block + #"{ incident = inc, defualt_chanenl = "ops" })"#),
        ]
        #expect(failures == [
            "typo.lua:2: actions.run: unknown option dryrun (did you mean dry_run?): the options are channel, "
                + "default_channel, dry_run, incident, ttl",
            "typo.lua:2: actions.run: the third argument is the options, not the incident: write "
                + "actions.run(name, params, { incident = inc })",
            "typo.lua:2: actions.run: option dry_run must be a boolean, got string",
            "typo.lua:2: actions.run: options must be a table, as in actions.run(name, params, { incident = inc }), got string",
            "typo.lua:2: actions.plan: unknown option incidnet (did you mean incident?): the options are channel, "
                + "default_channel, dry_run, incident, ttl",
            "typo.lua:2: actions.run: unknown option defualt_chanenl (did you mean default_channel?): the options are "
                + "channel, default_channel, dry_run, incident, ttl",
        ], "two letters swapped are one typo, as in chat: \(failures)")
        #expect(firewall.paths.isEmpty)
        #expect(try await responder.journal(incident).isEmpty)
        await responder.stop()
    }

    @Test("A failed action is an outcome, as a denied one: nil and why, recorded and journaled; the run goes on")
    func failedAction() async throws {
        let scene = try await Scene(approvals: nil)
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let (incident, _) = try await responder.open()
        let script = """
            local done, why = actions.run("firewall.disable_user", { user = "refuse@example.com" }, { incident = "\(incident)" })
            return done == nil, why
            """
        let run = try await responder.incidents.runs.submit(script: "fail.lua", source: Array(script.utf8))
        await responder.incidents.runs.waitForEnd(run.id)
        let ended = try #require(try await responder.incidents.runs.run(run.id))
        #expect(ended.status == .completed, "\(ended.error ?? "")")
        #expect(ended.result == #"[true,"firewall.disable_user failed: the firewall answered 400"]"#, "\(ended.result ?? "")")
        #expect(firewall.paths == ["/disable"])
        #expect(try await responder.store.hostCalls(of: run.id).map(\.name) == ["actions.run", "actions.perform"],
                "recorded under the hidden function's name, as runs recorded before the errors named actions.run")
        let record = try #require(try await responder.actions.history(on: incident).first)
        #expect(record.status == .failed && record.result == "firewall.disable_user failed: the firewall answered 400")
        let journal = try await responder.journal(incident)
        #expect(journal.last?.hasSuffix(": \(record.id): firewall.disable_user user=refuse@example.com failed: the firewall "
            + "answered 400") == true, "the action named once: \(journal)")

        // What is an error names the function the script called, not the hidden one behind it.
        let nowhere = try await responder.incidents.runs.submit(script: "nowhere.lua", source: Array("""
            actions.run("firewall.block_network", { network = "203.0.113.0/24" }, { incident = "INC-99" })
            """.utf8))
        await responder.incidents.runs.waitForEnd(nowhere.id)
        let refused = try #require(try await responder.incidents.runs.run(nowhere.id)?.error)
        #expect(refused.hasPrefix("nowhere.lua:1: actions.run: there is no incident INC-99"), "\(refused)")
        await responder.stop()
    }

    @Test("A retry of a run that failed after its approved action failed does not send it again on that approval")
    func retryAfterFailedAction() async throws {
        let scene = try await Scene()
        try """
            return playbook {
              name = "Block C2", match = { type = "c2" },
              run = function(inc)
                local done = actions.run("firewall.block_ip", { ip = "198.51.100.7", reason = "refuse@" }, { incident = inc })
                inc:note("blocked: " .. done.id)
              end,
            }
            """.write(toFile: scene.folder.path + "/scripts/playbooks/block.lua", atomically: true, encoding: .utf8)
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let (incident, run) = try await responder.open()
        let runID = try #require(run).id
        _ = try await responder.question()
        await responder.answer("approve")
        await responder.incidents.runs.waitForEnd(runID)
        #expect(try await responder.incidents.runs.run(runID)?.status == .failed, "the playbook indexed the nil it got")
        #expect(firewall.paths == ["/block"])

        _ = try await responder.incidents.retry(incident, by: "cli:alice")
        await responder.incidents.runs.waitForEnd(runID)
        let retried = try #require(try await responder.incidents.runs.run(runID))
        #expect(retried.status == .failed && retried.error?.contains("attempt to index a nil value") == true,
                "\(retried.error ?? "")")
        #expect(firewall.paths == ["/block"], "the failure is the call's recorded outcome: nothing is sent again")
        #expect(responder.network.posts.withLock { $0.filter { $0.question != nil }.count } == 1)
        await responder.stop()
    }

    @Test("!action in chat: for responders only; list, run with its checks, and undo")
    func chatCommand() async throws {
        let scene = try await Scene(approvals: nil)
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let listed = await responder.say("!action list")
        #expect(listed.first?.contains("• firewall.block_ip (risk high) ip:ip reason?:string") == true, "\(listed)")
        #expect(await responder.say("!action list", by: Self.bob).first?.contains("responder") == true, "bob is no responder")
        let refused = await responder.say("!action firewall.block_network network=10.0.0.0/16")
        #expect(refused.first?.contains("is in the protected network 10.0.0.0/8") == true, "\(refused)")
        let kept = try #require(try await responder.actions.history().first, "the refusal is kept for the report")
        #expect([kept.status.rawValue, kept.name, kept.parameters] == ["refused", "firewall.block_network",
                                                                      #"{"network":"10.0.0.0/16"}"#])
        #expect(kept.result?.contains("is in the protected network 10.0.0.0/8") == true, "\(kept.result ?? "")")
        let done = await responder.say("!action firewall.block_network network=198.51.100.0/24")
        let id = try #require(done.first?.split(separator: " ").first.map(String.init))
        #expect(done.first == "\(id) firewall.block_network: done.", "\(done)")
        #expect(firewall.paths == ["/block"] && firewall.bodies.first == #"{"network":"198.51.100.0/24"}"#)
        let dry = await responder.say("!action firewall.block_network network=198.51.100.0/25 dry_run=true")
        #expect(dry.first?.hasPrefix("Dry run ACT-") == true && firewall.paths.count == 1, "\(dry)")
        let undo = await responder.say("!action undo \(id)")
        #expect(undo.first?.contains("firewall.block_network has no undo") == true, "\(undo)")
        await responder.stop()
    }

    // MARK: - Exactly once

    @Test("A crash between the approval and the answer of the send: the replay sends once more with the same key")
    func exactlyOnceAcrossACrash() async throws {
        let scene = try await Scene(hanging: true)
        let firewall = scene.firewall
        var responder = try await scene.responder()
        let (incident, run) = try await responder.open()
        let runID = try #require(run).id
        _ = try await responder.question()
        await responder.answer("approve")
        for _ in 0..<300 where firewall.paths.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(firewall.paths == ["/block"], "sent, and never answered")
        let sending = try await responder.actions.history(on: incident)
        #expect(sending.map(\.status) == [.sending], "recorded, durably, before it was sent")
        // The server goes down while the firewall holds the request: the send is not recorded.
        await responder.stop()

        responder = try await scene.responder()
        await responder.incidents.runs.waitForEnd(runID)
        #expect(responder.network.posts.withLock { $0.filter { $0.question != nil }.isEmpty }, "the approval is not asked again")
        #expect(firewall.paths == ["/block", "/block"])
        #expect(firewall.effects == 1, "the same idempotency key both times: \(firewall.requests.withLock { $0.map(\.key) })")
        let history = try await responder.actions.history(on: incident)
        #expect(history.count == 1 && history.first?.status == .done && history.first?.approvedBy == "test:alice")
        let id = try #require(history.first).id
        #expect(try await responder.notes(incident) == ["blocked: \(id) done"])
        await responder.stop()
    }

    @Test("A run killed while its action is out: the action's outcome is recorded and journaled when it comes")
    func killedWhileSending() async throws {
        let scene = try await Scene(approvals: #"approvals = { "firewall.block_ip" },"#, hanging: true)
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let (incident, run) = try await responder.open()
        let runID = try #require(run).id
        for _ in 0..<300 where firewall.paths.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
        #expect(try await responder.incidents.runs.kill(runID).status == .killed)
        #expect(try await responder.actions.history(on: incident).map(\.status) == [.sending])
        firewall.holding.withLock { $0 = false }
        var history: [ActionRecord] = []
        for _ in 0..<300 where history.first?.status != .done {
            try await Task.sleep(for: .milliseconds(10))
            history = try await responder.actions.history(on: incident)
        }
        #expect(history.map(\.status) == [.done] && history.first?.result == #"{"rule":"r-1"}"#)
        #expect(try await responder.journal(incident).last?.contains("ran firewall.block_ip ip=198.51.100.7") == true)
        await responder.stop()
    }

    // MARK: - Undo and ttl

    /// Blocks 198.51.100.1, .2 and .3 on `incident`, approved by alice, in that order.
    static func blockThree(on incident: IncidentID, _ responder: Responder) async throws -> [ActionRecord] {
        var done: [ActionRecord] = []
        for (number, ip) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"].enumerated() {
            let plan = try responder.actions.plan("firewall.block_ip", parameters: ["ip": ip])
            done.append(try await responder.actions.perform(plan, key: "test/\(number)", incident: incident,
                                                            requestedBy: "cli:alice", approvedBy: "cli:alice"))
        }
        return done
    }

    @Test("Revert all undoes an incident's actions in reverse order; an undone action cannot be undone again")
    func undoInReverse() async throws {
        let scene = try await Scene(approvals: nil)
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let (incident, _) = try await responder.open()
        let done = try await Self.blockThree(on: incident, responder)
        let undone = try await responder.actions.undoAll(on: incident, by: "cli:bob")
        #expect(undone.map(\.id) == done.reversed().map(\.id) && undone.allSatisfy { $0.status == .undone })
        #expect(firewall.paths == ["/block", "/block", "/block", "/unblock", "/unblock", "/unblock"])
        #expect(firewall.bodies.suffix(3).map { $0.contains("198.51.100.3") } == [true, false, false])
        #expect(firewall.bodies.last?.contains("198.51.100.1") == true)
        await #expect(throws: ActionError.self) { try await responder.actions.undo(done[0].id, by: "cli:bob") }
        #expect(try await responder.journal(incident).last == "cli:bob: \(done[0].id): undone by cli:bob with "
            + #"firewall.unblock_ip: {"rule":"r-6"}"#)
        await responder.stop()
    }

    @Test("Revert all that fails on one action names it, those undone before it and those still done, and how to go on")
    func undoAllStopsSaying() async throws {
        let scene = try await Scene(approvals: nil)
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let (incident, _) = try await responder.open()
        let done = try await Self.blockThree(on: incident, responder)
        firewall.refusedUndo.withLock { $0 = "198.51.100.2" }
        do {
            _ = try await responder.actions.undoAll(on: incident, by: "cli:bob")
            Issue.record("the refused undo was not said")
        } catch {
            #expect(error.description.hasPrefix("\(done[1].id) (firewall.block_ip) was not undone: firewall.unblock_ip "),
                    "\(error)")
            #expect(error.description.hasSuffix("; undone before it: \(done[2].id); still done: \(done[1].id), \(done[0].id): "
                + "automator action undo --incident \(incident) undoes them once that is fixed"), "\(error)")
        }
        #expect(try await responder.actions.history(on: incident).map(\.status) == [.undone, .done, .done])
        let failure = try await responder.journal(incident).filter { $0.contains("still in force") }
        #expect(failure == ["cli:bob: \(done[1].id) firewall.block_ip ip=198.51.100.2 is still in force: firewall.unblock_ip "
            + "failed: the firewall answered 400 (undo asked by cli:bob); once that is fixed, automator action undo "
            + "\(done[1].id) runs it again"], "the action it stopped on is journaled as still in force: \(failure)")
        await responder.stop()
    }

    @Test("A failed undo says the action is still in force and how to lift it, through the service and in chat")
    func failedUndoStillInForce() async throws {
        let scene = try await Scene(approvals: nil)
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let (incident, _) = try await responder.open()
        let blocked = try await Self.blockThree(on: incident, responder)[1]
        firewall.refusedUndo.withLock { $0 = "198.51.100.2" }
        let inForce = "\(blocked.id) firewall.block_ip ip=198.51.100.2 is still in force: firewall.unblock_ip failed: "
            + "the firewall answered 400. Run the undo again once that is fixed (automator action undo \(blocked.id), "
            + "or !action undo \(blocked.id) in chat); or lift it by hand in the product and say so in \(incident)'s "
            + "journal (!note \(incident) … in chat, or POST /api/v1/incidents/\(incident)/journal): automator still "
            + "counts it as done"
        await #expect(throws: ActionError.self) { try await responder.actions.undo(blocked.id, by: "cli:bob") }
        do { _ = try await responder.actions.undo(blocked.id, by: "cli:bob") } catch {
            #expect(error.kind == .failed && error.description == inForce, "\(error)")
        }
        let said = await responder.say("!action undo \(blocked.id)")
        #expect(said == ["⚠️ Not done: \(inForce)"], "\(said)")
        #expect(try await responder.actions.action(blocked.id).status == .done)
        #expect(!(try await responder.journal(incident).contains { $0.contains("undone") }), "nothing was undone")
        // Each failed attempt is journaled once, by whoever asked, hash-chained with the rest.
        let failures = try await responder.journal(incident).filter { $0.contains("still in force") }
        #expect(failures == ["cli:bob", "cli:bob", "test:alice"].map {
            "\($0): \(blocked.id) firewall.block_ip ip=198.51.100.2 is still in force: firewall.unblock_ip failed: the "
                + "firewall answered 400 (undo asked by \($0)); once that is fixed, automator action undo \(blocked.id) "
                + "runs it again"
        }, "\(failures)")
        #expect(try await responder.store.verifyJournal(of: nil).problem == nil)

        firewall.refusedUndo.withLock { $0 = nil }
        let again = await responder.say("!action undo \(blocked.id)")
        #expect(again == ["Undone \(blocked.id) (firewall.block_ip)."], "once fixed, the same undo lifts it: \(again)")
        #expect(try await responder.actions.action(blocked.id).status == .undone)
        await responder.stop()
    }

    @Test("An integration's file runs once for all its actions: its top-level locals last from one action to the next")
    func declarationKept() async throws {
        let folder = try ScratchFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/integrations", withIntermediateDirectories: true)
        try #"""
            local calls = 0
            return integration {
              name = "Counter",
              actions = { count = { risk = "low", run = function(params, context)
                calls = calls + 1
                return { calls = calls, key = context.idempotency_key }
              end } },
            }
            """#.write(toFile: folder.path + "/integrations/counter.lua", atomically: true, encoding: .utf8)
        let integrations = await Integrations(folder: folder.path + "/integrations", settings: [:], environment: [:],
                                              logger: Self.logger)
        defer { integrations.shutdown() }
        let actions = ActionService(integrations: integrations, store: try SQLiteStore(folder: folder.path + "/data"),
                                    rules: AccessRules(), logger: Self.logger)
        let plan = try actions.plan("counter.count", parameters: [:])
        var results: [String] = []
        for call in 1...3 {
            let done = try await actions.perform(plan, key: "test/\(call)", incident: nil, requestedBy: "test", approvedBy: nil)
            results.append(done.result ?? "")
        }
        #expect(results == [#"{"calls":1,"key":"test/1"}"#, #"{"calls":2,"key":"test/2"}"#, #"{"calls":3,"key":"test/3"}"#])
    }

    @Test("An action's ttl that is not a duration leaves its integration out; a good one is kept")
    func invalidTTL() async throws {
        let folder = try ScratchFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/integrations", withIntermediateDirectories: true)
        func load(ttl: String) async throws -> (ActionDeclaration?, [String]) {
            try """
                return integration {
                  name = "Firewall",
                  actions = {
                    block_ip = { risk = "low", undo = "unblock_ip", ttl = \(ttl), run = function() end },
                    unblock_ip = { risk = "low", run = function() end },
                  },
                }
                """.write(toFile: folder.path + "/integrations/firewall.lua", atomically: true, encoding: .utf8)
            let integrations = await Integrations(folder: folder.path + "/integrations", settings: [:], environment: [:],
                                                  logger: Self.logger)
            defer { integrations.shutdown() }
            return (integrations.actions.first { $0.name == "firewall.block_ip" }, integrations.problems.map(\.message))
        }
        for ttl in [#""forever""#, #""1 h""#, #""-5m""#, #""24 h""#, "-60", #""""#] {
            let (action, problems) = try await load(ttl: ttl)
            #expect(action == nil, "ttl = \(ttl) must not load as an action without an expiry")
            #expect(problems.first?.contains("actions.block_ip.ttl must be a duration such as 90s, 15m, 4h") == true,
                    "ttl = \(ttl): \(problems)")
        }
        #expect(try await load(ttl: #""24h""#).0?.ttl == 86400)
        #expect(try await load(ttl: "3600").0?.ttl == 3600)
    }

    @Test("on_closed is read from an action's declaration (false when left out); one that is no boolean leaves it out")
    func onClosedDeclared() async throws {
        let folder = try ScratchFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/integrations", withIntermediateDirectories: true)
        func load(_ onClosed: String) async throws -> ([ActionDeclaration], [String]) {
            try """
                return integration {
                  name = "SIEM",
                  actions = { close = { risk = "low", on_closed = \(onClosed), run = function() end },
                              note = { risk = "low", run = function() end } },
                }
                """.write(toFile: folder.path + "/integrations/siem.lua", atomically: true, encoding: .utf8)
            let integrations = await Integrations(folder: folder.path + "/integrations", settings: [:], environment: [:],
                                                  logger: Self.logger)
            defer { integrations.shutdown() }
            return (integrations.actions.sorted { $0.name < $1.name }, integrations.problems.map(\.message))
        }
        let (declared, _) = try await load("true")
        #expect(declared.map(\.onClosed) == [true, false])
        let (none, problems) = try await load(#""yes""#)
        #expect(none.isEmpty && problems.first?.contains(#"actions.close.on_closed must be true (it may run on a closed "#
            + #"incident) or false, got "yes""#) == true, "\(problems)")
    }

    @Test("An action of an integration that is not in use says what the integration lacks, and a typo of it the one meant")
    func integrationNotInUse() async throws {
        let folder = try ScratchFolder()
        try FileManager.default.createDirectory(atPath: folder.path + "/integrations", withIntermediateDirectories: true)
        try #"""
            return integration {
              name = "Firewall", config = { api_key = { secret = true, env = "FIREWALL_KEY", required = true } },
              actions = { block_ip = { risk = "low", params = { ip = { type = "ip" } }, run = function() end } },
            }
            """#.write(toFile: folder.path + "/integrations/firewall.lua", atomically: true, encoding: .utf8)
        let integrations = await Integrations(folder: folder.path + "/integrations", settings: [:], environment: [:],
                                              logger: Self.logger)
        defer { integrations.shutdown() }
        let actions = ActionService(integrations: integrations, store: try SQLiteStore(folder: folder.path + "/data"),
                                    rules: AccessRules(), logger: Self.logger)
        func refusal(_ name: String, _ parameters: [String: Any]) -> String {
            do {
                _ = try actions.plan(name, parameters: parameters)
                return "accepted"
            } catch { return error.description }
        }
        #expect(refusal("firewall.block_ip", ["ip": "198.51.100.7"]) == "firewall.block_ip cannot run: the integration "
            + "firewall is not in use: api_key is not set: set the environment variable FIREWALL_KEY, or "
            + "integrations.firewall.api_key in the configuration file")
        let lacks = "the integration firewall is not in use: api_key is not set: set the environment variable "
            + "FIREWALL_KEY, or integrations.firewall.api_key in the configuration file"
        #expect(refusal("firewal.block_ip", ["ip": "198.51.100.7"])
            == "there is no action firewal.block_ip (did you mean firewall.block_ip?): " + lacks)
        #expect(refusal("firewall.blok_ip", ["ip": "198.51.100.7"])
            == "there is no action firewall.blok_ip (did you mean firewall.block_ip?): " + lacks)
        #expect(refusal("firewall.reboot", [:]) == "there is no action firewall.reboot: the actions of firewall are "
            + "firewall.block_ip, and it is not in use: api_key is not set: set the environment variable FIREWALL_KEY, or "
            + "integrations.firewall.api_key in the configuration file")
        #expect(refusal("router.reboot", [:]) == "there is no action router.reboot: no integration in use declares "
            + "actions, and those that do are not set up: firewall (automator check --config FILE names what each needs)")
    }

    @Test("An action's ttl lifts it by itself, also when the time passed while no server ran")
    func ttlAfterRestart() async throws {
        let scene = try await Scene(approvals: nil)
        let firewall = scene.firewall
        var responder = try await scene.responder()
        let plan = try responder.actions.plan("firewall.shun", parameters: ["ip": "198.51.100.7"])
        let (incident, _) = try await responder.open()
        let before = Date()
        let shunned = try await responder.actions.perform(plan, key: "test/ttl", incident: incident, requestedBy: "cli:alice",
                                                          approvedBy: "api")
        let expiresAt = try #require(shunned.expiresAt)
        #expect(expiresAt >= before.addingTimeInterval(2 - 0.001) && expiresAt <= Date().addingTimeInterval(2 + 0.001),
                "2 s after it ran: \(expiresAt)")
        // The time is the ttl's, not the approval's.
        let ran = try #require(try await responder.journal(incident).first)
        #expect(ran.contains("approved by api") && ran.contains("its undo runs by itself at 20") && ran.contains("(ttl 2s)")
                && !ran.contains("until"), "\(ran)")
        #expect(await responder.actions.expireDue(at: expiresAt.addingTimeInterval(-0.001)) == 0, "not yet")
        await responder.stop()

        // Its time passes while no server runs; the next one lifts it (the clock read is the lift's).
        responder = try await scene.responder()
        #expect(await responder.actions.expireDue(at: expiresAt) == 1)
        #expect(firewall.paths == ["/block", "/unblock"])
        let lifted = try #require(try await responder.actions.history().first)
        #expect(lifted.status == .undone && lifted.undoneBy == "automator")
        #expect(await responder.actions.expireDue(at: expiresAt) == 0, "once")
        await responder.stop()
    }

    @Test("An action whose ttl lift fails says so in its incident's journal, once, not only in the log")
    func failedLiftJournaled() async throws {
        let scene = try await Scene(approvals: nil)
        let responder = try await scene.responder()
        let (incident, _) = try await responder.open()
        let plan = try responder.actions.plan("firewall.shun", parameters: ["ip": "198.51.100.7"])
        let shunned = try await responder.actions.perform(plan, key: "test/lift", incident: incident,
                                                          requestedBy: "cli:alice", approvedBy: nil)
        scene.api.stop()
        let expiresAt = try #require(shunned.expiresAt)
        #expect(await responder.actions.expireDue(at: expiresAt) == 0)
        #expect(await responder.actions.expireDue(at: expiresAt.addingTimeInterval(120)) == 0, "tried again, failed again")
        let failures = try await responder.journal(incident).filter { $0.contains("did not lift") }
        #expect(failures.count == 1, "\(failures)")
        #expect(failures.first?.hasPrefix("automator: \(shunned.id) (firewall.shun) did not lift at the end of its ttl: ")
            == true, "\(failures)")
        #expect(failures.first?.hasSuffix("automator tries again every minute; or undo it: automator action undo "
            + "\(shunned.id)") == true, "\(failures)")
        await responder.stop()
    }

    @Test("!action for an incident that needs an approval: the question is the incident's, listed and journaled there")
    func chatApprovalOnItsIncident() async throws {
        let scene = try await Scene(approvals: nil)
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let (incident, _) = try await responder.open()
        // Not `say`, which settles the chat: the command's run waits for the answer.
        await responder.chat.receive(ChatMessage(id: "m1", channel: Self.soc, user: Self.alice,
                                                 text: "!action firewall.block_ip \(incident) ip=198.51.100.8",
                                                 thread: nil, replyTo: nil, files: []), from: responder.network)
        let asked = try #require(try await responder.question().question)
        let question = try #require(try await responder.store.question(asked.id))
        #expect(question.incident == incident, "the command's run has no incident: the question names it")
        #expect(try await responder.store.openQuestions(of: incident).map(\.question.id) == [asked.id])
        #expect(QuestionJSON.list(try await responder.store.openQuestions(of: nil)).contains(#""incident":"\#(incident)""#))
        #expect(firewall.paths.isEmpty)
        try await responder.chat.answer(asked.id, choice: "approve", by: "test:alice")
        await responder.chat.settle()
        #expect(firewall.paths == ["/block"])
        let approvals = try await responder.journal(incident, .approval)
        #expect(approvals.first?.hasPrefix("automator: asked \(asked.id) in #soc: Approve firewall.block_ip") == true,
                "\(approvals)")
        #expect(approvals.last == "test:alice: \(question.text): approve", "\(approvals)")
        await responder.stop()
    }

    // MARK: - A ttl per call

    @Test("A call's ttl: longer or shorter than the declared one, it wins; refused without an undo or as no duration")
    func callTTL() async throws {
        let scene = try await Scene(approvals: nil)
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let actions = responder.actions
        func ttl(_ name: String, _ asked: String?) -> String {
            do {
                let plan = try actions.plan(name, parameters: name.hasSuffix("network") ? ["network": "198.51.100.0/24"]
                                                                                            : ["ip": "198.51.100.7"], ttl: asked)
                return plan.ttl.map { DurationText.text($0) } ?? "stays"
            } catch { return error.description }
        }
        #expect(ttl("firewall.block_ip", nil) == "stays")
        #expect(ttl("firewall.block_ip", "24h") == "1d")
        #expect(ttl("firewall.shun", nil) == "2s", "the declaration's, when the call asks for none")
        #expect(ttl("firewall.shun", "1h") == "1h", "longer than the declared one")
        #expect(ttl("firewall.shun", "1s") == "1s", "shorter")
        #expect(ttl("firewall.block_network", "1h") == "firewall.block_network has no undo, so it cannot lift by "
            + "itself: leave out the ttl (and undo it by hand), or declare an undo for it in its integration")
        for bad in ["forever", "0", "0s", "-5m", "1 h", ""] {
            #expect(ttl("firewall.block_ip", bad) == "firewall.block_ip: ttl must be \(DurationText.expected), and more "
                + "than 0, got \"\(bad)\"", "ttl \(bad)")
        }
        #expect(firewall.paths.isEmpty)
        await responder.stop()
    }

    @Test("A playbook's ttl: the block lifts at its time after a restart; a dry run's plan and journal say when")
    func callTTLAfterRestart() async throws {
        let scene = try await Scene(approvals: #"approvals = { "firewall.block_ip" },"#)
        try Self.playbook(in: scene.folder, approvals: #"approvals = { "firewall.block_ip" },"#, running: """
            local plan = actions.plan("firewall.block_ip", { ip = "198.51.100.7" }, { incident = inc, ttl = "24h" })
            local planned = actions.run("firewall.block_ip", { ip = "198.51.100.7" },
                                        { incident = inc, ttl = 3600, dry_run = true })
            local done = actions.run("firewall.block_ip", { ip = "198.51.100.7" }, { incident = inc, ttl = "24h" })
            inc:note(("plan %d, %s %d, %s"):format(plan.ttl, planned.status, planned.ttl, done.expires_at))
            local ok, why = pcall(actions.run, "firewall.block_network", { network = "198.51.100.0/24" },
                                  { incident = inc, ttl = "1h" })
            inc:note(ok and "sent" or why)
            """)
        let firewall = scene.firewall
        var responder = try await scene.responder()
        let (incident, run) = try await responder.open()
        await responder.incidents.runs.waitForEnd(try #require(run?.id))
        let record = try #require(try await responder.actions.history(on: incident).first { $0.status == .done })
        let expiresAt = try #require(record.expiresAt)
        #expect(abs(expiresAt.timeIntervalSinceNow - 86400) < 60)
        let notes = try await responder.notes(incident)
        #expect(notes.first == "plan 86400, planned 3600, \(JSONText.time(expiresAt).dropFirst().dropLast())", "\(notes)")
        let planned = try await responder.actions.history(on: incident).first { $0.status == .planned }
        #expect(planned?.ttl == 3600 && planned?.expiresAt == nil, "a dry run keeps the ttl it would have had")
        #expect(notes.last?.contains("firewall.block_network has no undo, so it cannot lift by itself") == true, "\(notes)")
        #expect(firewall.paths == ["/block"], "nothing sent for the refused ttl")
        let journal = try await responder.journal(incident)
        #expect(journal.contains { $0.hasSuffix("approval standing); its undo would run by itself 1h after it is sent") },
                "\(journal)")
        #expect(journal.contains { $0.contains("its undo runs by itself at 20") && $0.hasSuffix("(ttl 1d)") }, "\(journal)")
        await responder.stop()

        responder = try await scene.responder()
        #expect(await responder.actions.expireDue(at: expiresAt.addingTimeInterval(-1)) == 0, "not yet")
        #expect(await responder.actions.expireDue(at: expiresAt.addingTimeInterval(1)) == 1)
        #expect(firewall.paths == ["/block", "/unblock"])
        #expect(try await responder.actions.history(on: incident).first { $0.id == record.id }?.status == .undone)
        await responder.stop()
    }

    @Test("!action with ttl=: the reply says when it lifts, a dry run that it would; refused on an action with no undo")
    func chatTTL() async throws {
        let scene = try await Scene(approvals: nil)
        let (firewall, responder) = (scene.firewall, try await scene.responder())
        let dry = await responder.say("!action firewall.shun ip=198.51.100.7 ttl=2d dry_run=true")
        #expect(dry.first?.hasSuffix(": checked and recorded, nothing sent. It would lift by itself 2d after it is sent.")
                == true, "\(dry)")
        let done = await responder.say("!action firewall.shun ip=198.51.100.7 ttl=90m")
        let record = try #require(try await responder.actions.history().first)
        let expiresAt = try #require(record.expiresAt)
        #expect(abs(expiresAt.timeIntervalSinceNow - 5400) < 60)
        #expect(done.first == "\(record.id) firewall.shun: done, lifts at \(JSONText.time(expiresAt).dropFirst().dropLast()).",
                "\(done)")
        #expect(record.parameters == #"{"ip":"198.51.100.7"}"#, "ttl is the command's word, not a parameter")
        let refused = await responder.say("!action firewall.block_network network=198.51.100.0/24 ttl=1h")
        #expect(refused.first?.contains("firewall.block_network has no undo") == true, "\(refused)")
        #expect(firewall.paths == ["/block"])
        await responder.stop()
    }
}
