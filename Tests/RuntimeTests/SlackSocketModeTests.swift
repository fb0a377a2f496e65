@testable import AutomatorRuntime
import Foundation
import Logging
import Testing
import TestSupport

@Suite("Slack over Socket Mode: a WebSocket the bot opens, envelopes acknowledged once the bot has them",
       .timeLimit(.minutes(1)))
struct SlackSocketModeTests {
    /// The adapter on Socket Mode alone (no signing secret), over a fake Slack and its socket end.
    struct Desk {
        let fake: FakeSlack
        let socket: FakeSlackSocket
        let adapter: SlackAdapter
        let inbox = RecordingInbox()

        init(appToken: String = FakeSlack.appToken) async throws {
            fake = try await FakeSlack()
            let socket = try await FakeSlackSocket()
            self.socket = socket
            fake.state.withLock { $0.socketURL = { socket.url } }
            adapter = SlackAdapter(configuration: SlackConfiguration(botToken: FakeSlack.token, appToken: appToken,
                                                                     apiURL: fake.apiURL),
                                   conversations: MemoryCommandConversations(), logger: SlackHarness.logger)
        }

        /// An `events_api` envelope around `callback`, as Slack sends it.
        static func events(_ id: String, _ callback: String, retry: Int = 0) -> String {
            #"{"envelope_id":"\#(id)","payload":\#(callback),"type":"events_api","accepts_response_payload":false,"#
                + #""retry_attempt":\#(retry),"retry_reason":"\#(retry > 0 ? "timeout" : "")"}"#
        }

        /// Waits until the client has acknowledged `id`.
        func acknowledged(_ id: String) async throws {
            _ = try await RecordingInbox.eventually { socket.received.contains(#"{"envelope_id":"\#(id)"}"#) ? true : nil }
        }
    }

    @Test("Messages, Slack's retries and button clicks arrive; a new connection when Slack asks for one")
    func roundTrip() async throws {
        let desk = try await Desk()
        let running = Task { try await desk.adapter.run(delivering: desk.inbox) }
        defer { running.cancel() }
        _ = try await RecordingInbox.eventually { desk.socket.connections == 1 ? true : nil }

        let message = SlackHarness.callback(SlackHarness.message("seen 203.0.113.7 on web-1?"), id: "Ev0001")
        try await desk.socket.send(Desk.events("env-1", message))
        try await desk.acknowledged("env-1")
        let delivered = try await desk.inbox.messages(count: 1)
        #expect(delivered.map(\.text) == ["seen 203.0.113.7 on web-1?"])
        #expect(delivered.first?.channel == ChatChannel(id: "C0SOC", name: "soc"))
        #expect(delivered.first?.user == ChatUser(id: "U0ALICE", name: "alice"))

        // Slack sends an envelope again when its acknowledgement is late: acknowledged, not delivered again.
        try await desk.socket.send(Desk.events("env-2", message, retry: 1))
        try await desk.acknowledged("env-2")

        // A long envelope in fragments, and a ping, as a server may send them.
        let long = "IOCs: " + (1...400).map { "198.51.100.\($0 % 250)" }.joined(separator: " ")
        try await desk.socket.ping()
        try await desk.socket.sendFragmented(
            Desk.events("env-3", SlackHarness.callback(SlackHarness.message(long, ts: "1700000001.000100"), id: "Ev0002")),
            size: 1000)
        try await desk.acknowledged("env-3")
        #expect(try await desk.inbox.messages(count: 2).last?.text == long)

        // A click on a question's button.
        let interaction = """
            {"type":"block_actions","user":{"id":"U0BOB","username":"bob"},"api_app_id":"A0APP",\
            "container":{"type":"message","message_ts":"1700000100.000200","channel_id":"C0SOC"},\
            "channel":{"id":"C0SOC","name":"soc"},\
            "actions":[{"type":"button","action_id":"automator.answer.0","block_id":"b","value":"[\\"q-7\\",\\"approve\\"]"}]}
            """
        try await desk.socket.send(#"{"envelope_id":"env-4","payload":\#(interaction),"type":"interactive"}"#)
        try await desk.acknowledged("env-4")
        let answers = try await desk.inbox.answers(count: 1)
        #expect(answers.map(\.choice) == ["approve"] && answers.first?.question == "q-7", "\(answers)")

        // Something that is not Slack's is ignored, and the connection goes on.
        try await desk.socket.send("not json at all")
        try await desk.socket.send(#"{"type":"slash_commands","envelope_id":"env-5","payload":{"command":"/x"}}"#)
        try await desk.acknowledged("env-5")

        // Slack asks for a new connection: the adapter opens one and takes envelopes on it.
        try await desk.socket.send(#"{"type":"disconnect","reason":"refresh_requested","debug_info":{"host":"applink-1"}}"#)
        _ = try await RecordingInbox.eventually { desk.socket.connections == 2 ? true : nil }
        #expect(desk.socket.closedByClient == 1, "the old connection is closed")
        try await desk.socket.send(Desk.events("env-6", SlackHarness.callback(
            SlackHarness.message("and 203.0.113.8", ts: "1700000002.000100"), id: "Ev0003")))
        try await desk.acknowledged("env-6")
        #expect(try await desk.inbox.messages(count: 3).map(\.text).last == "and 203.0.113.8")
        #expect(desk.inbox.messages.count == 3, "the retry was not delivered")
        #expect(desk.fake.calls("apps.connections.open").count == 2)

        // Stopping closes the connection as the protocol says, with a closing frame.
        running.cancel()
        _ = try await RecordingInbox.eventually { desk.socket.closedByClient == 2 ? true : nil }
    }

    @Test("A refused app token says what to set; without a signing secret the HTTP endpoint refuses everything")
    func refusals() async throws {
        let desk = try await Desk(appToken: "xapp-1-wrong")
        do {
            try await desk.adapter.run(delivering: desk.inbox)
            Issue.record("a refused app token did not stop run")
        } catch let error as ChatError {
            #expect(error.kind == .unauthorized)
            #expect(error.description.contains("chat.slack.app_token must be an app-level token"), "\(error)")
        }
        #expect(desk.socket.connections == 0)

        let body = Array(SlackHarness.callback(SlackHarness.message("hello"), id: "Ev9").utf8)
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let answer = await desk.adapter.handleEvents(
            SlackHTTPRequest(body: body, timestamp: timestamp,
                             signature: SlackSignature.compute(body: body, timestamp: timestamp, secret: "anything")),
            delivering: desk.inbox)
        #expect(answer.status == 401)
        #expect(desk.inbox.messages.isEmpty)
    }

    @Test("The configuration takes an app token instead of (or with) a signing secret, and names what is missing")
    func configuration() throws {
        let folder = try ScratchFolder()
        func read(_ slack: String) throws -> ChatConfiguration? {
            let path = folder.path + "/automator.yml"
            try "chat:\n  slack:\n\(slack)".write(toFile: path, atomically: true, encoding: .utf8)
            return try ChatConfiguration(file: path)
        }
        let socket = try #require(try read("    bot_token: xoxb-1\n    app_token: xapp-1-A-2\n")?.slack)
        #expect(socket.appToken == "xapp-1-A-2" && socket.signingSecret == nil)
        #expect(throws: ConfigurationError.self) { try read("    bot_token: xoxb-1\n") }
        do { _ = try read("    bot_token: xoxb-1\n    app_token: xoxb-1\n") } catch {
            #expect("\(error)".contains("an app-level token (xapp-"), "\(error)")
        }
        do { _ = try read("    bot_token: xoxb-1\n") } catch {
            #expect("\(error)".contains("give signing_secret"), "\(error)")
        }
        // A variable set to "" would let anyone sign events, commands and clicks.
        for secret in ["\"\"", "short"] {
            let refused = #expect(throws: ConfigurationError.self) { try read("    bot_token: xoxb-1\n    signing_secret: \(secret)\n") }
            #expect("\(refused.map { "\($0)" } ?? "")".contains("a shorter one lets anyone sign requests"), "\(secret)")
        }
        #expect(try read("    bot_token: xoxb-1\n    signing_secret: 8f742231b10e8888abcd99yyyzzz85a5\n")?.slack?.signingSecret
            == "8f742231b10e8888abcd99yyyzzz85a5")
    }
}
