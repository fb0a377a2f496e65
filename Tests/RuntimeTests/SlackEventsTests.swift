@testable import AutomatorRuntime
@testable import AutomatorServer
import Foundation
import Synchronization
import TestSupport
import Testing

@Suite("Slack: events and interactions through the server's routes", .timeLimit(.minutes(1)))
struct SlackEventsTests {
    typealias Harness = SlackHarness

    /// The texts delivered, sorted, once a message sent after the ones under test has arrived
    /// with `count` others, and a moment more has passed for any that should not come.
    static func delivered(_ slack: Harness, besides count: Int) async throws -> [String] {
        let answer = try await slack.post("/slack/events",
                                          Harness.callback(Harness.message("sentinel", ts: "1700009999.000001"), id: "EvSENTINEL"))
        #expect(answer.status == 200)
        _ = try await slack.inbox.messages(count: count + 1)
        try await Task.sleep(for: .milliseconds(100))
        let texts = slack.inbox.messages.map(\.text)
        #expect(texts.filter { $0 == "sentinel" }.count == 1)
        return texts.filter { $0 != "sentinel" }.sorted()
    }

    @Test("The url_verification challenge is answered when signed, refused when not")
    func challenge() async throws {
        let slack = try await Harness(connect: false)
        let body = #"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#
        let answer = try await slack.post("/slack/events", body)
        #expect(answer.status == 200)
        #expect(answer.body == #"{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#)
        #expect(try await slack.post("/slack/events", body, secret: "another app's secret").status == 401)
    }

    @Test("A bad signature, a stale timestamp, or none at all is a 401, and nothing is delivered")
    func refused() async throws {
        let slack = try await Harness()
        let body = Harness.callback(Harness.message("forged"), id: "EvFORGED")
        let now = Int(Date().timeIntervalSince1970)
        #expect(try await slack.post("/slack/events", body, secret: "guessed").status == 401)
        #expect(try await slack.post("/slack/events", body, timestamp: now - 301).status == 401)
        #expect(try await slack.post("/slack/events", body, timestamp: now + 600).status == 401)
        #expect(try await slack.post("/slack/events", body, signature: "").status == 401)
        let interaction = "payload=" + SlackWebAPI.formEncoded(#"{"type":"block_actions"}"#)
        #expect(try await slack.post("/slack/interactions", interaction, secret: "guessed").status == 401)
        #expect(try await Self.delivered(slack, besides: 0) == [])
    }

    @Test("A malformed body is a 400, and nothing is delivered")
    func malformed() async throws {
        let slack = try await Harness()
        for body in ["{not json", #"{"type":"event_callback"}"#, #"{"event":{"type":"message"}}"#,
                     #"{"type":"url_verification"}"#]
        {
            #expect(try await slack.post("/slack/events", body).status == 400)
        }
        for body in ["", "payload=%7Bnot%20json", "text=hello", "payload=" + SlackWebAPI.formEncoded(#"{"type":"block_actions"}"#)] {
            #expect(try await slack.post("/slack/interactions", body, contentType: "application/x-www-form-urlencoded")
                .status == 400)
        }
        #expect(try await Self.delivered(slack, besides: 0) == [])
        #expect(slack.inbox.answers.isEmpty)
    }

    @Test("A channel message arrives with the channel's and the user's names; a thread reply says its thread")
    func channelMessage() async throws {
        let slack = try await Harness()
        #expect(try await slack.post("/slack/events", Harness.callback(Harness.message("is 203.0.113.7 bad?"),
                                                                       id: "Ev01")).status == 200)
        var reply = Harness.message("<https://evil.example|evil.example> too", user: "U0BOB", channel: "G0OPS",
                                    type: "group", ts: "1700000001.000200")
        reply["thread_ts"] = "1700000000.000100"
        #expect(try await slack.post("/slack/events", Harness.callback(reply, id: "Ev02")).status == 200)

        let messages = try await slack.inbox.messages(count: 2).sorted { $0.id < $1.id }
        #expect(messages[0] == ChatMessage(id: "1700000000.000100", channel: ChatChannel(id: "C0SOC", name: "soc"),
                                           user: ChatUser(id: "U0ALICE", name: "alice"), text: "is 203.0.113.7 bad?",
                                           at: Date(timeIntervalSince1970: 1_700_000_000.0001)))
        #expect(messages[1].channel == ChatChannel(id: "G0OPS", name: "secret-ops"))
        #expect(messages[1].user == ChatUser(id: "U0BOB", name: "bob"))
        #expect(messages[1].text == "<https://evil.example|evil.example> too")
        #expect(messages[1].thread == "1700000000.000100")
        #expect(messages[1].replyTo == "1700000000.000100")
    }

    @Test("A forwarded message arrives with what it shares quoted below the comment, other attachments left out")
    func forwardedMessage() async throws {
        let slack = try await Harness()
        var forwarded = Harness.message("")
        forwarded["attachments"] = [
            ["is_share": true, "is_msg_unfurl": true, "author_name": "Carol", "fallback": "[Nov 30th] Carol: ...",
             "text": "got this: reset at <http://evil-login.example.com/reset>\nfrom 203.0.113.45",
             "from_url": "https://example.slack.com/archives/C0GEN/p1700000000000100"],
        ]
        #expect(try await slack.post("/slack/events", Harness.callback(forwarded, id: "Ev05")).status == 200)
        var commented = Harness.message("phish reported by carol", ts: "1700000001.000100")
        commented["attachments"] = [
            ["is_share": true, "text": "198.51.100.9 keeps calling"],
            ["title": "A link preview", "title_link": "https://news.example.com", "text": "203.0.113.200 in the news"],
        ]
        #expect(try await slack.post("/slack/events", Harness.callback(commented, id: "Ev06")).status == 200)

        let messages = try await slack.inbox.messages(count: 2).sorted { $0.id < $1.id }
        #expect(messages.map(\.text) == [
            "> got this: reset at <http://evil-login.example.com/reset>\n> from 203.0.113.45",
            "phish reported by carol\n> 198.51.100.9 keeps calling",
        ])
    }

    @Test("A direct message arrives as direct, named after the person")
    func directMessage() async throws {
        let slack = try await Harness()
        let event = Harness.message("ip 198.51.100.4", channel: "D0ALICE", type: "im")
        #expect(try await slack.post("/slack/events", Harness.callback(event, id: "Ev03")).status == 200)
        let message = try #require(try await slack.inbox.messages(count: 1).first)
        #expect(message.channel == ChatChannel(id: "D0ALICE", name: "alice", isDirect: true))
        #expect(message.user == ChatUser(id: "U0ALICE", name: "alice"))
        #expect(message.text == "ip 198.51.100.4")
    }

    @Test("A file share arrives with its files (files.info when the event leaves them out), downloaded with the token")
    func fileShare() async throws {
        let slack = try await Harness()
        var event = Harness.message("here is the dump")
        event["subtype"] = "file_share"
        event["files"] = [slack.fake.file("F0REPORT", name: "report.csv", size: FakeSlack.report.count),
                          slack.fake.file("F0LARGE", name: "dump.bin"),
                          ["id": "F0HIDDEN", "mode": "hidden_by_limit", "file_access": "check_file_info"]]
        #expect(try await slack.post("/slack/events", Harness.callback(event, id: "Ev04")).status == 200)
        let message = try #require(try await slack.inbox.messages(count: 1).first)
        #expect(message.files.map(\.id) == ["F0REPORT", "F0LARGE", "F0HIDDEN"])
        #expect(message.files[0] == ChatFile(id: "F0REPORT", name: "report.csv", size: FakeSlack.report.count,
                                             mimeType: "text/csv", url: "\(slack.fake.url)/files/F0REPORT/report.csv"))
        #expect(message.files[2].url == "\(slack.fake.url)/files/F0HIDDEN/hidden.csv")
        #expect(slack.fake.calls("files.info").map { $0.arguments["file"] } == ["F0HIDDEN"])

        #expect(try await slack.adapter.download(message.files[0], limit: 1 << 20) == FakeSlack.report)
        #expect(try await slack.adapter.download(message.files[2], limit: 1 << 20) == FakeSlack.report)
        await #expect(throws: ChatError.self) { try await slack.adapter.download(message.files[1], limit: 4096) }
        #expect(slack.fake.state.withLock { $0.downloads } == 3)
    }

    @Test("Slack's retry of an event (X-Slack-Retry-Num) is answered 200 and delivered once")
    func retry() async throws {
        let slack = try await Harness()
        let body = Harness.callback(Harness.message("ip 203.0.113.7"), id: "Ev05")
        #expect(try await slack.post("/slack/events", body).status == 200)
        _ = try await slack.inbox.messages(count: 1)
        let retry = try await slack.post("/slack/events", body,
                                         headers: [("X-Slack-Retry-Num", "1"), ("X-Slack-Retry-Reason", "http_timeout")])
        #expect(retry.status == 200)
        #expect(try await Self.delivered(slack, besides: 1) == ["ip 203.0.113.7"])
    }

    @Test("A message that begins by mentioning the bot is the command, delivered once for its message and app_mention")
    func mentionAsCommand() async throws {
        let slack = try await Harness()
        let message = Harness.message("<@UBOT> ip 1.2.3.4")
        var mention = message
        mention["type"] = "app_mention"
        mention["channel_type"] = nil
        #expect(try await slack.post("/slack/events", Harness.callback(message, id: "Ev06")).status == 200)
        #expect(try await slack.post("/slack/events", Harness.callback(mention, id: "Ev07")).status == 200)
        // A mention alone (no message.channels subscription for this channel) is delivered too.
        var alone = Harness.message("<@UBOT|automator>   !whois example.org", user: "U0BOB", ts: "1700000002.000300")
        alone["type"] = "app_mention"
        alone["channel_type"] = nil
        #expect(try await slack.post("/slack/events", Harness.callback(alone, id: "Ev08")).status == 200)

        #expect(try await Self.delivered(slack, besides: 2) == ["!ip 1.2.3.4", "!whois example.org"])
        #expect(slack.inbox.messages.allSatisfy { $0.channel == ChatChannel(id: "C0SOC", name: "soc") })
        #expect(SlackEvent.command("ask <@UBOT> later", mentioning: "UBOT") == "ask <@UBOT> later")
        #expect(SlackEvent.command("<@U0ALICE> ip 1.2.3.4", mentioning: "UBOT") == "<@U0ALICE> ip 1.2.3.4")
    }

    /// A `message_changed` event: alice's message `ts` now reads `text`, and read `previous`.
    static func edit(_ ts: String, to text: String, from previous: String, at editedAt: String,
                     user: String = "U0ALICE", thread: String? = nil) -> [String: Any]
    {
        var event = Harness.message("", ts: editedAt)
        event["subtype"] = "message_changed"
        event["hidden"] = true
        event["user"] = nil
        var message: [String: Any] = ["type": "message", "user": user, "text": text, "ts": ts,
                                      "edited": ["user": user, "ts": editedAt]]
        message["thread_ts"] = thread
        event["message"] = message
        event["previous_message"] = ["type": "message", "user": user, "text": previous, "ts": ts]
        return event
    }

    @Test("An edit arrives as the message it edits, with its new text and the text before, once; one that leaves the text as it was (a link's preview) and a bot's do not")
    func edits() async throws {
        let slack = try await Harness()
        let original = "1700000000.000100"
        let edit = Self.edit(original, to: "seen 203.0.113.7 and 198.51.100.7", from: "seen 203.0.113.7",
                             at: "1700000005.000100", thread: "1699999999.000100")
        for id in ["EvEDIT", "EvEDIT"] {
            #expect(try await slack.post("/slack/events", Harness.callback(edit, id: id)).status == 200)
        }
        #expect(try await slack.post("/slack/events", Harness.callback(
            Self.edit(original, to: "seen 203.0.113.7 and 198.51.100.8", from: "seen 203.0.113.7 and 198.51.100.7",
                      at: "1700000006.000100"), id: "EvEDIT2")).status == 200)
        let unfurled = Self.edit(original, to: "seen 203.0.113.7", from: "seen 203.0.113.7", at: "1700000007.000100")
        var bots = Self.edit("1700000001.000100", to: "alert 2", from: "alert", at: "1700000008.000100", user: "U0OTHERBOT")
        var botMessage = bots["message"] as? [String: Any] ?? [:]
        botMessage["bot_id"] = "B0OTHER"
        bots["message"] = botMessage
        for (index, event) in [unfurled, bots].enumerated() {
            #expect(try await slack.post("/slack/events", Harness.callback(event, id: "EvSAME\(index)")).status == 200)
        }
        #expect(try await Self.delivered(slack, besides: 2)
            == ["seen 203.0.113.7 and 198.51.100.7", "seen 203.0.113.7 and 198.51.100.8"])
        let edited = try #require(slack.inbox.messages.first { $0.text == "seen 203.0.113.7 and 198.51.100.7" })
        #expect(edited.id == original && edited.thread == "1699999999.000100")
        #expect(edited.edit == ChatEdit(previousText: "seen 203.0.113.7"))
        #expect(edited.at == Date(timeIntervalSince1970: 1_700_000_005.0001), "when it was edited")
    }

    @Test("The bot's own messages, other bots', deletions and joins are not delivered")
    func skipped() async throws {
        let slack = try await Harness()
        var bots = Harness.message("alert!", user: "U0OTHERBOT", ts: "1700000003.000001")
        bots["bot_id"] = "B0OTHER"
        var deleted = Harness.message("", ts: "1700000003.000003")
        deleted["subtype"] = "message_deleted"
        var join = Harness.message("<@U0BOB> has joined the channel", user: "U0BOB", ts: "1700000003.000004")
        join["subtype"] = "channel_join"
        var group = Harness.message("hi all", channel: "G0MPIM", type: "mpim", ts: "1700000003.000005")
        group["channel_type"] = "mpim"
        let reaction: [String: Any] = ["type": "reaction_added", "user": "U0ALICE", "reaction": "eyes",
                                       "item": ["type": "message", "channel": "C0SOC", "ts": "1700000000.000100"]]
        for (index, event) in [Harness.message("ip 1.2.3.4", user: "UBOT"), bots, deleted, join, group, reaction]
            .enumerated()
        {
            #expect(try await slack.post("/slack/events", Harness.callback(event, id: "EvSKIP\(index)")).status == 200)
        }
        #expect(try await Self.delivered(slack, besides: 0) == [])
    }

    @Test("The 200 goes out once the bot has the message, so a crash after it loses nothing")
    func answersOnceDelivered() async throws {
        let slack = try await Harness()
        slack.inbox.hold()
        let answered = Mutex<UInt?>(nil)
        let posting = Task {
            let status = try await slack.post("/slack/events", Harness.callback(Harness.message("ip 1.2.3.4"), id: "Ev09")).status
            answered.withLock { $0 = status }
        }
        _ = try await RecordingInbox.eventually { slack.inbox.waiting == 1 ? true : nil }
        try await Task.sleep(for: .milliseconds(300))
        #expect(answered.withLock { $0 } == nil, "answered before the bot had the message")
        slack.inbox.release()
        try await posting.value
        #expect(answered.withLock { $0 } == 200)
        #expect(slack.inbox.messages.map(\.text) == ["ip 1.2.3.4"])
    }

    @Test("A slow bot: the 200 still goes out at the deadline, within Slack's 3 seconds, and the delivery goes on")
    func answersAtTheDeadline() async throws {
        let slack = try await Harness(answerWithin: .milliseconds(400))
        slack.inbox.hold()
        let start = ContinuousClock.now
        let answer = try await slack.post("/slack/events", Harness.callback(Harness.message("ip 1.2.3.4"), id: "Ev10"))
        #expect(answer.status == 200)
        #expect(ContinuousClock.now - start >= .milliseconds(400))
        // Slack's own deadline, the contract: the adapter's is 400 ms here (2 s by default) so
        // that a loaded machine has seconds to spare before it.
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect(slack.inbox.waiting == 1 && slack.inbox.messages.isEmpty)
        slack.inbox.release()
        #expect(try await slack.inbox.messages(count: 1).map(\.text) == ["ip 1.2.3.4"])
    }

    @Test("Slow deliveries: each event's 200 goes out at its own deadline, none before it")
    func eachAtItsDeadline() async throws {
        let slack = try await Harness(answerWithin: .milliseconds(400))
        slack.inbox.hold()
        let clock = ContinuousClock()
        let waits = try await withThrowingTaskGroup(of: Duration.self) { group in
            for index in 0..<3 {
                group.addTask {
                    try await Task.sleep(for: .milliseconds(150 * index))
                    let event = Harness.message("ip 1.2.3.\(index)", ts: "1700000005.00000\(index)")
                    let sent = clock.now
                    #expect(try await slack.post("/slack/events", Harness.callback(event, id: "EvSLOW\(index)")).status == 200)
                    return clock.now - sent
                }
            }
            return try await group.reduce(into: [Duration]()) { $0.append($1) }
        }
        // Below Slack's 3 seconds, as in answersAtTheDeadline.
        #expect(waits.count == 3 && waits.allSatisfy { $0 >= .milliseconds(400) && $0 < .seconds(3) }, "\(waits)")
        slack.inbox.release()
        #expect(try await slack.inbox.messages(count: 3).count == 3)
    }

    @Test("Before run has checked the token, events are refused with a 503 for Slack to try again")
    func notConnected() async throws {
        let slack = try await Harness(connect: false)
        let body = Harness.callback(Harness.message("ip 1.2.3.4"), id: "Ev10")
        #expect(try await slack.post("/slack/events", body).status == 503)
        try await slack.adapter.run(delivering: slack.inbox)
        #expect(try await slack.post("/slack/events", body, headers: [("X-Slack-Retry-Num", "1")]).status == 200)
        #expect(try await slack.inbox.messages(count: 1).map(\.text) == ["ip 1.2.3.4"])
    }

    @Test("Requests pipelined on one connection are answered in their order, events and the other routes alike; Connection: close is kept")
    func pipelined() async throws {
        let slack = try await Harness()
        let refused = Harness.rawPost("/slack/interactions", "payload=%7B%7D", secret: "guessed")
        let started = ContinuousClock.now
        let answers = try await slack.exchange(
            refused + Harness.rawPost("/slack/events", #"{"challenge":"c0ffee","type":"url_verification"}"#) + refused
                + Harness.rawPost("/slack/events", Harness.callback(Harness.message("ip 1.2.3.4"), id: "EvPIPE"),
                                  close: true))
        let responses = answers.components(separatedBy: "HTTP/1.1 ").dropFirst()
        #expect(responses.map { String($0.prefix(3)) } == ["401", "200", "401", "200"], "\(answers)")
        #expect(responses.dropFirst().first?.hasSuffix(#"{"challenge":"c0ffee"}"#) == true)
        #expect(ContinuousClock.now - started < .seconds(5), "the connection was not closed after the last answer")
        #expect(try await slack.inbox.messages(count: 1).map(\.text) == ["ip 1.2.3.4"])
    }

    @Test("A graceful stop waits for the event being answered: its 200 goes out before the connection closes")
    func gracefulStop() async throws {
        let slack = try await Harness()
        slack.inbox.hold()
        let posting = Task {
            try await slack.post("/slack/events", Harness.callback(Harness.message("ip 1.2.3.4"), id: "EvSTOP")).status
        }
        _ = try await RecordingInbox.eventually { slack.inbox.waiting == 1 ? true : nil }
        await slack.stopServerGracefully()
        try await Task.sleep(for: .milliseconds(200))
        slack.inbox.release()
        #expect(try await posting.value == 200)
    }

    @Test("A body over 1 MiB, to events, interactions or commands, is a 413 that says why, and nothing is delivered")
    func tooLarge() async throws {
        let slack = try await Harness()
        let huge = Harness.callback(Harness.message(String(repeating: "a", count: SlackRoutes.maximumBody)), id: "EvHUGE")
        for path in ["/slack/events", "/slack/interactions", "/slack/commands"] {
            let answer = try await slack.post(path, huge)
            #expect(answer.status == 413, "\(path)")
            #expect(answer.body.contains("a request of Slack's is at most 1048576 bytes"), "\(path): \(answer.body)")
        }
        #expect(try await Self.delivered(slack, besides: 0) == [])
    }

    @Test("A click on a question's button becomes a ChatAnswer; other apps' actions do not")
    func interaction() async throws {
        let slack = try await Harness()
        let blocks = SlackQuestionBlocks.blocks(text: "Block 203.0.113.7?",
                                                question: ChatQuestion(id: "q-7", choices: ["approve", "deny"]))
        guard case .actions(let buttons) = blocks.last else {
            Issue.record("no buttons")
            return
        }
        let payload: [String: Any] = [
            "type": "block_actions",
            "user": ["id": "U0BOB", "username": "bob", "name": "bob", "team_id": "T0EXAMPLE"],
            "api_app_id": "A0APP", "token": "XXYYZZ", "trigger_id": "123.456.abc",
            "container": ["type": "message", "message_ts": "1700000100.000200", "channel_id": "G0OPS",
                          "is_ephemeral": false],
            "channel": ["id": "G0OPS", "name": "secret-ops"],
            "message": ["type": "message", "ts": "1700000100.000200", "text": "Block 203.0.113.7?"],
            "actions": [
                ["type": "button", "action_id": "another.app.button", "block_id": "x", "value": #"["q-7","approve"]"#,
                 "action_ts": "1700000101.000001"],
                ["type": "button", "action_id": buttons[1].actionID, "block_id": "y", "value": buttons[1].value,
                 "text": ["type": "plain_text", "text": "deny"], "action_ts": "1700000101.000002"],
            ],
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: payload), as: UTF8.self)
        let answer = try await slack.post("/slack/interactions", "payload=" + SlackWebAPI.formEncoded(json),
                                          contentType: "application/x-www-form-urlencoded")
        #expect(answer.status == 200)
        #expect(answer.body.isEmpty)
        let answers = try await slack.inbox.answers(count: 1)
        #expect(answers == [ChatAnswer(question: "q-7", choice: "deny", user: ChatUser(id: "U0BOB", name: "bob"),
                                       channel: ChatChannel(id: "G0OPS", name: "secret-ops"),
                                       message: ChatMessageRef(channel: "G0OPS", id: "1700000100.000200"))])
        try await Task.sleep(for: .milliseconds(100))
        #expect(slack.inbox.answers.count == 1)
    }

    /// A slash command's form, as Slack sends it (https://api.slack.com/interactivity/slash-commands).
    static func command(_ text: String, responseURL: String, user: String = "U0ALICE") -> String {
        [("token", "gIkuvaNzQIHg97ATvDxqgjtO"), ("team_id", "T0EXAMPLE"), ("team_domain", "example"),
         ("channel_id", "C0SOC"), ("channel_name", "soc"), ("user_id", user), ("user_name", "alice"),
         ("command", "/automator"), ("text", text), ("api_app_id", "A0APP"), ("is_enterprise_install", "false"),
         ("response_url", responseURL), ("trigger_id", "13345224609.738474920.8088930838d88f008e0")]
            .map { SlackWebAPI.formEncoded($0) + "=" + SlackWebAPI.formEncoded($1) }.joined(separator: "&")
    }

    @Test("A slash command arrives as a direct message from its user; the answers go to its response_url, for that person alone")
    func slashCommand() async throws {
        let slack = try await Harness()
        let form = "application/x-www-form-urlencoded"
        let answer = try await slack.post("/slack/commands", Self.command("ip 203.0.113.7", responseURL: slack.fake.responseURL("c1")),
                                          contentType: form)
        #expect(answer.status == 200 && answer.body.isEmpty)
        let message = try #require(try await slack.inbox.messages(count: 1).first)
        #expect(message.channel.isDirect && message.channel.id.hasPrefix("slash:") && message.channel.name == "soc")
        #expect(message.user == ChatUser(id: "U0ALICE", name: "alice"))
        #expect(message.text == "ip 203.0.113.7")

        let posted = try await slack.adapter.post(ChatPost(channel: message.channel.id, text: "203.0.113.7: malicious"))
        try await slack.adapter.react(to: posted, with: "rotating_light")
        #expect(slack.fake.commandAnswers.map(\.command) == ["c1"])
        #expect(slack.fake.commandAnswers.first?.fields == ["text": "203.0.113.7: malicious", "response_type": "ephemeral"])
        #expect(slack.fake.commandAnswers.first?.authorization == nil, "the bot token goes to the Web API alone")
        #expect(slack.fake.calls("chat.postMessage").isEmpty && slack.fake.calls("reactions.add").isEmpty)
        await #expect(throws: ChatError.self) {
            try await slack.adapter.upload(to: message.channel.id, name: "a.txt", data: [1], comment: nil)
        }

        // No text asks for help; forged, incomplete or pointed elsewhere, nothing is delivered.
        #expect(try await slack.post("/slack/commands", Self.command(" ", responseURL: slack.fake.responseURL("c2")),
                                     contentType: form).status == 200)
        #expect(try await slack.inbox.messages(count: 2).last?.text == "help")
        #expect(try await slack.post("/slack/commands", Self.command("ip 1.2.3.4", responseURL: slack.fake.responseURL("c3")),
                                     contentType: form, secret: "guessed").status == 401)
        #expect(try await slack.post("/slack/commands", "command=%2Fautomator&text=ip", contentType: form).status == 400)
        #expect(try await slack.post("/slack/commands", Self.command("ip 1.2.3.4", responseURL: "http://169.254.169.254/latest"),
                                     contentType: form).status == 400)
        try await Task.sleep(for: .milliseconds(100))
        #expect(slack.inbox.messages.count == 2)
    }
}
