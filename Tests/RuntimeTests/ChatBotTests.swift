import AutomatorRuntime
import Crypto
import Foundation
import GRDB
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing
import TestSupport

@Suite("The chat bot: commands and the watcher in Lua, settings, war rooms, questions", .serialized,
       .timeLimit(.minutes(2)))
struct ChatBotTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts").path
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    static let alice = ChatUser(id: "U1", name: "alice")
    static let bob = ChatUser(id: "U2", name: "bob")
    static let soc = ChatChannel(id: "C1", name: "soc")
    static let malware: [UInt8] = Array("not really malware\n".utf8)

    /// The bot on a store in a scratch folder, with the shipped commands and a feed that lists
    /// 203.0.113.45 and the SHA-256 of `malware`.
    final class Bot: Sendable {
        let folder: ScratchFolder
        let network: ChatTestNetwork
        let store: any EvidenceStore & ChatStore & IntelStore & ReportStore
        let chat: ChatService
        let incidents: IncidentService
        let integrations: Integrations

        /// - Parameters:
        ///   - intel: a folder of integrations to ask besides the feed; none when nil.
        ///   - logger: the chat service's.
        init(folder: ScratchFolder? = nil, scripts: String = ChatBotTests.scripts, roles: [String: [String]] = [:],
             on kind: StoreUnderTest = .sqlite, namesAreUnique: Bool = true, intel: String? = nil,
             logger: Logger = ChatBotTests.logger) async throws
        {
            let folder = try folder ?? ScratchFolder()
            self.folder = folder
            let feed = folder.path + "/bad.txt"
            let digest = SHA256.hash(data: ChatBotTests.malware).map { String(format: "%02x", $0) }.joined()
            try "203.0.113.45 C2 of the test campaign\n\(digest) dropper\n".write(toFile: feed, atomically: true,
                                                                                  encoding: .utf8)
            network = ChatTestNetwork(files: ["https://files/malware.bin": ChatBotTests.malware],
                                      namesAreUnique: namesAreUnique)
            store = if kind == .postgres {
                try await PostgresStore(location: try PostgresLocation(url: try await PostgresServer.shared().makeDatabase()))
            } else {
                try SQLiteStore(folder: folder.path + "/data")
            }
            let ledger = IncidentLedger(store: store)
            integrations = await Integrations(folder: intel ?? folder.path + "/none", settings: [:],
                                              logger: ChatBotTests.logger)
            let feeds = FeedSet([IntelConfiguration.FeedSettings(name: "bad", path: feed, verdict: "malicious")],
                                logger: ChatBotTests.logger)
            let reputation = ReputationService(feeds: feeds, integrations: integrations, cache: store)
            // Alice may change things (join, close, note...) in every test bot, as a team sets up.
            chat = ChatService(store: store, adapters: [network], scripts: scripts,
                               rules: AccessRules(roles: ["analyst": ["alice"]].merging(roles) { $1 }), logger: logger)
            let evidence = EvidenceService(store: store, dataFolder: folder.path + "/data")
            let modules = StandardModules.all(logger: ChatBotTests.logger, reputation: reputation)
                + [IncidentsModule(ledger: ledger), EvidenceModule(service: evidence),
               ChatModule(service: chat, reputation: reputation, evidence: evidence)]
            let runs = try RunService(store: store, modules: modules, modulePaths: [scripts], executors: 1)
            incidents = try IncidentService(ledger: ledger, runs: runs, scripts: folder.path + "/none", modules: modules)
            try await incidents.start()
            try await chat.start(runs: runs, modules: modules)
        }

        /// Says `text` and waits until the bot has answered.
        @discardableResult
        func say(_ text: String, in channel: ChatChannel = ChatTestNetwork.direct, by user: ChatUser = ChatBotTests.alice,
                 id: String = UUID().uuidString, thread: String? = nil, files: [ChatFile] = []) async -> [ChatPost]
        {
            await chat.receive(ChatMessage(id: id, channel: channel, user: user, text: text, thread: thread,
                                           replyTo: thread, files: files), from: network)
            await chat.settle()
            return network.takePosts()
        }

        func stop() async {
            await chat.shutdown()
            await incidents.shutdown()
            integrations.shutdown()
        }
    }

    /// Writes `files` into `FOLDER/scripts/commands/`; returns the scripts folder.
    static func commands(in folder: ScratchFolder, _ files: [String: String]) throws -> String {
        let commands = folder.path + "/scripts/commands/"
        try FileManager.default.createDirectory(atPath: commands, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(toFile: commands + name, atomically: true, encoding: .utf8) }
        return folder.path + "/scripts"
    }

    @Test("The server's console attaches no file of the server: an API client reads none through !evidence")
    func serverConsoleReadsNoFiles() async throws {
        let inbox = RecordingInbox()
        for reads in [true, false] {
            let console = ConsoleAdapter(user: "api", lines: AsyncStream { $0.finish() }, write: { _ in },
                                         isDefaultNetwork: reads, readsLocalFiles: reads)
            await console.say("#inc-1 !evidence INC-1 /etc/hostname", by: "alice", to: inbox)
            await console.say("#inc-1 /file /etc/hostname", by: "alice", to: inbox)
        }
        let files = inbox.messages.map { $0.files.map(\.url) }
        #expect(files == [["file:///etc/hostname"], ["file:///etc/hostname"], [], []], "\(files)")
        #expect(inbox.messages.last?.text == "/file /etc/hostname", "plain text on the server")
    }

    @Test("The server's console is no default network: a post that names none still needs Slack or Matrix")
    func consoleIsNoDefault() async throws {
        let folder = try ScratchFolder()
        let console = ConsoleAdapter(user: "api", lines: AsyncStream { $0.finish() }, write: { _ in },
                                     isDefaultNetwork: false)
        let chat = ChatService(store: try SQLiteStore(folder: folder.path), adapters: [console], scripts: folder.path)
        let error = await #expect(throws: ChatError.self) {
            _ = try await chat.makeWarRoom("#soc", on: nil, for: IncidentID(1), by: "test")
        }
        #expect(error?.description.hasPrefix("no chat network is configured") == true, "\(String(describing: error))")
    }

    @Test("!ip in a channel and ip in a direct message answer with the verdict and its reasons, for each address")
    func lookups() async throws {
        let bot = try await Bot()
        let direct = await bot.say("ip 203.0.113.45")
        #expect(direct.count == 1)
        #expect(direct.first?.text.contains("malicious") == true && direct.first?.text.contains("C2 of the test") == true)
        #expect(direct.first?.thread == nil, "a direct answer is not threaded")

        let inChannel = await bot.say("!ip 198.51.100.7", in: Self.soc, id: "m1")
        #expect(inChannel.map(\.text) == ["⚪ `198.51.100[.]7`: unknown: no feed lists it, and no integration is set up for it"])
        #expect(inChannel.first?.thread == "m1", "a channel answer goes in the message's thread")

        #expect(await bot.say("!ip", in: Self.soc).first?.text.hasPrefix("Usage: !ip") == true)
        // A URL's host alone, as people paste it, is checked as the host; a URL as the URL alone.
        #expect(await bot.say("url 203.0.113[.]45").map(\.text)
            == ["🔴 `203.0.113[.]45`: malicious: 1 of 1 source; local feed \"bad\" (C2 of the test campaign)"])
        #expect(await bot.say("url http://203.0.113.45/gate").first?.text.split(separator: "\n").count == 1)
        #expect(await bot.say("url nothing here").first?.text.hasPrefix("Usage: !url") == true)
        // Each address given is checked, in one answer, up to the watcher's cap, with a note beyond it.
        let two = await bot.say("ip 203.0.113.45 198.51.100.5")
        #expect(two.count == 1 && two.first?.text.split(separator: "\n").count == 2, "\(two)")
        #expect(two.first?.text.contains("`203.0.113[.]45`: malicious") == true && two.first?.text.contains("`198.51.100[.]5`: unknown") == true)
        let many = await bot.say("!ip " + (1...21).map { "198.51.100.\($0)" }.joined(separator: " "), in: Self.soc)
        #expect(many.first?.text.split(separator: "\n").count == 22, "\(many)")
        #expect(many.first?.text.hasSuffix("\nChecked 20 of 21 indicators; the others, to ask about:\n`!ip 198.51.100[.]21`")
            == true, "\(many)")
        #expect(await bot.say("no command, no indicator").first?.text.contains("help") == true)
        let question = await bot.say("is 203.0.113.45 bad?")
        #expect(question.first?.text.contains("malicious") == true, "a question with an indicator goes to the watcher")
        #expect(await bot.say("plain chatter in a channel not watched 203.0.113.45", in: Self.soc).isEmpty)
        await bot.stop()
    }

    @Test("A mistyped command is answered with the one it likely meant; in a channel, a !word that is no typo of one is left to people")
    func typos() async throws {
        let bot = try await Bot()
        let typo = await bot.say("!incdent show INC-3", in: Self.soc, id: "m1")
        #expect(typo.map(\.text) == ["No command !incdent. Did you mean !incident? !help lists them."])
        #expect(typo.first?.thread == "m1", "answered in the message's thread")
        #expect(await bot.say("!hsah 44d88612fea8a8f36de82e1278abb02f", in: Self.soc).map(\.text)
            == ["No command !hsah. Did you mean !hash? !help lists them."], "two letters swapped are one typo")
        #expect(await bot.say("!Stauts", in: Self.soc).map(\.text)
            == ["No command !stauts. Did you mean !status? !help lists them."])
        for chatter in ["!important the deploy is at 5", "!wow", "!nice", "!hello all", "!is this on?", "!it works"] {
            #expect(await bot.say(chatter, in: Self.soc).isEmpty, "people talking: \(chatter)")
        }
        // Where the bot watches, a !word that names nothing is a message like any: it is checked.
        #expect(await bot.say("join #soc").first?.text == "Watching #soc.")
        #expect(await bot.say("!lookup 203.0.113.45", in: Self.soc).first?.text.contains("malicious") == true)

        // In a direct message every first word is said to the bot: it is answered, with the
        // command meant when one is close.
        #expect(await bot.say("incidnet new Phish").map(\.text) == ["No command incidnet. Did you mean incident? help lists them."])
        #expect(await bot.say("!nite called the user").map(\.text) == ["No command nite. Did you mean note? help lists them."])
        #expect(await bot.say("hello").map(\.text) == ["No command hello. help lists them."])
        await bot.stop()
    }

    @Test("With no command loaded, a !word in a channel is people talking, checked where watched; only a direct message hears there are none")
    func noCommands() async throws {
        let folder = try ScratchFolder()
        let scripts = try Self.commands(in: folder, [:])
        try FileManager.default.copyItem(atPath: Self.scripts + "/lib", toPath: scripts + "/lib")
        for command in ["watch.lua", "join.lua"] {
            try FileManager.default.copyItem(atPath: Self.scripts + "/commands/" + command, toPath: scripts + "/commands/" + command)
        }
        let bot = try await Bot(folder: folder, scripts: scripts)
        #expect(await bot.say("join #soc").first?.text == "Watching #soc.")
        // The last command goes: the watcher alone is left.
        try FileManager.default.removeItem(atPath: scripts + "/commands/join.lua")
        try await Task.sleep(for: .milliseconds(1100))

        #expect(await bot.say("!wow", in: Self.soc).isEmpty, "people talking")
        #expect(await bot.say("!important: 203.0.113.45 beacons", in: Self.soc).first?.text.contains("malicious") == true,
                "checked by the watcher")
        #expect(await bot.say("!join #soc").map(\.text)
            == ["I have no commands: \(scripts)/commands holds none (give the bot the scripts folder that holds commands/, as --scripts)."])
        await bot.stop()
    }

    @Test("The bot's answers never hold a live link: the indicators they name are defanged")
    func defangedAnswers() async throws {
        let bot = try await Bot()
        let url = try #require(await bot.say("url hxxp://evil-login[.]com/reset").first?.text)
        #expect(url.contains("`hxxp://evil-login[.]com/reset`") && !url.contains("http://"), "\(url)")
        let domain = try #require(await bot.say("domain www.evil-login.com").first?.text)
        #expect(domain.contains("`www.evil-login[.]com`"), "\(domain)")
        let address = try #require(await bot.say("ip 203.0.113.45").first?.text)
        #expect(address.hasPrefix("🔴 `203.0.113[.]45`: malicious"), "\(address)")
        await bot.stop()
    }

    @Test("A name written with A-labels is answered with its Unicode beside them, defanged, and a word when it mixes scripts")
    func unicodeNames() async throws {
        let bot = try await Bot()
        let homograph = try #require(await bot.say("domain аррӏе.com").first?.text)
        #expect(homograph.contains("`xn--80ak6aa92e[.]com` (`аррӏе[.]com`, mixes Cyrillic and Latin): "), "\(homograph)")
        let url = try #require(await bot.say("url https://xn--80ak6aa92e.com/login").first?.text)
        #expect(url.contains("`hxxps://xn--80ak6aa92e[.]com/login` (`hxxps://аррӏе[.]com/login`, mixes Cyrillic and Latin)"),
                "\(url)")
        let german = try #require(await bot.say("domain bücher.de").first?.text)
        #expect(german.contains("`xn--bcher-kva[.]de` (`bücher[.]de`): "), "\(german)")
        let plain = try #require(await bot.say("domain evil-login.com").first?.text)
        #expect(plain.contains("`evil-login[.]com`: "), "\(plain)")
        await bot.stop()
    }

    @Test("incident show or close outside a war room, without an id, asks to name the incident as it is typed there")
    func unnamedIncident() async throws {
        let bot = try await Bot()
        #expect(await bot.say("incident show").first?.text
            == "Name the incident, as in incident show INC-12: a direct message is no incident's war room.")
        #expect(await bot.say("!incident close", in: Self.soc).first?.text
            == "Name the incident, as in !incident close INC-12 REASON: this channel is no incident's war room.")
        await bot.stop()
    }

    @Test("What the bot echoes of incidents is defanged too: titles, owners, tasks and close reasons")
    func defangedEchoes() async throws {
        let bot = try await Bot()
        let opened = await bot.say("!incident new Phish from http://evil.example/login", in: Self.soc)
        #expect(opened.map(\.text) == ["Opened INC-1: Phish from hxxp://evil[.]example/login. This channel is its war room."])
        // An alert's title, owner and task, as a mapper and a playbook make them.
        let alert = try await bot.incidents.create(IncidentDraft(title: "Beacon to 203.0.113.45 and EVIL-login.com twice: evil-login.com",
                                                                 type: "malware", severity: .high),
                                                   by: "test", choosingPlaybook: false).incident.id
        var owner = IncidentChange(alert)
        owner.owner = "alice@corp-example.com"
        _ = try await bot.incidents.update(owner, by: "test")
        try await bot.store.write(.createTask(IncidentTask(id: TaskID(1), incident: alert, runID: nil,
                                                           title: "Block https://203.0.113.45/c2 (sha256 of the dropper kept)",
                                                           owner: "bob@corp-example.com")))
        let shown = await bot.say("!incident show \(alert)", in: Self.soc).map(\.text)
        #expect(shown == ["""
            *\(alert)* Beacon to 203.0.113[.]45 and evil-login[.]com twice: evil-login[.]com — high, malware, new
            Owner: alice@corp-example[.]com
            • T-1 Block hxxps://203.0.113[.]45/c2 (sha256 of the dropper kept) (bob@corp-example[.]com)
            """], "\(shown)")
        let tasks = await bot.say("!task list \(alert)", in: Self.soc).map(\.text)
        #expect(tasks == ["• T-1 Block hxxps://203.0.113[.]45/c2 (sha256 of the dropper kept) — \(alert), bob@corp-example[.]com"],
                "\(tasks)")
        let closed = await bot.say("!incident close \(alert) sinkholed evil-login.com", in: Self.soc).map(\.text)
        #expect(closed == ["Closed \(alert): sinkholed evil-login[.]com (1 open task cancelled)"], "\(closed)")
        let again = await bot.say("!incident close \(alert) twice", in: Self.soc).map(\.text)
        #expect(again == ["\(alert) is closed already (sinkholed evil-login[.]com)."], "\(again)")
        await bot.stop()
    }

    @Test("join, verbose and leave: the watcher answers malicious findings, every one when verbose; settings persist")
    func watching() async throws {
        let folder = try ScratchFolder()
        var bot = try await Bot(folder: folder)
        #expect(await bot.say("join #soc, ir").first?.text == "Watching #soc, #ir.")
        #expect(bot.network.joined.withLock { $0 } == ["soc", "ir"])

        let quiet = await bot.say("from 203.0.113.45 and 198.51.100.7", in: Self.soc, id: "m2")
        #expect(quiet.count == 1)
        #expect(quiet.first?.text.contains("203.0.113[.]45") == true && quiet.first?.text.contains("198.51.100[.]7") == false)
        #expect(bot.network.reactions.withLock { $0 } == ["m2:rotating_light"])
        #expect(await bot.say("only 198.51.100.7 here", in: Self.soc).isEmpty, "unknown findings stay quiet")

        #expect(await bot.say("verbose on #soc").first?.text == "Verbose on in #soc.")
        #expect(await bot.say("only 198.51.100.7 here", in: Self.soc).first?.text.contains("unknown") == true)
        // A URL on a host the feed lists, and the host: answered once, the URL with its host's verdict.
        let gate = await bot.say("beacons to http://203.0.113.45:8080/gate", in: Self.soc).map(\.text)
        #expect(gate.count == 1 && gate[0].hasPrefix("🔴 `hxxp://203.0.113[.]45:8080/gate`: malicious: ")
            && gate[0].contains("lists its host 203.0.113.45") && !gate[0].contains("\n"), "\(gate)")

        // A file: hashed (the bytes stay in the host) and its SHA-256 found in the feed.
        let upload = ChatFile(id: "F1", name: "invoice.bin", url: "https://files/malware.bin")
        let checked = await bot.say("", in: Self.soc, files: [upload])
        #expect(checked.first?.text.contains("invoice.bin") == true && checked.first?.text.contains("dropper") == true)
        // A file that cannot be checked costs the message nothing else, and is said.
        let gone = ChatFile(id: "F9", name: "gone.bin", url: "https://files/gone.bin")
        let partly = await bot.say("from 203.0.113.45", in: Self.soc, files: [gone]).first?.text ?? ""
        #expect(partly.contains("203.0.113[.]45") && partly.contains("⚠️ gone.bin was not checked: ")
            && !partly.contains("findings.lua"), "\(partly)")

        // After a restart the bot remembers.
        await bot.stop()
        bot = try await Bot(folder: folder)
        #expect(await bot.say("status").first?.text == "Watching #ir, #soc (verbose).")
        #expect(await bot.say("leave #ir").first?.text == "Left #ir.")
        #expect(await bot.say("203.0.113.45", in: ChatChannel(id: "C2", name: "ir")).isEmpty)
        let settings = try await bot.store.chatChannels(network: "test")
        #expect(settings.map { "\($0.channel.name):\($0.watched):\($0.verbose)" } == ["ir:false:false", "soc:true:true"])
        #expect(settings.first?.changedBy == "test:alice")
        await bot.stop()
    }

    @Test("The watcher looks up 20 indicators a message and names those it left, ready to paste, in a quiet channel too")
    func watcherCap() async throws {
        let bot = try await Bot()
        #expect(await bot.say("join #soc").first?.text == "Watching #soc.")
        let unknown = (1...20).map { "198.51.100.\($0)" }
        // The malicious address comes 21st: not looked up, but the answer says the message was not all checked.
        let skipped = await bot.say((unknown + ["203.0.113.45"]).joined(separator: "\n"), in: Self.soc)
        #expect(skipped.map(\.text) == ["Checked 20 of 21 indicators; the others, to ask about:\n`!ip 203.0.113[.]45`"])
        let both = await bot.say((["203.0.113.45"] + unknown).joined(separator: " "), in: Self.soc)
        #expect(both.count == 1 && both.first?.text.contains("203.0.113[.]45") == true)
        #expect(both.first?.text.hasSuffix("\nChecked 20 of 21 indicators; the others, to ask about:\n`!ip 198.51.100[.]20`")
            == true, "\(both)")
        // Many left: the next 20, a command a type ready to paste, and how many come after them.
        let more = (21...45).map { "198.51.100.\($0)" }
        let long = await bot.say((unknown + ["evil-login.com"] + more).joined(separator: "\n"), in: Self.soc)
        #expect(long.map(\.text) == ["Checked 20 of 46 indicators; the next 20, to ask about:\n`!domain evil-login[.]com`\n`!ip "
            + (21...39).map { "198.51.100[.]\($0)" }.joined(separator: " ") + "`\nand 6 more after those."])
        #expect(await bot.say(unknown.joined(separator: " "), in: Self.soc).isEmpty, "20 unknown: all checked, quiet")
        await bot.stop()
    }

    @Test("A message's indicators are asked about at once, by the watcher and by !ip: a slow service is waited for once")
    func lookupsAtOnce() async throws {
        // A service that takes a second an answer, and counts the requests it holds at the same time.
        let inFlight = Mutex((now: 0, most: 0))
        let router = Router()
        router.get("/ip/:address") { _, _ -> Response in
            inFlight.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
            defer { inFlight.withLock { $0.now -= 1 } }
            try await Task.sleep(for: .seconds(1))
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"score": "benign"}"#)))
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }
        let intel = try ScratchFolder()
        try """
            return integration {
              name = "Slow", config = { base_url = "\(server.url)" },
              reputation = {
                ip = function(ip, config)
                  return json.decode(http.get(config.base_url .. "/ip/" .. ip).body)
                end,
              },
            }
            """.write(toFile: intel.path + "/slow.lua", atomically: true, encoding: .utf8)
        let bot = try await Bot(intel: intel.path)
        #expect(await bot.say("join #soc").first?.text == "Watching #soc.")
        #expect(await bot.say("verbose on #soc").first?.text == "Verbose on in #soc.")

        let addresses = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]
        let watched = await bot.say("senders: " + addresses.joined(separator: " "), in: Self.soc)
        #expect(inFlight.withLock { $0.most } == addresses.count, "all asked at once")
        #expect(watched.first?.text.split(separator: "\n").map { $0.split(separator: ":").first ?? "" }
            == ["🟢 `198.51.100[.]1`", "🟢 `198.51.100[.]2`", "🟢 `198.51.100[.]3`", "🟢 `198.51.100[.]4`"],
            "in the message's order: \(watched.map(\.text))")

        inFlight.withLock { $0.most = 0 }
        let more = ["198.51.100.11", "198.51.100.12", "198.51.100.13"]
        let asked = await bot.say("ip " + more.joined(separator: ", "))
        #expect(inFlight.withLock { $0.most } == more.count, "!ip too")
        #expect(asked.first?.text.split(separator: "\n").count == more.count, "\(asked.map(\.text))")
        await bot.stop()
    }

    /// A folder of integrations with one, Busy, whose service answers every IP lookup 429 with a
    /// Retry-After of two minutes (`answered` is told of each).
    static func busyIntegration(answered: @escaping @Sendable () -> Void = {}) async throws -> (LoopbackServer, ScratchFolder) {
        let router = Router()
        router.get("/ip/:address") { _, _ -> Response in
            answered()
            return Response(status: .tooManyRequests, headers: [.retryAfter: "120"])
        }
        let server = try await LoopbackServer(router)
        let intel = try ScratchFolder()
        try """
            return integration {
              name = "Busy", config = { base_url = "\(server.url)" },
              reputation = {
                ip = function(ip, config)
                  local answer = http.get(config.base_url .. "/ip/" .. ip)
                  if answer.status ~= 200 then error(("Busy answered %d"):format(answer.status), 0) end
                  return json.decode(answer.body)
                end,
              },
            }
            """.write(toFile: intel.path + "/busy.lua", atomically: true, encoding: .utf8)
        return (server, intel)
    }

    @Test("A paused integration: a message in a verbose watched channel is answered at once, saying it was not asked and why, and nothing reaches it")
    func pausedIntegration() async throws {
        let requests = Mutex(0)
        let (server, intel) = try await Self.busyIntegration { requests.withLock { $0 += 1 } }
        defer { server.stop() }
        let bot = try await Bot(intel: intel.path)
        #expect(await bot.say("join #soc").first?.text == "Watching #soc.")
        #expect(await bot.say("verbose on #soc").first?.text == "Verbose on in #soc.")

        // The first lookup meets the 429: answered at once, not after its Retry-After; Busy pauses
        // for it. What the bounds tell apart is the Retry-After's 120 s: 30 s holds on a loaded machine.
        var started = ContinuousClock.now
        #expect(await bot.say("!ip 198.51.100.7", in: Self.soc).map(\.text)
            == ["⚪ `198.51.100[.]7`: unknown: 1 source asked, none knows it; could not answer: Busy failed: Busy answered 429"])
        #expect(ContinuousClock.now - started < .seconds(30))
        #expect(requests.withLock { $0 } == 1)

        started = ContinuousClock.now
        let watched = await bot.say("beacons from 198.51.100.8", in: Self.soc).map(\.text)
        #expect(ContinuousClock.now - started < .seconds(30), "answered at once, not when the pause ends")
        #expect(watched.count == 1 && watched[0].hasPrefix("⚪ `198.51.100[.]8`: unknown: no feed lists it; not asked: Busy, paused until ")
            && watched[0].hasSuffix(" UTC)") && watched[0].contains(" UTC (answered 429 at "), "\(watched)")
        #expect(await bot.say("ip 203.0.113.45").map(\.text)
            == ["🔴 `203.0.113[.]45`: malicious: 1 of 1 source; local feed \"bad\" (C2 of the test campaign); not asked: Busy"])
        #expect(requests.withLock { $0 } == 1, "nothing reached the paused service")
        await bot.stop()
    }

    @Test("A paused integration in a quiet watched channel: said once a pause and channel, until when, so that silence does not read as checked")
    func pausedIntegrationQuietChannel() async throws {
        let (server, intel) = try await Self.busyIntegration()
        defer { server.stop() }
        let bot = try await Bot(intel: intel.path)
        #expect(await bot.say("join #soc").first?.text == "Watching #soc.")
        #expect(await bot.say("join #ir").first?.text == "Watching #ir.")

        // The lookup that meets the 429 starts the pause: the channel hears it, in the message's thread.
        let first = await bot.say("beacons from 198.51.100.7", in: Self.soc, id: "m1")
        let pause = try #require(bot.integrations.statuses.first?.pause)
        let ends = pause.until.addingTimeInterval(59).formatted(Date.ISO8601FormatStyle()).dropFirst(11).prefix(5)
        let note = "⏸️ Busy is not checking what is posted here until \(ends) UTC: its service failed and it rests."
        #expect(first.map(\.text) == [note] && first.first?.thread == "m1", "\(first.map(\.text))")
        // Once a pause: the next messages hear only what is malicious, as before.
        #expect(await bot.say("and from 198.51.100.8", in: Self.soc).isEmpty)
        #expect(await bot.say("and from 203.0.113.45", in: Self.soc).map(\.text)
            == ["🔴 `203.0.113[.]45`: malicious: 1 of 1 source; local feed \"bad\" (C2 of the test campaign); not asked: Busy"])
        // Once a channel: #ir has not heard it yet.
        #expect(await bot.say("198.51.100.9 again", in: ChatChannel(id: "C2", name: "ir")).map(\.text) == [note])
        #expect(await bot.say("198.51.100.10", in: ChatChannel(id: "C2", name: "ir")).isEmpty)
        await bot.stop()
    }

    @Test("The watcher's run records no host call; a message it had not answered when the server stopped is answered after the restart, once")
    func watcherAfterRestart() async throws {
        let folder = try ScratchFolder()
        var bot = try await Bot(folder: folder)
        #expect(await bot.say("join #soc").first?.text == "Watching #soc.")
        let first = await bot.say("203.0.113.45", in: Self.soc, id: "m1")
        #expect(first.count == 1 && first.first?.text.contains("malicious") == true, "\(first.map(\.text))")
        let checked = try await bot.incidents.runs.runs(status: .completed).filter { $0.script == "commands/watch.lua" }
        #expect(checked.count == 1)
        #expect(try await bot.incidents.runs.store.hostCalls(of: try #require(checked.first).id).isEmpty)

        // The network hangs while the watcher answers; the server stops, leaving what a crash leaves.
        bot.network.holding.withLock { $0 = true }
        await bot.chat.receive(ChatMessage(id: "m2", channel: Self.soc, user: Self.alice, text: "203.0.113.45 again"),
                               from: bot.network)
        while bot.network.held.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
        let unanswered = try await bot.incidents.runs.runs(status: .running)
        #expect(unanswered.count == 1)
        await bot.stop()
        bot.network.holding.withLock { $0 = false }
        #expect(bot.network.takePosts().isEmpty)

        bot = try await Bot(folder: folder)
        let run = try #require(unanswered.first)
        #expect(await bot.incidents.runs.waitForEnd(run.id)?.status == .completed)
        let answer = bot.network.takePosts()
        #expect(answer.count == 1 && answer.first?.thread == "m2" && answer.first?.text.contains("203.0.113[.]45") == true,
                "\(answer.map(\.text))")
        #expect(try await bot.incidents.runs.store.unfinishedRuns().isEmpty, "answered once: nothing left to check again")
        await bot.stop()
    }

    @Test("Stopped while the watcher's answer is on its way, the bot lets it go out: answered once, nothing to check again at the next start")
    func watcherStoppedWhileAnswering() async throws {
        let folder = try ScratchFolder()
        var bot = try await Bot(folder: folder)
        #expect(await bot.say("join #soc").first?.text == "Watching #soc.")
        bot.network.slowness.withLock { $0 = .seconds(1) }
        await bot.chat.receive(ChatMessage(id: "m1", channel: Self.soc, user: Self.alice, text: "203.0.113.45 again"),
                               from: bot.network)
        while bot.network.onTheirWay.withLock({ $0 }) == 0 { try await Task.sleep(for: .milliseconds(10)) }
        await bot.stop()
        let answer = bot.network.takePosts()
        #expect(answer.count == 1 && answer.first?.thread == "m1", "\(answer.map(\.text))")

        bot = try await Bot(folder: folder)
        #expect(try await bot.incidents.runs.store.unfinishedRuns().isEmpty, "the watcher's run ended before the stop")
        try await Task.sleep(for: .milliseconds(300))
        #expect(bot.network.takePosts().isEmpty, "not answered again")
        await bot.stop()
    }

    @Test("A watcher that fails still answers, with its error")
    func failingWatcher() async throws {
        let folder = try ScratchFolder()
        let scripts = try Self.commands(in: folder, ["watch.lua": #"return watch { run = function(msg) error("the feed is down") end }"#])
        let bot = try await Bot(folder: folder, scripts: scripts)
        let failed = await bot.say("is 203.0.113.45 bad?")
        #expect(failed.count == 1)
        #expect(failed.first?.text.hasPrefix("⚠️ commands/watch.lua failed: commands/watch.lua:1: the feed is down") == true,
                "\(failed.map(\.text))")
        await bot.stop()
    }

    @Test("\"Seen in\" says what the incidents are now: created, closed, created by another process on the data folder")
    func seenIn() async throws {
        let bot = try await Bot()
        let before = await bot.say("is 203.0.113.45 bad?")
        #expect(before.first?.text.contains("malicious") == true && before.first?.text.contains("seen in") == false)

        var draft = IncidentDraft(title: "Beacon", type: "malware", severity: .high)
        draft.details = "host beaconed to 203.0.113.45"
        let first = try await bot.incidents.create(draft, by: "test", choosingPlaybook: false).incident.id
        let opened = await bot.say("is 203.0.113.45 bad?")
        #expect(opened.first?.text.hasSuffix("(seen in \(first), new, opened today)") == true, "\(opened)")
        _ = await bot.say("!incident close \(first) contained", in: ChatChannel(id: "C2", name: "ir"))
        let closed = await bot.say("is 203.0.113.45 bad?")
        #expect(closed.first?.text.hasSuffix("(seen in \(first), closed today)") == true, "\(closed)")

        // The CLI on the same data folder while serve runs: its own store, its own commit.
        let cli = try SQLiteStore(folder: bot.folder.path + "/data")
        try await cli.write(.createIncident(Incident(id: IncidentID(100), title: "Same C2", type: "malware",
                                                     severity: .high, details: "again 203.0.113.45")))
        await cli.close()
        let elsewhere = await bot.say("is 203.0.113.45 bad?")
        #expect(elsewhere.first?.text.hasSuffix("(seen in INC-100, new, opened today)") == true, "\(elsewhere)")
        await bot.stop()
    }

    @Test("A war room: !incident new, messages journaled, !note, !evidence, !task list and assign, and the finding seen in a past incident",
          arguments: StoreUnderTest.allCases)
    func warRoom(_ kind: StoreUnderTest) async throws {
        let bot = try await Bot(on: kind)
        var old = IncidentDraft(title: "Beacon", type: "malware", severity: .high)
        old.details = "host beaconed to 203.0.113.45 every minute"
        let past = try await bot.incidents.create(old, by: "test", choosingPlaybook: false).incident.id
        try await bot.store.write(.createTask(IncidentTask(id: TaskID(1), incident: past, runID: nil, title: "Reimage")))
        let closed = await bot.say("!incident close \(past) contained", in: ChatChannel(id: "C2", name: "ir"))
        #expect(closed.first?.text == "Closed \(past): contained (1 open task cancelled)", "\(closed.map(\.text))")
        let again = await bot.say("!incident close \(past) twice", in: ChatChannel(id: "C2", name: "ir"))
        #expect(again.first?.text == "\(past) is closed already (contained).", "\(again.map(\.text))")

        let opened = await bot.say("!incident new Phishing wave", in: Self.soc)
        #expect(opened.first?.text == "Opened INC-2: Phishing wave. This channel is its war room.")
        _ = await bot.say("the proxy shows 10 clicks", in: Self.soc, by: Self.bob)
        _ = await bot.say("!note reset the passwords", in: Self.soc)
        let journal = try await bot.store.journal(of: IncidentID(2))
        #expect(journal.contains { $0.kind == .chat && $0.actor == "test:bob" && $0.text == "the proxy shows 10 clicks" })
        #expect(journal.contains { $0.kind == .note && $0.actor == "test:alice" && $0.text == "reset the passwords" })

        let seen = await bot.say("ip 203.0.113.45")
        #expect(seen.first?.text.hasSuffix("(seen in \(past), closed today)") == true, "\(seen)")

        // The bot's verdicts there are the incident's record too: the watcher's and a command's, not its help.
        _ = await bot.say("join #soc")
        _ = await bot.say("clicked by 3 users, all from 203.0.113.45", in: Self.soc, by: Self.bob)
        _ = await bot.say("!ip 203.0.113.45", in: Self.soc)
        _ = await bot.say("!help", in: Self.soc)
        let answers = try await bot.store.journal(of: IncidentID(2)).filter { $0.actor == "automator" && $0.kind == .chat }
        #expect(answers.count == 2 && answers.allSatisfy { $0.text.hasPrefix("🔴 `203.0.113[.]45`: malicious") },
                "\(answers.map(\.text))")

        // One click: the upload and the message it answers become evidence on the war room's incident.
        let upload = ChatFile(id: "F2", name: "dropper.bin", url: "https://files/malware.bin")
        _ = await bot.say("found this on web-1", in: Self.soc, by: Self.bob, id: "m20", files: [upload])
        let kept = await bot.say("!evidence", in: Self.soc, thread: "m20")
        #expect(kept.first?.text.hasPrefix("Kept on INC-2:") == true, "\(kept.map(\.text))")
        let evidence = try await bot.store.evidenceList(of: IncidentID(2))
        #expect(evidence.map(\.name) == ["message-bob-m20.txt", "dropper.bin"])
        #expect(evidence.last?.hashes == FileHashes(ChatBotTests.malware) && evidence.last?.collectedBy == "test:alice")
        let copy = bot.folder.path + "/dropper.copy"
        try await EvidenceService(store: bot.store, dataFolder: bot.folder.path + "/data")
            .copy(try #require(evidence.last).id, to: .file(copy), by: "test")
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: copy))) == Array(ChatBotTests.malware))
        // A message this process never received (Slack gave its event to another worker) is read
        // from the network.
        let elsewhere = ChatMessage(id: "m21", channel: Self.soc, user: Self.bob, text: "and this on web-2",
                                    files: [ChatFile(id: "F3", name: "loader.bin", url: "https://files/malware.bin")])
        bot.network.history.withLock { $0["m21"] = elsewhere }
        let fetched = await bot.say("!evidence", in: Self.soc, thread: "m21")
        #expect(fetched.first?.text.hasPrefix("Kept on INC-2:") == true, "\(fetched.map(\.text))")
        #expect(try await bot.store.evidenceList(of: IncidentID(2)).map(\.name).suffix(2) == ["message-bob-m21.txt", "loader.bin"])
        // The watcher checks its own message: a finding in a thread costs no request for the thread's start.
        let checked = await bot.say("is 198.51.100.7 bad?", thread: "m22")
        #expect(checked.first?.text.contains("198.51.100[.]7") == true, "\(checked.map(\.text))")
        #expect(bot.network.asked.withLock { $0 } == ["m21"])

        let task = try await bot.incidents.ledger.store.listTasks(TaskQuery(status: .open))
        #expect(task.isEmpty)
        #expect(await bot.say("!task list", in: Self.soc).first?.text == "No open task on INC-2.")
        // Given to someone else: the store keeps the owner, the journal who gave it.
        try await bot.store.write(.createTask(IncidentTask(id: TaskID(2), incident: IncidentID(2), runID: nil,
                                                           title: "Reset the passwords", owner: "tier1")))
        let given = await bot.say("!task assign 2 bob", in: Self.soc)
        #expect(given.map(\.text) == ["T-2 given to bob (was tier1)."], "\(given.map(\.text))")
        #expect(try await bot.store.loadTask(TaskID(2))?.owner == "bob")
        #expect(try await bot.store.journal(of: IncidentID(2)).contains {
            $0.kind == .task && $0.actor == "test:alice" && $0.text == "T-2 Reset the passwords: given to bob (was tier1)"
        })
        let closedTask = await bot.say("!task assign T-1 bob", in: Self.soc)
        #expect(closedTask.map(\.text) == ["T-1 is not an open task: !task list shows them."], "\(closedTask.map(\.text))")
        #expect(await bot.say("!incident show", in: Self.soc).first?.text.hasPrefix("*INC-2* Phishing wave") == true)
        await bot.stop()
    }

    @Test("A question that cannot be posted is kept: the run waits, the journal says how to answer, an answer from outside resumes it")
    func unpostedQuestion() async throws {
        let bot = try await Bot()
        let incident = try await bot.incidents.create(IncidentDraft(title: "C2", type: "malware", severity: .high), by: "test",
                                                      choosingPlaybook: false).incident.id
        let script = ##"return chat.approve("#gone", "Block 203.0.113.45?")"##
        let run = try await bot.incidents.runs.submit(script: "approve.lua", source: Array(script.utf8), incident: incident)
        // Kept first, then journaled: an answer may come as soon as it is kept.
        var open: [(question: ChatQuestionRecord, incident: IncidentID?)] = []
        var note: [String] = []
        for _ in 0..<200 where open.isEmpty || note.isEmpty {
            try await Task.sleep(for: .milliseconds(10))
            open = try await bot.store.openQuestions(of: incident)
            note = try await bot.store.journal(of: incident).filter { $0.kind == .approval }.map(\.text)
        }
        let question = try #require(open.first?.question)
        #expect(open.first?.incident == incident && question.message == nil, "kept, not posted")
        #expect(try await bot.incidents.runs.runs(status: .waiting).map(\.id) == [run.id], "the run waits on it")
        #expect(note.count == 1 && note[0].contains("not posted (there is no channel #gone")
            && note[0].contains("automator question answer \(question.id) CHOICE"), "\(note)")

        await #expect(throws: ChatError.self) { try await bot.chat.answer(question.id, choice: "maybe", by: "cli:alice") }
        #expect(try await bot.chat.answer(question.id, choice: "APPROVE", by: "cli:alice") == "approve")
        await bot.incidents.runs.waitForEnd(run.id)
        #expect(try await bot.incidents.runs.run(run.id)?.result == #"[true,"cli:alice","\#(question.id)"]"#)
        #expect(try await bot.store.openQuestions(of: nil).isEmpty)
        await bot.stop()
    }

    @Test("Where roles name people by id, a refusal tells the person theirs")
    func refusalNamesTheID() async throws {
        let bot = try await Bot(namesAreUnique: false)
        let eve = ChatUser(id: "@eve:test", name: "alice")
        #expect(await bot.say("!incident new Phishing", in: Self.soc, by: eve).map(\.text)
            == ["!incident new is for people with the role analyst; you are @eve:test."])
        await bot.stop()
    }

    @Test("Where display names are anyone's, what is kept names people by their id: evidence, fields, journal")
    func forgedNames() async throws {
        let bot = try await Bot(roles: ["analyst": ["@mallory:test"]], namesAreUnique: false)
        let mallory = ChatUser(id: "@mallory:test", name: "alice")
        _ = await bot.say("!incident new Phishing wave", in: Self.soc, by: mallory)
        let incident = try #require(try await bot.store.loadIncident(IncidentID(1)))
        #expect(incident.fields.contains(#""reported_by":"@mallory:test""#), "\(incident.fields)")
        let journal = try await bot.store.journal(of: IncidentID(1))
        #expect(journal.contains { $0.text == "opened from chat by @mallory:test (alice): !incident new Phishing wave" },
                "\(journal.map(\.text))")

        _ = await bot.say("the invoice link is fine", in: Self.soc, by: mallory, id: "m1")
        let kept = try #require(await bot.say("!evidence", in: Self.soc, by: mallory, thread: "m1").first?.text)
        #expect(kept.contains(": the message of @mallory:test (alice) (sha256 "), "\(kept)")
        let evidence = try #require(try await bot.store.evidenceList(of: IncidentID(1)).first)
        #expect(evidence.name == "message-mallory_test-m1.txt")
        let copy = bot.folder.path + "/message.copy"
        try await EvidenceService(store: bot.store, dataFolder: bot.folder.path + "/data").copy(evidence.id, to: .file(copy),
                                                                                               by: "test")
        let text = try String(contentsOfFile: copy, encoding: .utf8)
        #expect(text.hasPrefix("@mallory:test (alice) wrote in #soc at "), "\(text)")
        await bot.stop()
    }

    @Test("chat.approve waits, durably across a restart, for an approver's reply in its thread")
    func approvals() async throws {
        let folder = try ScratchFolder()
        let roles = ["approver": ["U1"], "responder": ["alice"]]
        var bot = try await Bot(folder: folder, roles: roles)
        let script = """
            local approved, by = chat.approve("#soc", "Block 203.0.113.45 at the firewall?")
            return approved, by
            """
        let incident = try await bot.incidents.create(IncidentDraft(title: "C2", type: "malware", severity: .high), by: "test",
                                                      choosingPlaybook: false).incident.id
        let run = try await bot.incidents.runs.submit(script: "approve.lua", source: Array(script.utf8), incident: incident)
        var question: ChatPost?
        for _ in 0..<200 where question == nil {
            question = bot.network.posts.withLock { $0.first }
            try await Task.sleep(for: .milliseconds(10))
        }
        let asked = try #require(question)
        #expect(asked.channel == "C1" && asked.question?.choices == ["approve", "deny"])
        #expect(try await bot.incidents.runs.runs(status: .waiting).map(\.id) == [run.id], "on its question")
        #expect(asked.text.contains("(approver only)"))
        _ = bot.network.takePosts()

        // Restarted before anyone answers: the run waits again by replay.
        await bot.stop()
        bot = try await Bot(folder: folder, roles: roles)
        let refused = await bot.say("approve", in: Self.soc, by: Self.bob, thread: "p1")
        #expect(refused.first?.text.contains("only people with the role approver") == true)
        let answered = await bot.say("1", in: Self.soc, by: Self.alice, thread: "p1")
        #expect(answered.first?.text == "alice answered: approve")
        await bot.incidents.runs.waitForEnd(run.id)
        let ended = try #require(try await bot.incidents.runs.run(run.id))
        #expect(ended.status == .completed && ended.result == #"[true,"test:alice"]"#, "\(ended.error ?? "")")
        // A change of mind, or a second approver, comes too late: told so, the answer stands.
        let late = await bot.say("2", in: Self.soc, by: Self.alice, thread: "p1").map(\.text)
        #expect(late.count == 1 && late.first?.hasPrefix("Already answered: approve, by alice at ") == true
            && late.first?.hasSuffix(" UTC. That answer stands; yours changes nothing.") == true, "\(late)")
        let second = await bot.say("deny", in: Self.soc, by: Self.bob, thread: "p1").first?.text ?? ""
        #expect(second.hasPrefix("Already answered: approve"), "whoever answers, without the role too: \(second)")
        #expect(await bot.say("ok then", in: Self.soc, by: Self.alice, thread: "p1").isEmpty, "talk is the channel's")
        let decided = try await bot.store.journal(of: incident).filter { $0.kind == .approval }
        let id = try #require(decided.first?.text.firstMatch(of: /Q-[0-9a-f]{8}/).map { String($0.output) })
        #expect(decided.map { "\($0.actor) \($0.text)" } == [
            "automator asked \(id) in #soc: Block 203.0.113.45 at the firewall? (approve, deny) (approver only)",
            "test:alice Block 203.0.113.45 at the firewall?: approve",
        ], "who asked, where, and who decided")
        await bot.stop()
    }

    @Test("A button's answer is checked against the choices and the roles; a refusal of the host is answered")
    func buttonsAndFailures() async throws {
        let bot = try await Bot(roles: ["approver": ["alice"]])
        let run = try await bot.incidents.runs.submit(script: "ask.lua", source: Array("""
            return chat.ask("#soc", "Which host?", { "web-1", "web-2" }, { roles = { "approver" } })
            """.utf8))
        var asked: ChatQuestion?
        for _ in 0..<200 where asked == nil {
            asked = bot.network.posts.withLock { $0.first?.question }
            try await Task.sleep(for: .milliseconds(10))
        }
        let question = try #require(asked)
        await bot.chat.receive(ChatAnswer(question: question.id, choice: "web-3", user: Self.alice, channel: Self.soc),
                               from: bot.network)
        await bot.chat.receive(ChatAnswer(question: question.id, choice: "web-2", user: Self.bob, channel: Self.soc),
                               from: bot.network)
        #expect(try await bot.store.question(question.id)?.answer == nil, "not a choice, then not an approver")
        await bot.chat.receive(ChatAnswer(question: question.id, choice: "web-2", user: Self.alice, channel: Self.soc),
                               from: bot.network)
        await bot.incidents.runs.waitForEnd(run.id)
        #expect(try await bot.incidents.runs.run(run.id)?.result == #"["web-2","test:alice","\#(question.id)"]"#)

        _ = bot.network.takePosts()
        let refused = await bot.say("!task done T-99 yes", in: Self.soc)
        #expect(refused.map(\.text) == ["T-99 is not an open task: !task list shows them."])
        await bot.stop()
    }

    @Test("A question's timeout that the store refuses (its database locked) is kept once it takes writes, and resumes the run once")
    func timeoutWhileLocked() async throws {
        let log = CapturedLog.Records()
        let bot = try await Bot(logger: Logger(label: "test") { _ in CapturedLog(records: log) })
        #expect(await bot.say("!incident new C2 beacon", in: Self.soc).first?.text.hasPrefix("Opened INC-1") == true)
        let run = try await bot.incidents.runs.submit(script: "ask.lua", source: Array("""
            return chat.ask("#soc", "Which host?", { "web-1", "web-2" }, { timeout = 2 })
            """.utf8), incident: IncidentID(1))
        // Asked, and the call recorded: the run writes nothing more until the question is answered.
        #expect(try await eventually { try await bot.incidents.runs.store.hostCalls(of: run.id).count == 1 })
        let id = try #require(bot.network.posts.withLock { $0.last?.question?.id })

        // Another process holds the database's write lock past the deadline, and past the 5 s the
        // store waits for it: the timeout's write fails, as on a full disk or a database away.
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true
        let other = try DatabaseQueue(path: bot.folder.path + "/data/" + SQLiteStore.fileName, configuration: configuration)
        try await other.writeWithoutTransaction { try $0.execute(sql: "BEGIN EXCLUSIVE") }
        let refused = { log.lines.withLock { $0.filter { $0.message.contains("could not be recorded") } } }
        #expect(try await eventually { !refused().isEmpty }, "the failure is said")
        #expect(refused().map(\.level) == [.error] && refused().first?.message.hasPrefix("chat: question \(id) timed out, "
            + "but its answer timeout could not be recorded: ") == true, "\(refused())")
        #expect(try await bot.store.question(id)?.answer == nil)
        try await other.writeWithoutTransaction { try $0.execute(sql: "ROLLBACK") }

        // Tried again: kept, and the run resumed with it, once.
        #expect(try await eventually { try await bot.incidents.runs.run(run.id)?.status == .completed })
        #expect(try await bot.incidents.runs.run(run.id)?.result == #"["timeout","automator","\#(id)"]"#)
        #expect(try await bot.incidents.runs.store.hostCalls(of: run.id).count == 2)
        let kept = try #require(try await bot.store.question(id))
        #expect(kept.answer == "timeout" && kept.answeredBy == "automator")
        let journal = try await bot.store.journal(of: IncidentID(1)).filter { $0.kind == .approval }.map(\.text)
        #expect(journal.filter { $0.contains("timed out") }.count == 1, "\(journal)")
        #expect(try await bot.store.verifyJournal(of: nil).problem == nil)
        #expect(refused().count == 1, "said once, not at every try")
        #expect(log.lines.withLock { $0.contains { $0.level == .notice && $0.message.contains("\(id) is answered timeout") } })
        await bot.stop()
    }

    @Test("In a question's thread, what is no answer is the channel's: journaled in a war room, checked where watched; a refused answer is journaled")
    func questionThreads() async throws {
        let bot = try await Bot(roles: ["approver": ["alice"]])
        #expect(await bot.say("join #soc").first?.text == "Watching #soc.")
        #expect(await bot.say("!incident new C2 beacon", in: Self.soc).first?.text.hasPrefix("Opened INC-1") == true)
        let script = ##"return chat.approve("#soc", "Block 203.0.113.45 at the firewall?")"##
        let run = try await bot.incidents.runs.submit(script: "approve.lua", source: Array(script.utf8),
                                                      incident: IncidentID(1))
        var open: [(question: ChatQuestionRecord, incident: IncidentID?)] = []
        for _ in 0..<200 where open.first?.question.message == nil {
            try await Task.sleep(for: .milliseconds(10))
            open = try await bot.store.openQuestions(of: IncidentID(1))
        }
        let question = try #require(open.first?.question)
        let thread = try #require(question.message)
        _ = bot.network.takePosts()

        // A discussion with an indicator in it: journaled on the war room's incident, and checked.
        let discussed = await bot.say("careful, 203.0.113.45 is what web-1 beacons to", in: Self.soc, by: Self.bob,
                                      thread: thread)
        #expect(discussed.first?.text.contains("203.0.113[.]45") == true, "\(discussed.map(\.text))")
        var journal = try await bot.store.journal(of: IncidentID(1))
        #expect(journal.contains { $0.kind == .chat && $0.text == "careful, 203.0.113.45 is what web-1 beacons to" },
                "\(journal.map(\.text))")
        // A word that is no choice was meant as an answer: the choices are said, and it is journaled too.
        #expect(await bot.say("ok", in: Self.soc, by: Self.bob, thread: thread).map(\.text)
            == ["Answer with one of: 1. approve, 2. deny"])

        // bob may not approve: he is told, and the journal keeps the attempt.
        let refused = await bot.say("approve", in: Self.soc, by: Self.bob, thread: thread)
        #expect(refused.map(\.text) == ["bob, only people with the role approver may answer this."])
        journal = try await bot.store.journal(of: IncidentID(1))
        #expect(journal.contains { $0.kind == .chat && $0.actor == "test:bob" && $0.text == "ok" })
        #expect(journal.filter { $0.kind == .refused }.map { "\($0.actor) \($0.text)" } == [
            "test:bob answer approve to \(question.id) (Block 203.0.113.45 at the firewall?), for the role approver",
        ])
        #expect(!journal.contains { $0.kind == .chat && $0.text == "approve" }, "an answer is no chat")
        #expect(try await bot.store.question(question.id)?.answer == nil)

        #expect(await bot.say("1", in: Self.soc, by: Self.alice, thread: thread).map(\.text) == ["alice answered: approve"])
        await bot.incidents.runs.waitForEnd(run.id)
        #expect(try await bot.incidents.runs.run(run.id)?.result == #"[true,"test:alice","\#(question.id)"]"#)
        await bot.stop()
    }

    @Test("leave ends a war room; !incident new takes a closed incident's war room, not an open one's; both journals say so")
    func warRoomsEnd() async throws {
        let bot = try await Bot()
        #expect(await bot.say("!incident new Phishing", in: Self.soc).first?.text == "Opened INC-1: Phishing. This channel is its war room.")
        #expect(await bot.say("!incident new Laptop lost", in: Self.soc).first?.text
            == "Opened INC-2: Laptop lost. This channel stays the war room of INC-1, which is open.")
        _ = await bot.say("!incident close INC-1 contained", in: Self.soc)
        #expect(await bot.say("!incident new Second wave", in: Self.soc).first?.text
            == "Opened INC-3: Second wave. This channel is its war room.")
        _ = await bot.say("they clicked again", in: Self.soc, by: Self.bob)
        let first = try await bot.store.journal(of: IncidentID(1)).map(\.text)
        let third = try await bot.store.journal(of: IncidentID(3)).map(\.text)
        #expect(first.contains("#soc (C1) on test is no longer the war room: it is INC-3's now"), "\(first)")
        #expect(!first.contains("they clicked again") && third.contains("they clicked again"), "\(third)")
        #expect(third.contains("#soc (C1) on test is the war room"), "\(third)")

        #expect(await bot.say("status").first?.text == "Watching no channel: tell me join #channel, or join all.\n"
            + "War rooms: #soc (war room of INC-3).")
        #expect(await bot.say("leave #soc").first?.text
            == "Left #soc.\n#soc is no longer the war room of INC-3: its journal keeps what was said there.")
        _ = await bot.say("after the bot left", in: Self.soc, by: Self.bob)
        let ended = try await bot.store.journal(of: IncidentID(3)).map(\.text)
        #expect(ended.contains("#soc (C1) on test is no longer the war room: the bot left it") && !ended.contains("after the bot left"),
                "\(ended)")
        #expect(try await bot.store.chatChannels(network: "test").allSatisfy { $0.incident == nil })
        #expect(await bot.say("status").first?.text == "Watching no channel: tell me join #channel, or join all.")
        await bot.stop()
    }

    @Test("Channels that share a name are told apart by id: join, leave, status, war rooms, posts")
    func sharedNames() async throws {
        let bot = try await Bot()
        let other = ChatChannel(id: "C3", name: "soc")
        bot.network.known.withLock { $0.append(other) }
        let refused = try #require(await bot.say("join #soc").first?.text)
        #expect(refused.hasPrefix("Could not join #soc: ") && refused.contains("2 channels on test are named #soc: C1, C3; "
            + "name the one you mean by its id, as in join C1"), "\(refused)")
        #expect(bot.network.joined.withLock { $0 }.isEmpty)
        #expect(await bot.say("join C3").first?.text == "Watching #soc.")
        #expect(await bot.say("join C1").first?.text == "Watching #soc (C1).")
        #expect(await bot.say("status").first?.text == "Watching #soc (C1), #soc (C3).")
        #expect(await bot.say("verbose on #soc").first?.text
            == "#soc names 2 channels: say which, verbose on C1 or verbose on C3.")

        #expect(await bot.say("!incident new Phishing", in: other).first?.text.hasSuffix("This channel is its war room.") == true)
        let settings = try await bot.store.chatChannels(network: "test")
        #expect(settings.map { "\($0.channel.id):\($0.incident?.description ?? "-")" }.sorted() == ["C1:-", "C3:INC-1"])
        _ = await bot.say("in the other soc", in: Self.soc, by: Self.bob)
        #expect(!(try await bot.store.journal(of: IncidentID(1))).contains { $0.text == "in the other soc" })

        let posted = try await bot.incidents.runs.submit(script: "post.lua", source: Array(##"chat.post("#soc", "hello")"##.utf8))
        await bot.incidents.runs.waitForEnd(posted.id)
        #expect(try await bot.incidents.runs.run(posted.id)?.error?.contains("2 channels on test are named #soc") == true)

        #expect(await bot.say("leave soc").first?.text == "#soc names 2 channels: say which, leave C1 or leave C3.")
        #expect(await bot.say("leave C3").first?.text
            == "Left #soc (C3).\n#soc (C3) is no longer the war room of INC-1: its journal keeps what was said there.")
        #expect(await bot.say("status").first?.text == "Watching #soc.")
        await bot.stop()
    }

    @Test("join refuses a channel where the bot may not post, and leaves it again: its verdicts would go unsaid")
    func readOnlyChannels() async throws {
        let bot = try await Bot()
        bot.network.readOnly.withLock { $0["C2"] = "it is read-only" }
        let answer = await bot.say("join #soc, #ir").map(\.text)
        #expect(answer == [
            "Watching #soc.\nCould not join #ir: the bot may not post in #ir (C2), so its verdicts would go unsaid there: "
                + "it is read-only, then join it again",
        ], "\(answer)")
        #expect(bot.network.joined.withLock { $0 } == ["soc"])
        #expect(await bot.say("status").first?.text == "Watching #soc.")

        // Watched, then muted: joined again, it is refused, and watched no more.
        bot.network.readOnly.withLock { $0["C1"] = "it is read-only" }
        #expect(await bot.say("join #soc").first?.text.hasPrefix("Could not join #soc: the bot may not post") == true)
        #expect(bot.network.joined.withLock { $0 }.isEmpty)
        #expect(await bot.say("status").first?.text == "Watching no channel: tell me join #channel, or join all.")
        await bot.stop()
    }

    @Test("A command for a role refuses others; a command that fails says so where it was asked")
    func rolesAndFailures() async throws {
        let folder = try ScratchFolder()
        let scripts = try Self.commands(in: folder, [
            "contain.lua": #"return command { name = "contain", roles = { "responder" }, run = function(msg, args) msg:reply("contained " .. args[1]) end }"#,
            "boom.lua": #"return command { name = "boom", run = function() error("the firewall said no") end }"#,
            "broken.lua": "return command { name = 'broken' ",
        ])
        let bot = try await Bot(folder: folder, scripts: scripts, roles: ["responder": ["alice"]])
        #expect(await bot.say("!contain web-1", in: Self.soc, by: Self.bob).map(\.text)
            == ["!contain is for people with the role responder."])
        #expect(await bot.say("!contain web-1", in: Self.soc, by: Self.alice).map(\.text) == ["contained web-1"])
        let failed = await bot.say("!boom", in: Self.soc, id: "m9")
        #expect(failed.count == 1 && failed.first?.thread == "m9")
        #expect(failed.first?.text.hasPrefix("⚠️ commands/boom.lua failed: commands/boom.lua:1: the firewall said no") == true,
                "\(failed.map(\.text))")
        #expect(await bot.say("broken").map(\.text) == ["No command broken. help lists them."],
                "a file that does not load is left out")
        await bot.stop()
    }

    @Test("A person's mistake is answered plainly, not as a crashed script")
    func mistakes() async throws {
        let bot = try await Bot()
        let long = try #require(await bot.say("!incident new " + String(repeating: "x", count: 1001), in: Self.soc).first?.text)
        #expect(!long.contains(".lua") && !long.contains("(run "), "\(long)")
        #expect(long.contains("1000"), "\(long)")
        let missing = try #require(await bot.say("!task done T-999", in: Self.soc).first?.text)
        #expect(!missing.contains(".lua") && !missing.contains("automator task"), "\(missing)")
        #expect(missing.contains("T-999") && missing.contains("!task list"), "\(missing)")
        await bot.stop()
    }

    @Test("What changes things needs its role in a team's network: by first word, said, logged and journaled in a war room")
    func rolesByWord() async throws {
        let folder = try ScratchFolder()
        try FileManager.default.copyItem(atPath: Self.scripts, toPath: folder.path + "/scripts")
        let scripts = try Self.commands(in: folder, [
            "bad.lua": #"return command { name = "bad", roles = { close = "analyst" }, run = function() end }"#,
            "lift.lua": #"return command { name = "lift", roles = { "lead" }, run = function(msg) msg:reply("lifted") end }"#,
        ])
        let bot = try await Bot(folder: folder, scripts: scripts)
        #expect(await bot.say("!incident new Phishing wave", in: Self.soc).first?.text.hasPrefix("Opened INC-1") == true)

        // bob reads, and is refused what changes things, in the war room and in a direct message.
        #expect(await bot.say("!incident show", in: Self.soc, by: Self.bob).first?.text.hasPrefix("*INC-1* Phishing wave") == true)
        #expect(await bot.say("!incident close false alarm", in: Self.soc, by: Self.bob).map(\.text)
            == ["!incident close is for people with the role analyst."])
        #expect(await bot.say("leave #soc", by: Self.bob).map(\.text) == ["leave is for people with the role analyst."],
                "a direct message takes no !")
        #expect(await bot.say("task done 1", by: Self.bob).map(\.text) == ["task done is for people with the role analyst."])
        #expect(try await bot.store.loadIncident(IncidentID(1))?.status != .closed)
        let refused = try await bot.store.journal(of: IncidentID(1)).filter { $0.kind == .refused }
        #expect(refused.map { "\($0.actor) \($0.text)" } == ["test:bob !incident close, for the role analyst"],
                "the direct messages' refusals are not the war room's")

        // A role no one holds says where to name people; a malformed declaration is left out.
        #expect(await bot.say("!lift", in: Self.soc).map(\.text)
            == ["!lift is for people with the role lead, and no one has it yet: the configuration names them in chat.roles.lead."])
        #expect(await bot.say("bad").map(\.text) == ["No command bad. help lists them."])
        let help = try #require(await bot.say("help").first?.text)
        // The words and what follows them, and the words that ask one role named once.
        #expect(help.contains("• !incident new TITLE | !incident show [INC-12] | !incident close [INC-12] [RESOLUTION] "
            + "REASON: open an incident here (this channel becomes its war room), show one, or close one (close, new: "
            + "analyst)"), "\(help)")
        #expect(help.contains("• !lift: ") && help.contains(" (lead)"), "\(help)")

        #expect(await bot.say("!incident close false alarm", in: Self.soc).first?.text == "Closed INC-1: false alarm")
        #expect(await bot.say("status").first?.text.hasSuffix("War rooms: #soc (war room of INC-1, closed).") == true,
                "a war room says when its incident is closed")
        await bot.stop()
    }

    @Test("The scheduled report: due daily at its time (UTC), its main figures in a few lines, the HTML attached")
    func scheduledReport() async throws {
        let schedule = ReportSchedule(channel: "#soc", minuteOfDay: 8 * 60, window: .lasting(7 * 86400))
        let morning = Date(timeIntervalSince1970: 1_795_910_400 + 7 * 3600)  // 2026-11-29 07:00 UTC
        #expect(schedule.next(after: morning) == morning.addingTimeInterval(3600))
        #expect(schedule.next(after: morning.addingTimeInterval(3600)) == morning.addingTimeInterval(3600 + 86400))

        let bot = try await Bot()
        _ = try await bot.incidents.create(IncidentDraft(title: "Beacon", type: "malware", severity: .high), by: "test",
                                           choosingPlaybook: false)
        // A window ends on a whole second: the incident of this second is in the next one.
        try await ReportPoster(schedule: schedule, store: bot.store, chat: bot.chat, logger: ChatBotTests.logger)
            .post(at: Date().addingTimeInterval(2))
        let posted = bot.network.takePosts()
        #expect(posted.count == 1 && posted.first?.channel == "C1")
        // Plain lines Slack and Matrix show as they are: the Markdown report's headings and
        // tables were some ninety lines of `| --- |` in a week's post.
        let text = posted.first?.text ?? ""
        #expect(text.hasPrefix("Automator report, ") && text.contains("\nIncidents: 1 opened, 0 closed; 0 open at the start, 1 at the end.\n"),
                "\(text)")
        #expect(text.split(separator: "\n").count <= 6 && !text.contains("|") && !text.contains("#"), "\(text)")
        let uploads = bot.network.uploads.withLock { $0 }
        #expect(uploads.count == 1 && uploads.first?.channel == "C1" && uploads.first?.name.hasSuffix(".html") == true)
        #expect((uploads.first?.bytes ?? 0) > 1000)
        await bot.stop()
    }

    @Test("A report due while no server ran (or while the workers' leader changed) is posted once when one starts, not again by the next")
    func missedReport() async throws {
        let bot = try await Bot()
        let now = Date()
        let minute = Int(now.timeIntervalSince1970.truncatingRemainder(dividingBy: 86400) / 60)
        // Due a minute ago, then again tomorrow.
        let schedule = ReportSchedule(channel: "#soc", minuteOfDay: (minute + 1439) % 1440, window: .lasting(86400))
        func poster() -> ReportPoster { ReportPoster(schedule: schedule, store: bot.store, chat: bot.chat, logger: ChatBotTests.logger) }
        let first = Task { await poster().run() }
        var posted: [ChatPost] = []
        for _ in 0..<100 where posted.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
            posted = bot.network.takePosts()
        }
        #expect(posted.count == 1 && posted.first?.channel == "C1", "the missed report, at once")
        first.cancel()
        await first.value

        let second = Task { await poster().run() }
        try await Task.sleep(for: .milliseconds(500))
        second.cancel()
        await second.value
        #expect(bot.network.takePosts().isEmpty, "posted once: the next leader knows")
        #expect(bot.network.uploads.withLock { $0 }.count == 1)
        await bot.stop()
    }
}
