@testable import AutomatorRuntime
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// The Matrix adapter against a real Synapse (`pip install matrix-synapse`), one for the whole
/// suite, with a second real user, alice, acting through the client-server API. Serialized:
/// one test restarts the homeserver.
@Suite("Matrix adapter against a real Synapse", .serialized, .timeLimit(.minutes(3)))
struct MatrixAdapterTests {
    @Test("Invited, the bot joins; alice's texts, file, thread and reply reach the inbox; the file downloads")
    func receives() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        try await alice.call("PUT", "/profile/\(segment(alice.id))/displayname", ["displayname": "Alice Analyst"])
        let (adapter, inbox, task, _) = try await matrix.start(bot)
        defer { task.cancel() }
        #expect(adapter.me?.id == bot.id)

        let room = try await alice.createRoom(["name": "soc", "invite": [bot.id]])
        try await alice.waitUntilJoined(bot.id, room)
        let hello = try await alice.send(room, ["msgtype": "m.text", "body": "hello bot"])
        try await alice.send(room, ["msgtype": "m.notice", "body": "a notice: other bots talking"])
        let pcap = Array("GET /evil HTTP/1.1\r\n".utf8) + (0..<256).map { UInt8($0) }
        let mxc = try await alice.upload("capture.pcap", pcap)
        let file = try await alice.send(room, ["msgtype": "m.file", "body": "capture.pcap", "url": mxc,
                                               "info": ["size": pcap.count, "mimetype": "application/vnd.tcpdump.pcap"] as [String: any Sendable]])
        let inThread = try await alice.send(room, ["msgtype": "m.text", "body": "more in the thread",
                                                   "m.relates_to": threaded(hello)])
        let reply = try await alice.send(room, ["msgtype": "m.text", "body": "> <\(alice.id)> hello bot\n\nreplying",
                                                "m.relates_to": ["m.in_reply_to": ["event_id": hello]]])

        let messages = try await inbox.wait(for: 4)
        #expect(messages.map(\.id) == [hello, file, inThread, reply])
        #expect(messages.map(\.text) == ["hello bot", "", "more in the thread", "replying"])
        #expect(messages.allSatisfy { $0.channel == ChatChannel(id: room, name: "soc") })
        #expect(messages.allSatisfy { $0.user == ChatUser(id: alice.id, name: "Alice Analyst") })
        #expect(messages.map(\.thread) == [nil, nil, hello, nil])
        #expect(messages.map(\.replyTo) == [nil, nil, nil, hello])
        let received = try #require(messages.dropFirst().first?.files.first)
        #expect(received == ChatFile(id: mxc, name: "capture.pcap", size: pcap.count,
                                     mimeType: "application/vnd.tcpdump.pcap", url: mxc))
        #expect(try await adapter.download(received, limit: 1 << 20) == pcap)
        let tooLarge = await #expect(throws: ChatError.self) { try await adapter.download(received, limit: 100) }
        #expect(tooLarge?.kind == .tooLarge)
        let gone = ChatFile(id: "mxc://localhost/nothing", name: "gone", url: "mxc://localhost/nothing")
        let missing = await #expect(throws: ChatError.self) { try await adapter.download(gone, limit: 100) }
        #expect(missing?.kind == .notFound)
        try await Task.sleep(for: .milliseconds(300))
        #expect(inbox.messages.count == 4, "the notice is not delivered")

        // Asked by id, as a command answering a message another process received does: the same
        // message; nil for one that is not a message, or not there.
        let channel = ChatChannel(id: room, name: "soc")
        #expect(try await adapter.message(file, in: channel) == messages[1])
        let notice = try #require(try await alice.timeline(room).last { $0["type"] as? String == "m.room.message"
            && ($0["content"] as? [String: Any])?["msgtype"] as? String == "m.notice" }?["event_id"] as? String)
        #expect(try await adapter.message(notice, in: channel) == nil)
        #expect(try await adapter.message("$nothing:localhost", in: channel) == nil)
    }

    @Test("An edit arrives as the message it edits, with its new text; the targets of HTML links arrive as links, mentions and a reply's quote not")
    func editsAndLinks() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        let (_, inbox, task, _) = try await matrix.start(bot)
        defer { task.cancel() }
        let room = try await alice.createRoom(["name": "soc", "invite": [bot.id]])
        try await alice.waitUntilJoined(bot.id, room)

        let original = try await alice.send(room, ["msgtype": "m.text", "body": "seen 203.0.113.7"])
        try await alice.send(room, ["msgtype": "m.text", "body": "* seen 203.0.113.7 and 198.51.100.7",
                                    "m.new_content": ["msgtype": "m.text", "body": "seen 203.0.113.7 and 198.51.100.7"]
                                        as [String: any Sendable],
                                    "m.relates_to": ["rel_type": "m.replace", "event_id": original] as [String: any Sendable]])
        let html = #"""
            <mx-reply><blockquote><a href="https://matrix.to/#/!r:localhost/$e">In reply to</a>             <a href="https://quoted.example/">an older link</a></blockquote></mx-reply>            <a href="https://matrix.to/#/\#(alice.id)">Alice</a>: log in at <a href="http://203.0.113.9/a?b=1&amp;c=2">the portal</a>             or <a href='https://shown.example/'>https://shown.example/</a>
            """#
        let linked = try await alice.send(room, ["msgtype": "m.text", "body": "Alice: log in at the portal or https://shown.example/",
                                                 "format": "org.matrix.custom.html", "formatted_body": html])

        let messages = try await inbox.wait(for: 3)
        #expect(messages.map(\.id) == [original, original, linked])
        #expect(messages.map(\.text) == ["seen 203.0.113.7", "seen 203.0.113.7 and 198.51.100.7",
                                         "Alice: log in at the portal or https://shown.example/"])
        #expect(messages.map(\.edit) == [nil, ChatEdit(), nil], "Matrix does not tell the text before")
        #expect(messages.map(\.links) == [[], [], ["http://203.0.113.9/a?b=1&c=2"]])
    }

    @Test("The bot's threaded reply, question, reaction and file reach alice")
    func posts() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        let (adapter, inbox, task, _) = try await matrix.start(bot)
        defer { task.cancel() }
        let room = try await alice.createRoom(["name": "soc", "invite": [bot.id]])
        try await alice.waitUntilJoined(bot.id, room)
        let hello = try await alice.send(room, ["msgtype": "m.text", "body": "block 203.0.113.7?"])
        _ = try await inbox.wait(for: 1)

        let answer = try await adapter.post(ChatPost(channel: room, text: "blocking it", thread: hello))
        try await adapter.react(to: ChatMessageRef(channel: room, id: hello), with: "👀")
        let question = try await adapter.post(ChatPost(channel: room, text: "Block 203.0.113.7 at the firewall?",
                                                       question: ChatQuestion(id: "q1", choices: ["approve", "deny"])))
        try await adapter.upload(to: room, name: "report.json", data: Array(#"{"verdict":"malicious"}"#.utf8),
                                 comment: "the report")
        #expect(answer.channel == room && question.channel == room)

        let formatted = try await adapter.post(ChatPost(channel: room, text: "*INC-1* opened: `203.0.113[.]7` <b>\nnext"))

        let events = try await alice.timeline(room)
        let threadReply = try #require(events.first { $0["event_id"] as? String == answer.id })
        #expect((threadReply["content"] as? [String: Any])?["msgtype"] as? String == "m.notice",
                "bots send notices, which other bots do not answer")
        let markup = try #require(events.first { $0["event_id"] as? String == formatted.id }?["content"] as? [String: Any])
        #expect(markup["body"] as? String == "*INC-1* opened: `203.0.113[.]7` <b>\nnext")
        #expect(markup["format"] as? String == "org.matrix.custom.html")
        #expect(markup["formatted_body"] as? String
            == "<strong>INC-1</strong> opened: <code>203.0.113[.]7</code> &lt;b&gt;<br>next")
        let relation = try #require((threadReply["content"] as? [String: Any])?["m.relates_to"] as? [String: Any])
        #expect(relation["rel_type"] as? String == "m.thread")
        #expect(relation["event_id"] as? String == hello)
        #expect((relation["m.in_reply_to"] as? [String: Any])?["event_id"] as? String == hello)
        let reaction = try #require(events.first { $0["type"] as? String == "m.reaction" })
        #expect(reaction["sender"] as? String == bot.id)
        #expect((reaction["content"] as? [String: Any])?["m.relates_to"] as? [String: String]
            == ["rel_type": "m.annotation", "event_id": hello, "key": "👀"])
        let asked = try #require(events.first { $0["event_id"] as? String == question.id })
        #expect((asked["content"] as? [String: Any])?["body"] as? String == """
            Block 203.0.113.7 at the firewall?

            1. approve
            2. deny

            Reply in this thread with the number or the name of your choice.
            """)
        let shared = try #require(events.first { ($0["content"] as? [String: Any])?["msgtype"] as? String == "m.file" })
        let content = try #require(shared["content"] as? [String: Any])
        #expect(content["body"] as? String == "the report")
        #expect(content["filename"] as? String == "report.json")
        let uri = try #require(content["url"] as? String)
        let path = "/_matrix/client/v1/media/download/localhost/\(uri.split(separator: "/").last ?? "")"
        let (status, bytes) = try await matrix.synapse.fetch("GET", path, token: alice.account.accessToken)
        #expect(status == 200 && bytes == Array(#"{"verdict":"malicious"}"#.utf8))

        // alice answers in the question's thread; the bot's own messages never came back.
        let choice = try await alice.send(room, ["msgtype": "m.text", "body": "1", "m.relates_to": threaded(question.id)])
        let messages = try await inbox.wait(for: 2)
        #expect(messages.map(\.id) == [hello, choice])
        #expect(messages.last?.thread == question.id)
    }

    @Test("A message with a field of another type (format, formatted_body, m.relates_to, info) is read for what clients show")
    func malformedFields() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        let (_, inbox, task, _) = try await matrix.start(bot)
        defer { task.cancel() }
        let room = try await alice.createRoom(["name": "soc", "invite": [bot.id]])
        try await alice.waitUntilJoined(bot.id, room)
        // Clients show each body; the bot dropped each message whole, unchecked and unjournaled.
        let sent = [
            try await alice.send(room, ["msgtype": "m.text", "body": "reset at http://evil.example/a", "format": 5,
                                        "formatted_body": ["html": "no"] as [String: any Sendable]]),
            try await alice.send(room, ["msgtype": "m.text", "body": "or http://evil.example/b", "m.relates_to": "thread"]),
            try await alice.send(room, ["msgtype": "m.text", "body": "or http://evil.example/c", "info": "none",
                                        "m.new_content": 7]),
        ]
        let messages = try await inbox.wait(for: 3)
        #expect(messages.map(\.id) == sent)
        #expect(messages.map(\.text) == ["reset at http://evil.example/a", "or http://evil.example/b", "or http://evil.example/c"])
        #expect(messages.allSatisfy { $0.thread == nil && $0.edit == nil })
    }

    @Test("The bot's posts and files mention nobody: @room or a person's name in an alert's title or a file's name pings no one")
    func mentionsNobody() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        let (adapter, _, task, _) = try await matrix.start(bot)
        defer { task.cancel() }
        // The bot may notify the room, as one that opens war rooms does (the default asks level 50).
        let room = try await alice.createRoom(["name": "soc", "invite": [bot.id],
                                               "power_level_content_override": ["users": [bot.id: 100]]])
        try await alice.waitUntilJoined(bot.id, room)
        let name = String(alice.id.dropFirst().prefix { $0 != ":" })  // her display name, as registered
        let posted = try await adapter.post(ChatPost(channel: room, text: "INC-7 @room: phish for \(name)"))
        try await adapter.upload(to: room, name: "@room \(name).eml", data: [1], comment: nil)
        try await adapter.upload(to: room, name: "report.eml", data: [1], comment: "@room \(name)")
        // The same file sent without m.mentions: the homeserver's rules ping the room.
        let control = try await Person(synapse: matrix.synapse, account: bot)
            .send(room, ["msgtype": "m.file", "body": "@room \(name)", "url": "mxc://localhost/none"])

        var highlights: [String: Bool] = [:]
        for _ in 0..<200 where highlights[control] == nil {
            highlights = try await Self.highlights(of: alice)
            if highlights[control] == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(highlights[control] == true, "\(highlights)")
        #expect(highlights[posted.id] == nil, "a notice notifies nobody")
        #expect(highlights.filter { $0.key != control }.values.allSatisfy { !$0 }, "\(highlights)")
        #expect(highlights.count == 3, "the two files notify as any message does: \(highlights)")
    }

    @Test("A post's mentions notify them (an escalated task's lead), though the bot's posts are notices, which notify nobody")
    func mentionsNotify() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        let (adapter, _, task, _) = try await matrix.start(bot)
        defer { task.cancel() }
        let room = try await alice.createRoom(["name": "soc-leads", "invite": [bot.id]])
        try await alice.waitUntilJoined(bot.id, room)
        let posted = try await adapter.post(ChatPost(channel: room, text: "🚨 T-1 for tier1 on INC-1 is 2h overdue",
                                                     mentions: [alice.id]))
        var highlights: [String: Bool] = [:]
        for _ in 0..<200 where highlights[posted.id] == nil {
            highlights = try await Self.highlights(of: alice)
            if highlights[posted.id] == nil { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(highlights[posted.id] == true, "\(highlights)")
    }

    /// Whether each event `person` was notified of pinged them (`highlight`), by event id.
    private static func highlights(of person: Person) async throws -> [String: Bool] {
        var found: [String: Bool] = [:]
        for item in try await person.call("GET", "/notifications?limit=100")["notifications"] as? [[String: Any]] ?? [] {
            guard let id = (item["event"] as? [String: Any])?["event_id"] as? String else { continue }
            found[id] = (item["actions"] as? [Any] ?? []).contains { action in
                guard let tweak = action as? [String: Any], tweak["set_tweak"] as? String == "highlight" else { return false }
                return tweak["value"] as? Bool ?? true
            }
        }
        return found
    }

    @Test("Reacting again with the same emoji is no error, and adds no second reaction")
    func reactsOnce() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        let (adapter, inbox, task, _) = try await matrix.start(bot)
        defer { task.cancel() }
        let room = try await alice.createRoom(["name": "soc", "invite": [bot.id]])
        try await alice.waitUntilJoined(bot.id, room)
        let sender = try await alice.send(room, ["msgtype": "m.text", "body": "sender was 198.51.100.77"])
        _ = try await inbox.wait(for: 1)

        // The watcher reacts to the message, and again when an edit adds a malicious finding.
        try await adapter.react(to: ChatMessageRef(channel: room, id: sender), with: "rotating_light")
        try await adapter.react(to: ChatMessageRef(channel: room, id: sender), with: "rotating_light")

        let reactions = try await alice.timeline(room).filter { $0["type"] as? String == "m.reaction" }
        #expect(reactions.count == 1)
    }

    @Test("Only whom invites_from names can invite the bot: another person's invite is declined, not joined")
    func invites() async throws {
        let matrix = try await Homeserver()
        let (bot, alice, mallory) = (try await matrix.register("bot"), try await matrix.person("alice"),
                                     try await matrix.person("mallory"))
        let (_, inbox, task, _) = try await matrix.start(bot, invitesFrom: [alice.id])
        defer { task.cancel() }
        let refused = try await mallory.createRoom(["name": "free lookups", "invite": [bot.id]])
        let room = try await alice.createRoom(["name": "soc", "invite": [bot.id]])
        try await alice.waitUntilJoined(bot.id, room)
        var membership: String?
        for _ in 0..<200 {
            let state = try await mallory.call("GET", "/rooms/\(segment(refused))/state/m.room.member/\(segment(bot.id))")
            membership = state["membership"] as? String
            if membership != "invite" { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(membership == "leave", "the invite is declined")
        try await mallory.send(refused, ["msgtype": "m.text", "body": "check 203.0.113.7"])
        try await alice.send(room, ["msgtype": "m.text", "body": "check 198.51.100.7"])
        #expect(try await inbox.wait(for: 1).map(\.text) == ["check 198.51.100.7"])
    }

    @Test("By default the bot's own server may invite it, and no other; a server name admits all of its people")
    func defaultInviters() {
        let own = MatrixConfiguration(homeserver: "https://matrix.example.org", userID: "@bot:example.org",
                                      credential: .accessToken("t"))
        #expect(own.invitesFrom == ["example.org"])
        #expect(own.mayInvite("@alice:example.org"))
        #expect(!own.mayInvite("@mallory:evil.example"))
        #expect(!own.mayInvite("@mallory:example.org.evil.example"))
        let partner = MatrixConfiguration(homeserver: "https://matrix.example.org", userID: "@bot:example.org",
                                          credential: .accessToken("t"),
                                          invitesFrom: ["partner.example:8448", "@carol:other.example"])
        #expect(partner.mayInvite("@dave:partner.example:8448") && partner.mayInvite("@carol:other.example"))
        #expect(!partner.mayInvite("@alice:example.org") && !partner.mayInvite("@erin:other.example"))
    }

    @Test("A room with the bot and one person and no name is a direct conversation, named after the person")
    func direct() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        let (adapter, inbox, task, _) = try await matrix.start(bot)
        defer { task.cancel() }
        let dm = try await alice.createRoom(["is_direct": true, "preset": "trusted_private_chat", "invite": [bot.id]])
        // Named: a channel, though only alice has joined it yet.
        let soc = try await alice.createRoom(["name": "soc", "invite": [bot.id]])
        try await alice.waitUntilJoined(bot.id, dm)
        try await alice.waitUntilJoined(bot.id, soc)
        try await alice.send(dm, ["msgtype": "m.text", "body": "status"])
        let message = try #require(try await inbox.wait(for: 1).first)
        #expect(message.channel == ChatChannel(id: dm, name: MatrixID.localpart(alice.id), isDirect: true))
        #expect(try await adapter.channels() == [ChatChannel(id: soc, name: "soc")])
    }

    @Test("Rooms by id, name and alias; join, leave; a person's profile")
    func rooms() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        try await alice.call("PUT", "/profile/\(segment(alice.id))/displayname", ["displayname": "Alice Analyst"])
        let (adapter, _, task, _) = try await matrix.start(bot)
        defer { task.cancel() }
        let alias = "soc-\(UUID().uuidString.prefix(6).lowercased())"
        let room = try await alice.createRoom(["name": "Security Operations", "preset": "public_chat",
                                               "room_alias_name": alias])

        // Not joined yet: the alias still resolves, so the bot can join by it.
        #expect(try await adapter.channels(named: "#\(alias):localhost") == [ChatChannel(id: room, name: alias)])
        #expect(try await adapter.channels(named: "Security Operations").isEmpty)
        #expect(try await adapter.channels(named: "#nowhere-\(alias):localhost").isEmpty)
        try await adapter.join(ChatChannel(id: "#\(alias):localhost", name: alias))

        let joined = ChatChannel(id: room, name: "Security Operations")
        #expect(try await adapter.channels(named: "#\(alias):localhost") == [joined])
        #expect(try await adapter.channels(named: room) == [joined])
        #expect(try await adapter.channels(named: "security operations") == [joined])
        #expect(try await adapter.channels(named: alias) == [joined])
        #expect(try await adapter.channels() == [joined])
        try await adapter.leave(joined)
        #expect(try await adapter.channels() == [])
        #expect(try await adapter.channels(named: room).isEmpty)

        #expect(try await adapter.user(alice.id) == ChatUser(id: alice.id, name: "Alice Analyst"))
        #expect(try await adapter.user("@nobody-\(alias):localhost") == nil)
    }

    @Test("Roles name Matrix people by id, or by name for the bot's own server; never by display name")
    func rolesByName() async throws {
        let folder = try ScratchFolder()
        let configuration = MatrixConfiguration(homeserver: "http://127.0.0.1:9", userID: "@bot:example.org",
                                                credential: .accessToken("unused"))
        let matrix = MatrixAdapter(configuration: configuration, state: MemoryChatState())
        let roles = AccessRules(roles: ["analyst": ["alice", "@carol:partner.example"]])
        let chat = ChatService(store: try SQLiteStore(folder: folder.path), adapters: [matrix], scripts: folder.path,
                               rules: roles)
        func analyst(_ id: String, shown name: String) -> Bool {
            chat.allowed(ChatUser(id: id, name: name), roles: ["analyst"], on: matrix)
        }
        #expect(analyst("@alice:example.org", shown: "Alice Analyst"), "a bare name is a user of the bot's server")
        #expect(analyst("@carol:partner.example", shown: "Carol"), "a full id, of any server")
        #expect(!analyst("@alice:elsewhere.example", shown: "alice"), "another server's alice is someone else")
        #expect(!analyst("@mallory:example.org", shown: "alice"), "display names are anyone's")
        #expect(!analyst("@alicex:example.org", shown: "alicex"))
    }

    @Test("A password logs in; a wrong password or token is unauthorized")
    func login() async throws {
        let matrix = try await Homeserver()
        let bot = try await matrix.register("bot")
        let store = MemoryChatState()
        let adapter = matrix.adapter(bot, .password(bot.password), store: store)
        let task = Task { try await adapter.run(delivering: TestInbox()) }
        defer { task.cancel() }
        try await matrix.waitUntilSynced(adapter, store, task)
        #expect(adapter.me == ChatUser(id: bot.id, name: MatrixID.localpart(bot.id)))
        let device = try #require(try await store.chatState(adapter.deviceKey))

        // A restart logs in to the same device rather than adding one.
        let again = matrix.adapter(bot, .password(bot.password), store: store)
        let second = Task { try await again.run(delivering: TestInbox()) }
        defer { second.cancel() }
        try await matrix.waitUntilConnected(again, second)
        #expect(try await store.chatState(adapter.deviceKey) == device)

        for credential in [MatrixConfiguration.Credential.password("wrong"), .accessToken("syt_wrong")] {
            let refused = matrix.adapter(bot, credential, store: MemoryChatState())
            let error = await #expect(throws: ChatError.self) { try await refused.run(delivering: TestInbox()) }
            #expect(error?.kind == .unauthorized)
        }
    }

    @Test("A restart with the same state delivers what came meanwhile, nothing twice and nothing old")
    func restart() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        let room = try await alice.createRoom(["name": "soc", "invite": [bot.id]])
        try await matrix.synapse.call("POST", "/_matrix/client/v3/join/\(segment(room))", token: bot.accessToken, json: [:])
        try await alice.send(room, ["msgtype": "m.text", "body": "before the bot ever started"])

        let store = MemoryChatState()
        let (_, first, task, _) = try await matrix.start(bot, store: store)
        let one = try await alice.send(room, ["msgtype": "m.text", "body": "one"])
        #expect(try await first.wait(for: 1).map(\.id) == [one])
        task.cancel()
        _ = await task.result

        let two = try await alice.send(room, ["msgtype": "m.text", "body": "two"])
        let (_, second, again, _) = try await matrix.start(bot, store: store)
        defer { again.cancel() }
        let three = try await alice.send(room, ["msgtype": "m.text", "body": "three"])
        #expect(try await second.wait(for: 2).map(\.id) == [two, three])
        try await Task.sleep(for: .milliseconds(300))
        #expect(first.messages.map(\.text) == ["one"])
        #expect(second.messages.map(\.text) == ["two", "three"])
    }

    @Test("After a stop, more messages than one sync's timeline holds are all delivered, in order")
    func gapAfterDowntime() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        let room = try await alice.createRoom(["name": "war-room", "invite": [bot.id]])
        try await matrix.synapse.call("POST", "/_matrix/client/v3/join/\(segment(room))", token: bot.accessToken, json: [:])
        let store = MemoryChatState()
        let (_, first, task, _) = try await matrix.start(bot, store: store)
        let before = try await alice.send(room, ["msgtype": "m.text", "body": "before the stop"])
        #expect(try await first.wait(for: 1).map(\.id) == [before])
        task.cancel()
        _ = await task.result

        var sent: [String] = []
        for number in 1...112 { sent.append(try await alice.send(room, ["msgtype": "m.text", "body": "message \(number)"])) }
        let (_, inbox, again, _) = try await matrix.start(bot, store: store)
        defer { again.cancel() }
        #expect(try await inbox.wait(for: 112, within: .seconds(30)).map(\.id) == sent)
        try await Task.sleep(for: .milliseconds(300))
        #expect(inbox.messages.count == 112, "nothing from before the stop again")
    }

    @Test("A gap too long to read back is logged and told in its room")
    func unfilledGap() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        let room = try await alice.createRoom(["name": "war-room", "invite": [bot.id]])
        try await matrix.synapse.call("POST", "/_matrix/client/v3/join/\(segment(room))", token: bot.accessToken, json: [:])
        let store = MemoryChatState()
        let (_, _, task, _) = try await matrix.start(bot, store: store, longestGap: 5)
        task.cancel()
        _ = await task.result

        for number in 1...110 { try await alice.send(room, ["msgtype": "m.text", "body": "message \(number)"]) }
        let (_, inbox, again, _) = try await matrix.start(bot, store: store, longestGap: 5)
        defer { again.cancel() }
        let delivered = try await inbox.wait(for: 105, within: .seconds(30))
        #expect(delivered.suffix(105).map(\.text) == (6...110).map { "message \($0)" }, "the gap's newest 5, then the timeline")
        try await Task.sleep(for: .milliseconds(500))
        // Every message is delivered or counted. Synapse may answer the restarted bot's first sync
        // with the response it cached for the stopped one's pending long poll: message 1 alone.
        let told = try await alice.timeline(room).compactMap { ($0["content"] as? [String: Any])?["body"] as? String }
        #expect(told.last == "⚠️ \(110 - delivered.count) messages sent here while I was away were not checked.")
    }

    @Test("Cancelling the task ends run at once, in the middle of a long poll")
    func cancellation() async throws {
        let matrix = try await Homeserver()
        let (_, _, task, _) = try await matrix.start(try await matrix.register("bot"))
        try await Task.sleep(for: .milliseconds(500))
        let clock = ContinuousClock()
        let started = clock.now
        task.cancel()
        _ = await task.result
        // Not at the poll's end: it waits 30 s. 10 s holds on a loaded machine.
        #expect(clock.now - started < .seconds(10))
    }

    @Test("The sync survives a restart of the homeserver")
    func homeserverRestart() async throws {
        let matrix = try await Homeserver()
        let (bot, alice) = (try await matrix.register("bot"), try await matrix.person("alice"))
        let (_, inbox, task, _) = try await matrix.start(bot)
        defer { task.cancel() }
        let room = try await alice.createRoom(["name": "soc", "invite": [bot.id]])
        try await alice.waitUntilJoined(bot.id, room)
        try await matrix.synapse.restart()
        let after = try await alice.send(room, ["msgtype": "m.text", "body": "still there?"])
        #expect(try await inbox.wait(for: 1, within: .seconds(30)).map(\.id) == [after])
    }
}

/// The shared Synapse, and what the tests do with it.
struct Homeserver {
    let synapse: Synapse

    init() async throws { synapse = try await Synapse.shared() }

    func register(_ name: String) async throws -> Synapse.Account { try await synapse.register(name) }

    func person(_ name: String) async throws -> Person { Person(synapse: synapse, account: try await register(name)) }

    func adapter(_ bot: Synapse.Account, _ credential: MatrixConfiguration.Credential? = nil,
                 store: MemoryChatState, invitesFrom: [String]? = nil, longestGap: Int = 1000) -> MatrixAdapter
    {
        let configuration = MatrixConfiguration(homeserver: synapse.url, userID: bot.id,
                                                credential: credential ?? .accessToken(bot.accessToken),
                                                invitesFrom: invitesFrom)
        return MatrixAdapter(configuration: configuration, state: store,
                             logger: .init(label: "test") { _ in SwiftLogNoOpLogHandler() },
                             longestRetryDelay: .milliseconds(500), longestGap: longestGap)
    }

    /// Runs the bot's adapter; returns once its first sync is done, so that what follows is new.
    func start(_ bot: Synapse.Account, store: MemoryChatState = MemoryChatState(), invitesFrom: [String]? = nil,
               longestGap: Int = 1000) async throws -> (MatrixAdapter, TestInbox, Task<Void, any Error>, MemoryChatState)
    {
        let adapter = adapter(bot, store: store, invitesFrom: invitesFrom, longestGap: longestGap)
        let inbox = TestInbox()
        let task = Task { try await adapter.run(delivering: inbox) }
        try await waitUntilSynced(adapter, store, task)
        return (adapter, inbox, task, store)
    }

    func waitUntilConnected(_ adapter: MatrixAdapter, _ task: Task<Void, any Error>) async throws {
        for _ in 0..<200 where adapter.me == nil { try await Task.sleep(for: .milliseconds(50)) }
        if adapter.me == nil {
            task.cancel()
            try await task.value
            Issue.record("the adapter did not connect within 10 s")
        }
    }

    /// Waits until the adapter has saved a sync position newer than the one it started from.
    func waitUntilSynced(_ adapter: MatrixAdapter, _ store: MemoryChatState, _ task: Task<Void, any Error>) async throws {
        let before = try await store.chatState(adapter.batchKey)
        for _ in 0..<200 {
            if let now = try await store.chatState(adapter.batchKey), now != before { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        task.cancel()
        try await task.value
        Issue.record("the adapter did not sync within 10 s")
    }
}

/// Another user of the homeserver, acting through plain client-server API calls.
struct Person {
    let synapse: Synapse
    let account: Synapse.Account
    var id: String { account.id }

    @discardableResult
    func call(_ method: String, _ path: String, _ json: [String: any Sendable]? = nil) async throws -> [String: Any] {
        try await synapse.call(method, "/_matrix/client/v3" + path, token: account.accessToken, json: json)
    }

    func createRoom(_ options: [String: any Sendable]) async throws -> String {
        try #require(try await call("POST", "/createRoom", options)["room_id"] as? String)
    }

    @discardableResult
    func send(_ room: String, _ content: [String: any Sendable]) async throws -> String {
        let path = "/rooms/\(segment(room))/send/m.room.message/\(UUID().uuidString)"
        return try #require(try await call("PUT", path, content)["event_id"] as? String)
    }

    func upload(_ name: String, _ bytes: [UInt8]) async throws -> String {
        let answer = try await synapse.call("POST", "/_matrix/media/v3/upload?filename=\(name)", token: account.accessToken,
                                            body: bytes, contentType: "application/octet-stream")
        return try #require(answer["content_uri"] as? String)
    }

    func waitUntilJoined(_ user: String, _ room: String) async throws {
        for _ in 0..<200 {
            let members = try await call("GET", "/rooms/\(segment(room))/joined_members")["joined"] as? [String: Any]
            if members?[user] != nil { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("\(user) did not join \(room) within 10 s")
    }

    /// The room's latest events, as alice's own sync shows them.
    func timeline(_ room: String) async throws -> [[String: Any]] {
        let filter = #"{"room":{"timeline":{"limit":100}}}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let sync = try await call("GET", "/sync?timeout=0&filter=\(filter)")
        let rooms = (sync["rooms"] as? [String: Any])?["join"] as? [String: Any]
        let timeline = (rooms?[room] as? [String: Any])?["timeline"] as? [String: Any]
        return timeline?["events"] as? [[String: Any]] ?? []
    }
}

/// Collects what the adapter delivers.
final class TestInbox: ChatInbox {
    private let received = Mutex<[ChatMessage]>([])

    var messages: [ChatMessage] { received.withLock { $0 } }

    func receive(_ message: ChatMessage, from adapter: any ChatAdapter) async {
        received.withLock { $0.append(message) }
    }

    func receive(_ answer: ChatAnswer, from adapter: any ChatAdapter) async {}

    /// The messages, once there are at least `count`.
    func wait(for count: Int, within limit: Duration = .seconds(10)) async throws -> [ChatMessage] {
        let deadline = ContinuousClock.now + limit
        while messages.count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        return messages
    }
}

/// `ChatStateStore` in memory: what the lead's SQLite store keeps, for a test.
final class MemoryChatState: ChatStateStore {
    private let values = Mutex<[String: String]>([:])

    func chatState(_ key: String) async throws(StoreError) -> String? { values.withLock { $0[key] } }

    func setChatState(_ key: String, to value: String) async throws(StoreError) { values.withLock { $0[key] = value } }
}

/// The relation of a reply in `root`'s thread, as clients send it.
func threaded(_ root: String) -> [String: any Sendable] {
    ["rel_type": "m.thread", "event_id": root, "is_falling_back": true, "m.in_reply_to": ["event_id": root]]
}

/// A Matrix id as one segment of a URL path.
func segment(_ id: String) -> String { id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id }
