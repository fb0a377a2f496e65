import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

@Suite("The bot in Matrix, through a real automator serve and a real Synapse", .timeLimit(.minutes(3)))
struct ChatMatrixTests {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts")

    /// A client-server API call as alice.
    @discardableResult
    static func call(_ synapse: Synapse, _ alice: Synapse.Account, _ method: String, _ path: String,
                     _ json: [String: any Sendable]? = nil) async throws -> [String: Any]
    {
        try await synapse.call(method, "/_matrix/client/v3" + path, token: alice.accessToken, json: json)
    }

    static func segment(_ id: String) -> String { id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id }

    /// Sends a text as alice; `thread` makes it a reply in that thread.
    static func say(_ text: String, in room: String, as alice: Synapse.Account, on synapse: Synapse,
                    thread: String? = nil) async throws -> String
    {
        var content: [String: any Sendable] = ["msgtype": "m.text", "body": text]
        if let thread {
            content["m.relates_to"] = ["rel_type": "m.thread", "event_id": thread, "is_falling_back": true,
                                       "m.in_reply_to": ["event_id": thread]] as [String: any Sendable]
        }
        let path = "/rooms/\(segment(room))/send/m.room.message/\(UUID().uuidString)"
        return try #require(try await call(synapse, alice, "PUT", path, content)["event_id"] as? String)
    }

    /// The bot's messages in the room, oldest first, as alice reads them, once `until` holds (20 s
    /// at most). Read with /messages: Synapse answers a repeated initial /sync from a cache.
    static func botMessages(in room: String, by bot: String, as alice: Synapse.Account, on synapse: Synapse,
                            until done: ([[String: Any]]) -> Bool) async throws -> [[String: Any]]
    {
        var messages: [[String: Any]] = []
        for _ in 0..<400 {
            let page = try await call(synapse, alice, "GET", "/rooms/\(segment(room))/messages?dir=b&limit=100")
            let events = (page["chunk"] as? [[String: Any]] ?? []).reversed()
            messages = events.filter { $0["sender"] as? String == bot && $0["type"] as? String == "m.room.message" }
            if done(messages) { return messages }
            try await Task.sleep(for: .milliseconds(50))
        }
        return messages
    }

    /// A folder with the bad-IP feed and a configuration for `bot`, whose approver is alice;
    /// `homeserver` is the URL the bot reaches Synapse by, when not Synapse's own; `more` is more
    /// of the configuration.
    static func configured(bot: Synapse.Account, alice: Synapse.Account, on synapse: Synapse,
                           homeserver: String? = nil, more: String = "") throws -> TemporaryFolder
    {
        let folder = try TemporaryFolder()
        try folder.write("feeds/bad.txt", "203.0.113.45 C2 of the Acme campaign\n")
        try folder.write("automator.yml", """
            feeds:
              - { name: bad-ips, path: feeds/bad.txt, verdict: malicious }
            chat:
              roles:
                analyst: ["\(alice.id)"]
                approver: ["\(alice.id)"]
              matrix:
                homeserver: \(homeserver ?? synapse.url)
                user: "\(bot.id)"
                password: "\(bot.password)"
                invites_from: ["\(alice.id)"]
            \(more)
            """)
        return folder
    }

    /// Alice's new room (`soc` unless named), once the bot has accepted her invitation;
    /// `options` go to `/createRoom` too.
    static func room(_ name: String = "soc", with bot: Synapse.Account, as alice: Synapse.Account, on synapse: Synapse,
                     options: [String: any Sendable] = [:]) async throws -> String
    {
        let create = (["name": name, "invite": [bot.id], "preset": "private_chat"] as [String: any Sendable])
            .merging(options) { $1 }
        let room = try #require(try await call(synapse, alice, "POST", "/createRoom", create)["room_id"] as? String)
        for _ in 0..<400 {
            if try await isMember(bot, of: room, as: alice, on: synapse) { return room }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the bot did not accept the invitation")
        return room
    }

    /// Alice's new room `soc`, where the bot checks every message and answers every finding.
    static func watchedRoom(with bot: Synapse.Account, as alice: Synapse.Account, on synapse: Synapse) async throws
        -> String
    {
        let room = try await room(with: bot, as: alice, on: synapse)
        _ = try await say("!join all", in: room, as: alice, on: synapse)
        _ = try await botMessages(in: room, by: bot.id, as: alice, on: synapse) { $0.count >= 1 }
        _ = try await say("!verbose on all", in: room, as: alice, on: synapse)
        let set = try await botMessages(in: room, by: bot.id, as: alice, on: synapse) { $0.count >= 2 }
        #expect(set.count == 2, "watching, verbosely")
        return room
    }

    /// A bot and alice, new on the shared Synapse.
    static func accounts() async throws -> (Synapse, bot: Synapse.Account, alice: Synapse.Account) {
        let synapse = try await Synapse.shared()
        return (synapse, try await synapse.register("bot\(UInt16.random(in: 1000...9999))"),
                try await synapse.register("alice\(UInt16.random(in: 1000...9999))"))
    }

    static func isMember(_ bot: Synapse.Account, of room: String, as alice: Synapse.Account, on synapse: Synapse)
        async throws -> Bool
    {
        let members = try await call(synapse, alice, "GET", "/rooms/\(segment(room))/joined_members")
        return (members["joined"] as? [String: Any])?[bot.id] != nil
    }

    /// A new bot and alice on the shared Synapse, and a server with the bot, configured as
    /// `configured` does (its folder kept alive with it).
    static func served() async throws
        -> (synapse: Synapse, bot: Synapse.Account, alice: Synapse.Account, server: ServerProcess, folder: TemporaryFolder)
    {
        let (synapse, bot, alice) = try await accounts()
        let folder = try configured(bot: bot, alice: alice, on: synapse)
        let server = try await ServerProcess.start(
            data: folder.url.appendingPathComponent("data"), scripts: scripts,
            arguments: ["--executors", "1", "--config", folder.url.appendingPathComponent("automator.yml").path])
        return (synapse, bot, alice, server, folder)
    }

    @Test("Invited to a room, the bot answers !ip in the thread, and an approval waits for alice's reply")
    func matrix() async throws {
        let (synapse, bot, alice, server, folder) = try await Self.served()

        let room = try await Self.room(with: bot, as: alice, on: synapse)
        let asked = try await Self.say("!ip 203.0.113.45", in: room, as: alice, on: synapse)
        let answers = try await Self.botMessages(in: room, by: bot.id, as: alice, on: synapse) { !$0.isEmpty }
        let answer = try #require(answers.first?["content"] as? [String: Any], "the server's log:\n\(server.log)")
        #expect((answer["body"] as? String)?.contains("C2 of the Acme campaign") == true, "\(answer)")
        #expect((answer["m.relates_to"] as? [String: Any])?["event_id"] as? String == asked, "answered in its thread")

        let run = try await server.submit(#"{"source": "return chat.approve('soc', 'Block 203.0.113.45?', { network = 'matrix' })"}"#)
        let posted = try await Self.botMessages(in: room, by: bot.id, as: alice, on: synapse) { $0.count >= 2 }
        let question = try #require(posted.last)
        #expect((question["content"] as? [String: Any])?["body"] as? String != nil)
        _ = try await Self.say("1", in: room, as: alice, on: synapse, thread: try #require(question["event_id"] as? String))
        let ended = try await server.waitForRun(run)
        #expect(ended["status"] as? String == "completed", "\(ended)")
        let result = ended["result"] as? [Any] ?? []
        #expect(result.count == 3 && result[0] as? Bool == true && result[1] as? String == "matrix:" + alice.id
            && (result[2] as? String)?.hasPrefix("Q-") == true, "approved by alice, the question named: \(ended)")
        withExtendedLifetime(folder) { server.terminate() }
        _ = await server.waitForExit()
    }

    @Test("join refuses a room whose power levels keep the bot from posting, and leaves it; a name two rooms share takes an id; an alias keeps its #, and verbose and leave take it too")
    func joinRefusals() async throws {
        let (synapse, bot, alice, server, folder) = try await Self.served()
        let soc = try await Self.room(with: bot, as: alice, on: synapse)
        let muted = ["power_level_content_override": ["events": ["m.room.message": 50]] as [String: any Sendable]]
        let ops = try await Self.room("ops", with: bot, as: alice, on: synapse, options: muted)
        let twins = [try await Self.room("dup", with: bot, as: alice, on: synapse),
                     try await Self.room("dup", with: bot, as: alice, on: synapse)].sorted()

        func answer(to command: String) async throws -> String {
            let before = try await Self.botMessages(in: soc, by: bot.id, as: alice, on: synapse) { _ in true }.count
            _ = try await Self.say(command, in: soc, as: alice, on: synapse)
            let after = try await Self.botMessages(in: soc, by: bot.id, as: alice, on: synapse) { $0.count > before }
            return (after.last?["content"] as? [String: Any])?["body"] as? String ?? "(no answer)\n\(server.log)"
        }
        let muzzled = try await answer(to: "!join #ops")
        #expect(muzzled.hasPrefix("Could not join #ops: ") && muzzled.contains("the bot may not post in #ops (\(ops))")
            && muzzled.contains("its power levels ask 50 to send a message, and the bot has 0"), "\(muzzled)")
        #expect(try await !Self.isMember(bot, of: ops, as: alice, on: synapse), "left again")

        let shared = try await answer(to: "!join #dup")
        #expect(shared.contains("2 channels on matrix are named #dup: \(twins[0]), \(twins[1])"), "\(shared)")
        #expect(try await answer(to: "!join \(twins[1])") == "Watching #dup.")
        #expect(try await answer(to: "!status") == "Watching #dup.")

        // A room by its alias, as Matrix writes it: the bot need not be invited to a public room.
        let alias = "lobby-\(UUID().uuidString.prefix(6).lowercased())"
        try await Self.call(synapse, alice, "POST", "/createRoom",
                            ["name": "lobby", "preset": "public_chat", "room_alias_name": alias])
        let lobby = try await answer(to: "!join #\(alias):localhost")
        #expect(lobby == "Watching #\(alias).", "\(lobby)")
        let nowhere = try await answer(to: "!join #nowhere-\(alias):localhost")
        #expect(nowhere.hasPrefix("Could not join #nowhere-\(alias):localhost: "), "\(nowhere)")
        // verbose and leave find a room by its alias as join does, not as a name the bot is not in.
        #expect(try await answer(to: "!verbose on #\(alias):localhost") == "Verbose on in #\(alias).")
        #expect(try await answer(to: "!leave #\(alias):localhost") == "Left #\(alias).")
        #expect(try await answer(to: "!leave #nowhere-\(alias):localhost") == "I am not in #nowhere-\(alias):localhost.")
        withExtendedLifetime(folder) { server.terminate() }
        _ = await server.waitForExit()
    }

    @Test("Two workers on one PostgreSQL: the leader alone receives from Matrix, an approval asked on the other is answered through it, and when the leader dies the other receives")
    func twoWorkers() async throws {
        let (synapse, bot, alice) = try await Self.accounts()
        let folder = try Self.configured(bot: bot, alice: alice, on: synapse)
        let store = try await PostgresServer.shared().makeDatabase()
        func start(_ name: String) async throws -> ServerProcess {
            try await ServerProcess.start(
                data: folder.url.appendingPathComponent(name), scripts: Self.scripts,
                arguments: ["--executors", "1", "--config", folder.url.appendingPathComponent("automator.yml").path,
                            "--store", store, "--lease", "2s"])
        }
        let leader = try await start("first")
        for _ in 0..<200 where !leader.log.contains("leads the workers") { try await Task.sleep(for: .milliseconds(50)) }
        #expect(leader.log.contains("leads the workers"), "\(leader.log)")
        let other = try await start("second")
        let room = try await Self.room(with: bot, as: alice, on: synapse)
        // Each worker logs in as a device of its own: a homeserver may log out the other sessions
        // of a device that logs in again.
        let database = try #require(URLComponents(string: store)?.path.dropFirst())
        var devices: Set<Substring> = []
        for _ in 0..<100 where devices.count < 2 {
            devices = Set(try await PostgresServer.shared().psql(
                "SELECT value FROM chat_state WHERE key LIKE 'matrix.%.device of %'", database: String(database)
            ).split(whereSeparator: \.isNewline))
            if devices.count < 2 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(devices.count == 2, "\(devices)")
        func verdicts() async throws -> Int {
            try await Self.botMessages(in: room, by: bot.id, as: alice, on: synapse) { _ in true }
                .filter { (($0["content"] as? [String: Any])?["body"] as? String)?.contains("C2 of the Acme campaign") == true }
                .count
        }

        _ = try await Self.say("!ip 203.0.113.45", in: room, as: alice, on: synapse)
        _ = try await Self.botMessages(in: room, by: bot.id, as: alice, on: synapse) { !$0.isEmpty }
        try await Task.sleep(for: .seconds(2))
        #expect(try await verdicts() == 1, "answered once, by the leader")

        let run = try await other.submit(#"{"source": "return chat.approve('soc', 'Block 203.0.113.45?', { network = 'matrix' })"}"#)
        let posted = try await Self.botMessages(in: room, by: bot.id, as: alice, on: synapse) { $0.count >= 2 }
        let question = try #require(posted.last?["event_id"] as? String)
        _ = try await Self.say("1", in: room, as: alice, on: synapse, thread: question)
        let ended = try await other.waitForRun(run, timeout: 10)
        #expect(ended["status"] as? String == "completed" && (ended["result"] as? [Any])?.first as? Bool == true,
                "the leader took alice's reply, and the run on the other worker went on: \(ended)")

        leader.kill()
        #expect(await leader.waitForExit() == SIGKILL)
        _ = try await Self.say("!ip 203.0.113.45", in: room, as: alice, on: synapse)
        var answered = 0
        for _ in 0..<100 where answered < 2 {
            answered = try await verdicts()
            if answered < 2 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(answered == 2, "the other worker leads and answers: \(other.log)")
        other.terminate()
        #expect(await other.waitForExit() == 0)
    }

    /// The bot's answers to each of `asked`, by the message they answer (in its thread), once each
    /// has one (20 s at most).
    static func answers(to asked: [String], in room: String, by bot: Synapse.Account, as alice: Synapse.Account,
                        on synapse: Synapse) async throws -> [String: Int]
    {
        func count(_ messages: [[String: Any]]) -> [String: Int] {
            var answers: [String: Int] = [:]
            for message in messages {
                let relation = (message["content"] as? [String: Any])?["m.relates_to"] as? [String: Any]
                if let id = relation?["event_id"] as? String, asked.contains(id) { answers[id, default: 0] += 1 }
            }
            return answers
        }
        return count(try await botMessages(in: room, by: bot.id, as: alice, on: synapse) { count($0).count == asked.count })
    }

    @Test("Stopped with SIGTERM while its answers are on their way, then started again, the bot answers each message once: those it was answering, and those sent while it was stopped")
    func gracefulRestart() async throws {
        let (synapse, bot, alice) = try await Self.accounts()
        let relay = try await LoopbackRelay(to: synapse.url)
        defer { relay.stop() }
        // VirusTotal's first answer about 198.51.100.66 takes longer than a stop waits.
        let first = FirstTime()
        let router = Router()
        router.get("/api/v3/ip_addresses/:ip") { _, context -> Response in
            if context.parameters.get("ip") == "198.51.100.66", first.take() { try await Task.sleep(for: .seconds(10)) }
            let body = #"{"data": {"attributes": {"last_analysis_stats": {"malicious": 0, "harmless": 50}}}}"#
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        let virusTotal = try await LoopbackServer(router)
        defer { virusTotal.stop() }
        let folder = try Self.configured(bot: bot, alice: alice, on: synapse, homeserver: relay.url, more: """
            integrations:
              virustotal: { base_url: "\(virusTotal.url)/api/v3", api_key: vt-test-key }
            """)
        func start() async throws -> ServerProcess {
            try await ServerProcess.start(
                data: folder.url.appendingPathComponent("data"), scripts: Self.scripts,
                arguments: ["--config", folder.url.appendingPathComponent("automator.yml").path])
        }
        var server = try await start()
        let room = try await Self.watchedRoom(with: bot, as: alice, on: synapse)

        // From now on the bot's messages take 2 s to reach the homeserver: the stop comes while
        // the first answer is on its way, and while a lookup hangs.
        relay.hold({ method, path in method == "PUT" && path.contains("/send/m.room.message/") }, for: .seconds(2))
        var asked: [String] = []
        for ip in ["198.51.100.66", "203.0.113.45", "198.51.100.1", "198.51.100.2"] {
            asked.append(try await Self.say("seen \(ip) on the proxy", in: room, as: alice, on: synapse))
        }
        for _ in 0..<400 where relay.held == 0 { try await Task.sleep(for: .milliseconds(20)) }
        #expect(relay.held > 0, "an answer on its way: \(server.log)")
        server.terminate()
        #expect(await server.waitForExit() == 0, "\(server.log)")
        relay.hold(nil)
        for ip in ["198.51.100.3", "198.51.100.4"] {
            asked.append(try await Self.say("and \(ip) while it was down", in: room, as: alice, on: synapse))
        }

        server = try await start()
        _ = try await Self.answers(to: asked, in: room, by: bot, as: alice, on: synapse)
        try await Task.sleep(for: .seconds(3))  // time for an answer given twice to show
        let answers = try await Self.answers(to: asked, in: room, by: bot, as: alice, on: synapse)
        for (number, id) in asked.enumerated() {
            #expect(answers[id] == 1, "message \(number + 1) answered \(answers[id] ?? 0) times: \(server.log)")
        }
        server.terminate()
        #expect(await server.waitForExit() == 0)
    }

    @Test("An edit's added indicator is answered in the message's thread, the others not again, after a restart too; a link under a label is checked by its target")
    func editsAndLinks() async throws {
        let (synapse, bot, alice) = try await Self.accounts()
        let folder = try Self.configured(bot: bot, alice: alice, on: synapse)
        let server = try await ServerProcess.start(
            data: folder.url.appendingPathComponent("data"), scripts: Self.scripts,
            arguments: ["--executors", "1", "--config", folder.url.appendingPathComponent("automator.yml").path])
        let room = try await Self.watchedRoom(with: bot, as: alice, on: synapse)
        func send(_ content: [String: any Sendable]) async throws -> String {
            let path = "/rooms/\(Self.segment(room))/send/m.room.message/\(UUID().uuidString)"
            return try #require(try await Self.call(synapse, alice, "PUT", path, content)["event_id"] as? String)
        }
        /// The bot's answers in the thread of `root`, once there are `count`.
        func thread(_ root: String, count: Int) async throws -> [String] {
            func answers(_ messages: [[String: Any]]) -> [String] {
                messages.compactMap { message in
                    let content = message["content"] as? [String: Any]
                    guard (content?["m.relates_to"] as? [String: Any])?["event_id"] as? String == root else { return nil }
                    return content?["body"] as? String
                }
            }
            return answers(try await Self.botMessages(in: room, by: bot.id, as: alice, on: synapse) { answers($0).count >= count })
        }

        let seen = try await Self.say("the proxy saw 198.51.100.9", in: room, as: alice, on: synapse)
        let first = try await thread(seen, count: 1)
        #expect(first.count == 1 && first[0].contains("198.51.100[.]9"), "\(first)")
        // Element's edit: the fallback body for old clients, the new text in m.new_content.
        _ = try await send(["msgtype": "m.text", "body": "* the proxy saw 198.51.100.9 and 203.0.113.45",
                            "m.new_content": ["msgtype": "m.text", "body": "the proxy saw 198.51.100.9 and 203.0.113.45"]
                                as [String: any Sendable],
                            "m.relates_to": ["rel_type": "m.replace", "event_id": seen] as [String: any Sendable]])
        let both = try await thread(seen, count: 2)
        #expect(both.count == 2, "\(both): \(server.log)")
        let added = both.last ?? ""
        #expect(added.contains("203.0.113[.]45") && added.contains("C2 of the Acme campaign"), "\(added)")
        #expect(!added.contains("198.51.100[.]9"), "what the message had is not answered again: \(added)")

        let linked = try await send(["msgtype": "m.text", "body": "reset your password at the portal",
                                     "format": "org.matrix.custom.html",
                                     "formatted_body": #"reset your password at <a href="http://203.0.113.45/reset">the portal</a>"#])
        let checked = try await thread(linked, count: 1)
        #expect(checked.count == 1 && checked[0].contains("hxxp://203.0.113[.]45/reset"), "defanged: \(checked)")
        #expect(checked.first?.contains("C2 of the Acme campaign") == true, "\(checked)")
        try await Task.sleep(for: .seconds(1))
        #expect(try await thread(seen, count: 2).count == 2, "the edit answered once")
        server.terminate()
        #expect(await server.waitForExit() == 0)

        // After a restart, a second edit is compared with the first, not with the message the homeserver gives.
        let again = try await ServerProcess.start(
            data: folder.url.appendingPathComponent("data"), scripts: Self.scripts,
            arguments: ["--executors", "1", "--config", folder.url.appendingPathComponent("automator.yml").path])
        try await Self.matrixHealth(again) { $0["connected"] as? Bool == true }
        let text = "the proxy saw 198.51.100.9 and 203.0.113.45 and 198.51.100.23"
        _ = try await send(["msgtype": "m.text", "body": "* " + text,
                            "m.new_content": ["msgtype": "m.text", "body": text] as [String: any Sendable],
                            "m.relates_to": ["rel_type": "m.replace", "event_id": seen] as [String: any Sendable]])
        let third = try await thread(seen, count: 3)
        #expect(third.count == 3 && third[2].contains("198.51.100[.]23"), "\(third): \(again.log)")
        #expect(!(third.last ?? "").contains("203.0.113[.]45"), "what the first edit added is not answered again: \(third)")
        again.terminate()
        #expect(await again.waitForExit() == 0)
    }

    /// Matrix's entry in `/healthz` once `done` holds for it (`within` at most); nil, when not
    /// `required`, if it never does.
    @discardableResult
    static func matrixHealth(_ server: ServerProcess, required: Bool = true, within: Duration = .seconds(30),
                             until done: ([String: Any]) -> Bool) async throws -> [String: Any]?
    {
        var matrix: [String: Any] = [:]
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            let health = try await server.call("GET", "/healthz", credentials: .none)
            matrix = (health.json["chat"] as? [[String: Any]])?.first { $0["network"] as? String == "matrix" } ?? [:]
            if done(matrix) { return matrix }
            try await Task.sleep(for: .milliseconds(100))
        }
        if required { Issue.record("/healthz never said \(matrix) as expected; the server's log:\n\(server.log)") }
        return required ? matrix : nil
    }

    @Test("""
        The homeserver goes away and comes back: the log says so once with the real wait, then that it is back; \
        /healthz and /metrics show the connection and the last event
        """)
    func homeserverAway() async throws {
        let (synapse, bot, alice, server, folder) = try await Self.served()
        defer { withExtendedLifetime(folder) {} }
        let connected = try await Self.matrixHealth(server) { $0["connected"] as? Bool == true }
        let since = try #require(connected?["since"] as? String)
        #expect(server.log.contains("Matrix: connected as \(bot.id) on \(synapse.url)"), "said once up: \(server.log)")
        _ = try await Self.room(with: bot, as: alice, on: synapse)
        let invited = try await Self.matrixHealth(server) { $0["last_event"] is String }
        #expect(invited?["connected"] as? Bool == true && invited?["problem"] is NSNull, "\(String(describing: invited))")

        // Held down, not restarted (a quick restart may go unnoticed): the loss shows within seconds.
        // Synapse's stop cuts the long poll; a homeserver gone between two polls is
        // MatrixHomeserverQuirksTests.lostWithinSeconds.
        let (away, lag) = try await synapse.stopped {
            let stopped = ContinuousClock.now
            let away = try await Self.matrixHealth(server) { $0["connected"] as? Bool == false }
            let lag = ContinuousClock.now - stopped
            #expect(try await server.call("GET", "/metrics").body.contains(#"automator_chat_connected{network="matrix"} 0"#))
            return (away, lag)
        }
        #expect(lag < .seconds(10), "/healthz said connected \(lag) after the homeserver went away")
        #expect((away?["problem"] as? String)?.contains("Matrix homeserver") == true, "\(String(describing: away))")
        // The bot tries again 1 s after the loss, then twice as long each time up to 30 s: on a
        // loaded machine Synapse takes long enough to start again that the next try may be 30 s
        // after it is back; the first answer then says connected (a poll that does not wait).
        let back = try await Self.matrixHealth(server, within: .seconds(60)) { $0["connected"] as? Bool == true }
        #expect((back?["since"] as? String).map { $0 > since } == true, "connected since it came back: \(String(describing: back))")
        let metrics = try await server.call("GET", "/metrics").body
        #expect(metrics.contains(#"automator_chat_connected{network="matrix"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"automator_chat_last_event_timestamp_seconds{network="matrix"} 1"#), "\(metrics)")

        let lost = server.log.split(separator: "\n").filter { $0.contains("Matrix: ") && $0.contains("trying again in") }
        #expect(lost.count == 1, "the loss is told once: \(server.log)")
        #expect(lost.first?.contains("trying again in 1s, then less and less often") == true, "\(lost)")
        #expect(try await server.waitForLog("Matrix: connected again, after "), "\(server.log)")
        #expect(server.log.components(separatedBy: "Matrix: connected again, after ").count == 2, "\(server.log)")
        #expect(!server.log.contains("chat matrix:"), "one line, not one per loop: \(server.log)")
    }

    @Test("A homeserver that does not answer at the start is told once, not once per loop, and /healthz says why")
    func homeserverDownAtStart() async throws {
        let (synapse, bot, alice) = try await Self.accounts()
        let folder = try Self.configured(bot: bot, alice: alice, on: synapse)
        let config = folder.url.appendingPathComponent("automator.yml")
        let nowhere = "http://127.0.0.1:\(try FreePort.onLoopback())"
        try String(contentsOf: config, encoding: .utf8).replacingOccurrences(of: synapse.url, with: nowhere)
            .write(to: config, atomically: true, encoding: .utf8)
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"), scripts: Self.scripts,
                                                   arguments: ["--executors", "1", "--config", config.path])
        let away = try await Self.matrixHealth(server) { $0["problem"] is String }
        #expect(away?["connected"] as? Bool == false && away?["last_event"] is NSNull, "\(String(describing: away))")
        try await Task.sleep(for: .seconds(4))  // the attempts at 1 s, 2 s and 4 s
        let told = server.log.split(separator: "\n").filter { $0.contains("cannot reach the Matrix homeserver") }
        #expect(told.count == 1, "\(server.log)")
        #expect(told.first?.contains("trying again in 1s") == true, "\(told)")
    }
}

/// True the first time only.
private final class FirstTime: Sendable {
    private let first = Mutex(true)

    func take() -> Bool {
        first.withLock { first in
            defer { first = false }
            return first
        }
    }
}
