@testable import AutomatorRuntime
import AsyncHTTPClient
import Foundation
import Synchronization
import Logging
import NIOCore
import TestSupport
import Testing

@Suite("Slack: the Web API", .timeLimit(.minutes(1)))
struct SlackWebAPITests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func adapter(_ fake: FakeSlack, token: String = FakeSlack.token) -> SlackAdapter {
        SlackAdapter(configuration: SlackConfiguration(signingSecret: FakeSlack.signingSecret, botToken: token,
                                                       apiURL: fake.apiURL),
                     conversations: MemoryCommandConversations(), logger: Self.logger)
    }

    static func chatError(_ body: () async throws -> Void) async -> ChatError? {
        do {
            try await body()
            return nil
        } catch {
            return error as? ChatError
        }
    }

    @Test("run learns the bot's user with auth.test, sending the token as a bearer token")
    func connects() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake)
        #expect(adapter.me == nil)
        try await adapter.run(delivering: RecordingInbox())
        #expect(adapter.me == ChatUser(id: "UBOT", name: "automator"))
        #expect(adapter.network == "slack")
    }

    @Test("A refused token is .unauthorized, says what to check, and does not show the token")
    func refusedToken() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake, token: "xoxb-revoked-9999")
        let error = try #require(await Self.chatError { try await adapter.run(delivering: RecordingInbox()) })
        #expect(error.kind == .unauthorized)
        #expect(error.description.contains("invalid_auth"))
        #expect(error.description.contains("check the bot token"))
        #expect(!error.description.contains("xoxb-revoked-9999"))
        #expect(adapter.me == nil)
    }

    @Test("channels follows conversations.list's cursor over public and private channels; names then come from the cache")
    func channels() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake)
        let channels = try await adapter.channels()
        #expect(channels == [ChatChannel(id: "C0SOC", name: "soc"), ChatChannel(id: "G0OPS", name: "secret-ops")])
        let pages = fake.calls("conversations.list")
        #expect(pages.map { $0.arguments["cursor"] } == [nil, "dGVhbTpDMDYxRkE1UEI="])
        #expect(pages.allSatisfy { $0.arguments["types"] == "public_channel,private_channel" })
        #expect(pages.allSatisfy { $0.contentType == "application/x-www-form-urlencoded" })

        #expect(try await adapter.channels(named: "#secret-ops") == [ChatChannel(id: "G0OPS", name: "secret-ops")])
        #expect(try await adapter.channels(named: "SOC") == [ChatChannel(id: "C0SOC", name: "soc")])
        #expect(fake.calls("conversations.list").count == 2)
        #expect(fake.calls("conversations.info").isEmpty)
    }

    @Test("channels(named:) takes an id (conversations.info) or a name; one the bot cannot see gives none")
    func channelLookups() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake)
        #expect(try await adapter.channels(named: "C0SOC") == [ChatChannel(id: "C0SOC", name: "soc")])
        #expect(fake.calls("conversations.info").map { $0.arguments["channel"] } == ["C0SOC"])
        #expect(try await adapter.channels(named: "D0ALICE") == [ChatChannel(id: "D0ALICE", name: "alice", isDirect: true)])
        #expect(try await adapter.channels(named: "C0GONE").isEmpty)
        #expect(fake.calls("conversations.list").isEmpty)
        #expect(try await adapter.channels(named: "random").isEmpty)
        #expect(fake.calls("conversations.list").count == 2)
    }

    @Test("postingRefusal reads the channel fresh: a read-only or archived one says why the bot may not post")
    func postingRefusals() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake)
        #expect(try await adapter.postingRefusal(in: ChatChannel(id: "C0SOC", name: "soc")) == nil)
        #expect(try await adapter.postingRefusal(in: ChatChannel(id: "C0NEWS", name: "news"))?
            .contains("posting permissions let only some members post") == true)
        #expect(try await adapter.postingRefusal(in: ChatChannel(id: "C0OLD", name: "old-soc")) == "it is archived: unarchive it first")
        await #expect(throws: ChatError.self) { _ = try await adapter.post(ChatPost(channel: "C0NEWS", text: "hello")) }
    }

    @Test("message reads one by its ts with conversations.replies, with its user and files; an unknown one is nil")
    func messageByID() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake)
        try await adapter.run(delivering: RecordingInbox())
        let soc = ChatChannel(id: "C0SOC", name: "soc")
        let message = try #require(try await adapter.message(FakeSlack.history, in: soc))
        #expect(message.id == FakeSlack.history && message.channel == soc && message.text == "found on web-1")
        #expect(message.user == ChatUser(id: "U0BOB", name: "bob") && message.thread == nil)
        #expect(message.files.map(\.name) == ["hidden.csv"])
        #expect(fake.calls("conversations.replies").map { $0.arguments["limit"] } == ["1"])
        #expect(try await adapter.message("1700000099.000100", in: soc) == nil)
    }

    @Test("users.info names users, once per few minutes; an unknown user is nil")
    func users() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake)
        #expect(try await adapter.user("U0ALICE") == ChatUser(id: "U0ALICE", name: "alice"))
        #expect(try await adapter.user("U0ALICE") == ChatUser(id: "U0ALICE", name: "alice"))
        #expect(fake.calls("users.info").count == 1)
        #expect(try await adapter.user("U0NOBODY") == nil)
    }

    @Test("join and leave name the channel; a channel that does not exist is .notFound")
    func joinAndLeave() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake)
        try await adapter.join(ChatChannel(id: "C0SOC", name: "soc"))
        try await adapter.leave(ChatChannel(id: "C0SOC", name: "soc"))
        #expect(fake.calls("conversations.join").map { $0.arguments["channel"] } == ["C0SOC"])
        #expect(fake.calls("conversations.leave").map { $0.arguments["channel"] } == ["C0SOC"])
        let error = await Self.chatError { try await adapter.join(ChatChannel(id: "C0GONE", name: "gone")) }
        #expect(error?.kind == .notFound)
        #expect(error?.description.contains("channel_not_found") == true)
    }

    @Test("post sends JSON with thread_ts, never unfurled; a question's choices become buttons carrying the question and the choice")
    func post() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake)
        let plain = try await adapter.post(ChatPost(channel: "C0SOC", text: "hello", thread: "1700000000.000100"))
        #expect(plain == ChatMessageRef(channel: "C0SOC", id: "1700000100.000200"))
        let question = ChatQuestion(id: "q-7", choices: ["approve", "deny \"now\""])
        _ = try await adapter.post(ChatPost(channel: "C0SOC", text: "Block 203.0.113.7?", question: question))

        let calls = fake.calls("chat.postMessage")
        try #require(calls.count == 2)
        #expect(calls[0].contentType.hasPrefix("application/json"))
        let first = try #require(try JSONSerialization.jsonObject(with: Data(calls[0].body.utf8)) as? [String: Any])
        #expect(first["channel"] as? String == "C0SOC")
        #expect(first["text"] as? String == "hello")
        #expect(first["thread_ts"] as? String == "1700000000.000100")
        #expect(first["blocks"] == nil)
        #expect(first["unfurl_links"] as? Bool == false && first["unfurl_media"] as? Bool == false,
                "Slack would fetch the attacker's URL the bot names")

        let second = try #require(try JSONSerialization.jsonObject(with: Data(calls[1].body.utf8)) as? [String: Any])
        #expect(second["thread_ts"] == nil)
        #expect(second["unfurl_links"] as? Bool == false && second["unfurl_media"] as? Bool == false)
        #expect(second["text"] as? String == "Block 203.0.113.7?")
        let blocks = try #require(second["blocks"] as? [[String: Any]])
        try #require(blocks.count == 2)
        #expect(blocks[0]["type"] as? String == "section")
        #expect((blocks[0]["text"] as? [String: String]) == ["type": "mrkdwn", "text": "Block 203.0.113.7?"])
        #expect(blocks[1]["type"] as? String == "actions")
        let buttons = try #require(blocks[1]["elements"] as? [[String: Any]])
        #expect(buttons.map { ($0["text"] as? [String: String])?["text"] } == ["approve", "deny \"now\""])
        #expect(buttons.allSatisfy { $0["type"] as? String == "button" })
        let answers = buttons.map { SlackQuestionBlocks.answer(actionID: $0["action_id"] as? String ?? "",
                                                               value: $0["value"] as? String) }
        #expect(answers.map { $0?.question } == ["q-7", "q-7"])
        #expect(answers.map { $0?.choice } == ["approve", "deny \"now\""])
    }

    @Test("A question with a long text and many choices stays within Block Kit's limits")
    func largeQuestion() {
        let blocks = SlackQuestionBlocks.blocks(text: String(repeating: "x", count: 6500),
                                                question: ChatQuestion(id: "q", choices: (1...30).map { "choice \($0)" }))
        guard blocks.count == 5, case .section(let first) = blocks[0], case .section(let last) = blocks[2],
              case .actions(let row) = blocks[3], case .actions(let rest) = blocks[4]
        else {
            Issue.record("unexpected blocks: \(blocks)")
            return
        }
        #expect(first.count == 3000 && last.count == 500)
        #expect(row.count == 25 && rest.count == 5)
        #expect(Set((row + rest).map(\.actionID)).count == 30)
    }

    @Test("The bot's text shows Slack's markup as written: an alert's <!channel>, <@U…> or <url|label> pings, mentions and links nobody")
    func markupShownAsWritten() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake)
        let hostile = "INC-7 <!channel> reset <hxxps://evil[.]example|your password> for <@U0ALICE> & co, a &lt; b"
        let shown = "INC-7 &lt;!channel&gt; reset &lt;hxxps://evil[.]example|your password&gt; for &lt;@U0ALICE&gt; & co, a &lt; b"
        _ = try await adapter.post(ChatPost(channel: "C0SOC", text: hostile))
        _ = try await adapter.post(ChatPost(channel: "C0SOC", text: hostile, question: ChatQuestion(id: "q-1", choices: ["<ok>"])))
        try await adapter.upload(to: "C0SOC", name: "a.txt", data: [1], comment: hostile)
        // A mention the configuration gave (an escalation's) notifies; the text after it still does not.
        _ = try await adapter.post(ChatPost(channel: "C0SOC", text: hostile, mentions: ["<!subteam^S0LEADS>", "<@U0LEAD>"]))

        let posts = try fake.calls("chat.postMessage").map {
            try #require(try JSONSerialization.jsonObject(with: Data($0.body.utf8)) as? [String: Any])
        }
        try #require(posts.count == 3)
        #expect(posts.map { $0["text"] as? String } == [shown, shown, "<!subteam^S0LEADS> <@U0LEAD> " + shown])
        let blocks = try #require(posts[1]["blocks"] as? [[String: Any]])
        #expect((blocks.first?["text"] as? [String: String])?["text"] == shown)
        let button = (blocks.last?["elements"] as? [[String: Any]])?.first?["text"] as? [String: String]
        #expect(button?["text"] == "<ok>", "a button's label is plain text, shown as written already")
        #expect(fake.calls("files.completeUploadExternal").first?.arguments["initial_comment"] == shown)
    }

    @Test("A long question's text is cut into sections between escapes, never inside one")
    func sectionsKeepEscapes() {
        let text = String(repeating: "x", count: 2998) + "&lt;b"
        let sections = SlackQuestionBlocks.blocks(text: text, question: ChatQuestion(id: "q", choices: ["ok"])).compactMap {
            if case .section(let text) = $0 { text } else { nil }
        }
        #expect(sections == [String(repeating: "x", count: 2998), "&lt;b"])
    }

    @Test("react adds the emoji by name; a reaction already there is fine; a missing scope says which")
    func react() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake)
        let message = ChatMessageRef(channel: "C0SOC", id: "1700000000.000100")
        try await adapter.react(to: message, with: ":eyes:")
        try await adapter.react(to: message, with: "white_check_mark")
        #expect(fake.calls("reactions.add").map { $0.arguments } == [
            ["channel": "C0SOC", "timestamp": "1700000000.000100", "name": "eyes"],
            ["channel": "C0SOC", "timestamp": "1700000000.000100", "name": "white_check_mark"],
        ])
        let error = await Self.chatError {
            try await adapter.react(to: ChatMessageRef(channel: "G0OPS", id: "1.2"), with: "eyes")
        }
        #expect(error?.kind == .unavailable)
        #expect(error?.description.contains("missing_scope") == true)
        #expect(error?.description.contains("reactions:write") == true)
    }

    @Test("upload asks for an upload URL, sends the bytes there without the token, then completes the upload in the channel")
    func upload() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake)
        let data = Array("ioc,verdict\n203.0.113.7,malicious\n".utf8)
        try await adapter.upload(to: "C0SOC", name: "iocs.csv", data: data, comment: "the IOCs")

        #expect(fake.calls("files.getUploadURLExternal").map { $0.arguments }
            == [["filename": "iocs.csv", "length": String(data.count)]])
        #expect(fake.state.withLock { $0.uploads } == ["F0UP\(data.count)": data])
        #expect(fake.state.withLock { $0.uploadAuthorizations } == [nil])
        let complete = try #require(fake.calls("files.completeUploadExternal").first)
        #expect(complete.arguments["channel_id"] == "C0SOC")
        #expect(complete.arguments["initial_comment"] == "the IOCs")
        let files = try JSONSerialization.jsonObject(with: Data(complete.arguments["files"]!.utf8)) as? [[String: String]]
        #expect(files == [["id": "F0UP\(data.count)", "title": "iocs.csv"]])
    }

    @Test("download fetches url_private with the token, and refuses a file past the limit")
    func download() async throws {
        let fake = try await FakeSlack()
        let adapter = Self.adapter(fake)
        let report = ChatFile(id: "F0REPORT", name: "report.csv", url: "\(fake.url)/files/F0REPORT/report.csv")
        #expect(try await adapter.download(report, limit: 1024) == FakeSlack.report)
        #expect(fake.state.withLock { $0.downloads } == 1)

        // The size Slack gave is over the limit: no request at all.
        let announced = ChatFile(id: "F0LARGE", name: "dump.bin", size: FakeSlack.large.count,
                                 url: "\(fake.url)/files/F0LARGE/dump.bin")
        #expect(await Self.chatError { _ = try await adapter.download(announced, limit: 1024) }?.kind == .tooLarge)
        #expect(fake.state.withLock { $0.downloads } == 1)
        // No size given: the body is read up to the limit, and no further.
        var unannounced = announced
        unannounced.size = nil
        #expect(await Self.chatError { _ = try await adapter.download(unannounced, limit: 1024) }?.kind == .tooLarge)
        #expect(try await adapter.download(unannounced, limit: FakeSlack.large.count) == FakeSlack.large)
    }

    @Test("The token goes to Slack's hosts only: a file URL elsewhere is refused without a request")
    func tokenStaysWithSlack() async throws {
        let fake = try await FakeSlack()
        let other = try await FakeSlack()
        let adapter = Self.adapter(fake)
        for url in ["\(other.url)/files/F0REPORT/report.csv", "http://files.slack.com/files-pri/T0/report.csv",
                    "https://slack.com.example.org/report.csv", "not a url"]
        {
            let error = await Self.chatError {
                _ = try await adapter.download(ChatFile(id: "F0", name: "report.csv", url: url), limit: 1024)
            }
            #expect(error?.kind == .unavailable)
            #expect(error?.description.contains("the bot token goes to Slack only") == true)
        }
        #expect(other.state.withLock { $0.downloads } == 0)
        let carries = SlackWebAPI(configuration: SlackConfiguration(signingSecret: "", botToken: ""),
                                  clients: SlackWebAPI.sharedClients, logger: Self.logger).carriesToken
        #expect(carries("https://files.slack.com/files-pri/T0-F0/report.csv"))
        #expect(!carries("https://evilslack.com/files-pri/T0-F0/report.csv"))
    }

    /// The Web API on `fake`, with its `Retry-After` waits recorded in `waits` rather than slept:
    /// a wait skipped or taken is told apart by what was asked for, not by a clock on a machine
    /// that may be slow.
    static func api(_ fake: FakeSlack, waits: Waits) -> SlackWebAPI {
        var api = SlackWebAPI(configuration: SlackConfiguration(signingSecret: FakeSlack.signingSecret, botToken: FakeSlack.token,
                                                                apiURL: fake.apiURL),
                              clients: SlackWebAPI.sharedClients, logger: Self.logger)
        api.sleep = { wait in waits.list.withLock { $0.append(wait) } }
        return api
    }

    final class Waits: Sendable {
        let list = Mutex<[Duration]>([])
        var all: [Duration] { list.withLock { $0 } }
    }

    @Test("A 429 is tried again after its Retry-After, then works")
    func rateLimited() async throws {
        let fake = try await FakeSlack()
        let waits = Waits()
        fake.state.withLock { $0.rateLimits["users.info"] = (count: 1, retryAfter: "1") }
        #expect(try await Self.api(fake, waits: waits).user("U0BOB").name == "bob")
        #expect(waits.all == [.seconds(1)])
        #expect(fake.calls("users.info").count == 2)
    }

    @Test("Rate limits that last are .unavailable: after a few tries, or at once for a long Retry-After")
    func rateLimitedForGood() async throws {
        let fake = try await FakeSlack()
        let waits = Waits()
        let api = Self.api(fake, waits: waits)
        fake.state.withLock { $0.rateLimits["conversations.join"] = (count: 100, retryAfter: "0") }
        let error = await Self.chatError { try await api.join("C0SOC") }
        #expect(error?.kind == .unavailable)
        #expect(error?.description.contains("rate-limits conversations.join") == true)
        #expect(fake.calls("conversations.join").count == SlackWebAPI.attempts)
        #expect(waits.all == Array(repeating: .zero, count: SlackWebAPI.attempts - 1), "a wait between two tries")

        fake.state.withLock { $0.rateLimits["conversations.leave"] = (count: 1, retryAfter: "3600") }
        #expect(await Self.chatError { try await api.leave("C0SOC") }?.kind == .unavailable)
        #expect(waits.all.count == SlackWebAPI.attempts - 1, "the hour is not waited")
        #expect(fake.calls("conversations.leave").count == 1)
    }

    @Test("An HTTP-date Retry-After is read as one: a date past is tried again at once, an hour ahead fails at once")
    func rateLimitedUntilDate() async throws {
        let fake = try await FakeSlack()
        let waits = Waits()
        let api = Self.api(fake, waits: waits)
        fake.state.withLock { $0.rateLimits["users.info"] = (count: 1, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT") }
        #expect(try await api.user("U0BOB").name == "bob")
        #expect(waits.all == [.zero], "not the second waited without a Retry-After")
        #expect(fake.calls("users.info").count == 2)

        let hour = IntegrationPauseTests.httpDate(Date().addingTimeInterval(3600))
        fake.state.withLock { $0.rateLimits["conversations.leave"] = (count: 1, retryAfter: hour) }
        let error = await Self.chatError { try await api.leave("C0SOC") }
        #expect(error?.description.contains("asked to wait 3600 s, 1 tries") == true, "\(String(describing: error))")
        #expect(waits.all == [.zero], "the hour is not waited")
        #expect(fake.calls("conversations.leave").count == 1)
    }

    @Test("Slack unreachable is .unavailable; the adapter uses the HTTP client it is given")
    func unreachable() async throws {
        let client = HTTPClients(configuration: HTTPClient.Configuration(timeout: .init(connect: .milliseconds(300))))
        let adapter = SlackAdapter(configuration: SlackConfiguration(signingSecret: "s", botToken: FakeSlack.token,
                                                                     apiURL: "http://127.0.0.1:1/api"),
                                   conversations: MemoryCommandConversations(), http: client, logger: Self.logger)
        let start = ContinuousClock.now
        let error = await Self.chatError { try await adapter.run(delivering: RecordingInbox()) }
        try await client.shutdown()
        #expect(error?.kind == .unavailable)
        #expect(error?.description.hasPrefix("cannot connect to Slack: Slack auth.test") == true)
        // The client given gives up at its 300 ms connect timeout, the shared one at its 10 s: half
        // of that tells them apart and holds on a loaded machine.
        #expect(ContinuousClock.now - start < .seconds(5))
    }
}
